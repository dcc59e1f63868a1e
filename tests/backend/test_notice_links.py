"""The one-time notice picture under a signed, expiring public URL (`/n/<token>/notice.png`): what the
gateway fetches without credentials to send the notice in chat — for an application, and for a
questionnaire's checklist before any application exists."""

import base64
import io
import json
import re
import time
from typing import Any

from aiohttp.test_utils import TestClient
from PIL import Image

from backend import notice
from backend.app import create_app
from backend.materials import tokens
from backend.settings import Settings
from backend.views.applications import CHECKLIST_MAX_AGE
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.test_lifecycle import INFO, answer_everything, draft, restaurant_package

OWNER = "wechat:oNoticeOwner0000000000001"
NEIGHBOUR = "web:notice-neighbour-1"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOTICE_URL = re.compile(r"^/n/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]{27})/notice\.png$")


async def fetch(client: TestClient[Any, Any], path: str) -> tuple[int, dict[str, str], bytes]:
    """GET as the gateway does for chat images: no service key, no applicant."""
    response = await client.get(path)
    return response.status, dict(response.headers), await response.read()


def token_of(url: str) -> str:
    match = NOTICE_URL.match(url)
    assert match, url
    return match[1]


def assert_notice_png(body: bytes) -> None:
    assert body[:8] == PNG_MAGIC
    picture = Image.open(io.BytesIO(body))
    assert picture.format == "PNG"
    assert picture.width == 1080 and picture.height > 1200, picture.size


def assert_refused(status: int, headers: dict[str, str], body: bytes) -> None:
    assert status == 404
    assert headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert "链接已失效" in text and len(text) < 200
    assert "Traceback" not in text and "Error" not in text


async def authenticated_png(api: Api, applicant: str, code: str) -> bytes:
    response = await api.client.get(
        f"/api/v1/applications/{code}/notice.png", headers=api.applicant_headers(applicant)
    )
    assert response.status == 200
    return await response.read()


async def test_the_signed_url_serves_the_applications_notice_without_credentials(api: Api) -> None:
    created = await draft(api, OWNER)
    code = created["code"]
    token_of(created["notice_url"])
    status, headers, body = await fetch(api.client, created["notice_url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert_notice_png(body)
    # Someone's materials, changing as they arrive: no shared or browser cache keeps it.
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["X-Robots-Tag"] == "noindex, nofollow" and headers["X-Content-Type-Options"] == "nosniff"
    assert body == await authenticated_png(api, OWNER, code)

    # The URL of the correction notice shows the picture as it is after the submit.
    key = next(m for m in created["materials"] if m["key"])
    hour = int(time.time() // 3600)
    submitted = await api.call("POST", f"/applications/{code}/submit", applicant=OWNER)
    assert (
        submitted["status"] == "needs_correction" and key["name"] in submitted["correction_notice"]["message"]
    )
    status, _, after = await fetch(api.client, submitted["notice_url"])
    assert status == 200 and after == await authenticated_png(api, OWNER, code)
    # Listed applications carry it too, and it is stable within the hour (not a new URL every second).
    listed = (await api.call("GET", "/applications", applicant=OWNER))["applications"]
    if int(time.time() // 3600) == hour:  # else the expiry rounded to the next hour, rightly: a new URL
        assert [a["notice_url"] for a in listed] == [submitted["notice_url"]]
    else:
        assert len(listed) == 1 and (await fetch(api.client, listed[0]["notice_url"]))[0] == 200


async def test_forged_and_foreign_tokens_are_404_with_a_short_chinese_note(
    api: Api, settings: Settings
) -> None:
    code = (await draft(api, OWNER))["code"]
    good = token_of(notice.notice_path(settings, code))
    payload, mac = good.split(".")
    flipped_mac = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    flipped_payload = ("A" if payload[0] != "A" else "B") + payload[1:]
    expires = int(time.time()) + 3600
    other_key = tokens.sign_application_notice(code, "not-our-signing-key-42", expires_at=expires)
    # A file-download token under the same key is another purpose: it opens no notice.
    file_token = tokens.sign_file_token(code, settings.signing_key, subject=OWNER)
    licence_token = tokens.sign_licence("XK-2026-7K3M9Q", settings.signing_key)
    for bad in (
        f"{payload}.{flipped_mac}",
        f"{flipped_payload}.{mac}",
        payload,
        f"{payload}.",
        other_key,
        file_token,
        licence_token,
        "x" * 40,
        "%3Cscript%3E",
    ):
        assert_refused(*await fetch(api.client, f"/n/{bad}/notice.png"))
    status, _, _ = await fetch(api.client, f"/n/{good}/notice.png")
    assert status == 200


async def test_another_applications_token_cannot_be_altered_into_yours(api: Api) -> None:
    mine = await draft(api, OWNER)
    theirs = await draft(api, NEIGHBOUR, info={**INFO, "operator_name": "隔壁小吃店", "phone": "13900139000"})
    my_payload, my_mac = token_of(mine["notice_url"]).split(".")
    their_payload, their_mac = token_of(theirs["notice_url"]).split(".")
    body = json.loads(base64.urlsafe_b64decode(their_payload + "=" * (-len(their_payload) % 4)))
    assert body[1] == theirs["code"]
    body[1] = mine["code"]  # their token, rewritten to name my application
    rewritten = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).rstrip(b"=")
    for bad in (
        f"{rewritten.decode()}.{their_mac}",
        f"{my_payload}.{their_mac}",
        f"{their_payload}.{my_mac}",
    ):
        assert_refused(*await fetch(api.client, f"/n/{bad}/notice.png"))
    # Each URL shows its own application's notice, never the other's.
    _, _, their_png = await fetch(api.client, theirs["notice_url"])
    assert their_png == await authenticated_png(api, NEIGHBOUR, theirs["code"])
    assert their_png != await authenticated_png(api, OWNER, mine["code"])


async def test_the_url_expires_after_a_week(api: Api, settings: Settings) -> None:
    code = (await draft(api, OWNER))["code"]
    week = notice.NOTICE_URL_TTL_SECONDS
    almost = notice.notice_path(settings, code, now=time.time() - week + 120)
    status, _, body = await fetch(api.client, almost)
    assert status == 200 and body[:8] == PNG_MAGIC
    expired = notice.notice_path(settings, code, now=time.time() - week - 3600)
    assert_refused(*await fetch(api.client, expired))
    # The URL the API hands out: good for a week (to the hour), not a moment longer.
    token = token_of((await api.call("GET", f"/applications/{code}", applicant=OWNER))["notice_url"])
    key = settings.signing_key
    assert tokens.verify_notice_token(token, key, now=time.time() + week - 60) is not None
    assert tokens.verify_notice_token(token, key, now=time.time() + week + 3600) is None


async def test_a_rotated_key_keeps_sent_notices_readable(
    api: Api, settings: Settings, aiohttp_client: Any
) -> None:
    url = (await draft(api, OWNER))["notice_url"]
    rotated = settings.model_copy(
        update={"signing_key": "the-new-signing-key-0123", "previous_signing_keys": [settings.signing_key]}
    )
    client = await aiohttp_client(create_app(rotated))
    status, _, body = await fetch(client, url)
    assert status == 200 and body[:8] == PNG_MAGIC
    without_old = await aiohttp_client(create_app(rotated.model_copy(update={"previous_signing_keys": []})))
    assert_refused(*await fetch(without_old, url))


async def test_a_checklist_gets_a_notice_picture_before_any_application(api: Api, settings: Settings) -> None:
    package = await restaurant_package(api)
    answers, checklist = await answer_everything(api, package["id"])
    request = {"package_id": package["id"], "answers": answers}
    service = {"X-Service-Key": SERVICE_KEY}
    # Minting links is for our own services: the picture is rendered on every fetch.
    await api.call("POST", "/checklists/notice", json=request, expect=401)
    link = await api.call("POST", "/checklists/notice", json=request, headers=service)
    token = token_of(link["notice_url"])
    grant = tokens.verify_notice_token(token, settings.signing_key)
    assert grant is not None and grant.package_id == package["id"] and grant.application_code is None
    assert grant.answers == checklist["answers"]
    assert abs(grant.expires_at - time.time() - notice.NOTICE_URL_TTL_SECONDS) <= 3600

    status, headers, body = await fetch(api.client, link["notice_url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert_notice_png(body)
    # The catalog's checklist, not a person's progress: a browser may keep it for a while.
    assert headers["Cache-Control"] == f"private, max-age={CHECKLIST_MAX_AGE}"

    unknown = await api.call(
        "POST", "/checklists/notice", json={"package_id": "nope", "answers": {}}, headers=service, expect=404
    )
    assert unknown["error"]["code"] == "unknown_package"
    invalid = await api.call(
        "POST",
        "/checklists/notice",
        json={"package_id": package["id"], "answers": {**answers, "area": "很大"}},
        headers=service,
        expect=422,
    )
    assert invalid["error"]["code"] == "invalid_answer" and invalid["error"]["field"] == "answers.area"


async def test_a_pushed_correction_notice_links_the_picture(api: Api) -> None:
    """The notifier tells people about a needed correction outside the conversation, with the picture."""
    created = await draft(api, OWNER)
    submitted = await api.call("POST", f"/applications/{created['code']}/submit", applicant=OWNER)
    assert submitted["status"] == "needs_correction"
    body = await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY})
    [event] = [
        e
        for e in body["events"]
        if e["type"] == "application.correction_required" and e["application_code"] == created["code"]
    ]
    status, _, png = await fetch(api.client, event["payload"]["notice_url"])
    assert status == 200
    assert_notice_png(png)


def test_the_url_stays_the_same_within_the_hour(settings: Settings) -> None:
    start = 1_800_000_000 // 3600 * 3600 + 1
    code = "ZL-20261122-ABCDEF"
    first = notice.notice_path(settings, code, now=start)
    assert notice.notice_path(settings, code, now=start + 3598) == first
    assert notice.notice_path(settings, code, now=start + 3600) != first
