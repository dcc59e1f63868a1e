"""一码覆盖 through HTTP: the licence card's QR code, decoded from the served PNG, opens a page with the live
status of every permit — before and after a 联合变更 and a 联合注销 — and nothing else opens it."""

import asyncio
import io
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from PIL import Image
from pyzbar.pyzbar import decode

from backend.app import create_app
from backend.materials import tokens
from backend.settings import Settings
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.test_lifecycle import (
    APPLICANT,
    INFO,
    answer_everything,
    approve_all,
    restaurant_package,
    supply,
)

STRANGER = "web:verification-stranger"
NEW_ADDRESS = "临沂市北城新区 1 号"


def qr_url(png: bytes) -> str:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    found = decode(image.convert("L"))
    assert len(found) == 1, found
    return str(found[0].data.decode())


async def page(client: TestClient[Any, Any], url: str) -> tuple[int, dict[str, str], str]:
    response = await client.get(urlsplit(url).path)
    return response.status, dict(response.headers), await response.text()


async def completed(api: Api, operation: dict[str, Any], tokens_: dict[str, str]) -> str:
    created = await api.call("POST", "/applications", applicant=APPLICANT, expect=201, json=operation)
    await supply(api, created["code"], created["materials"])
    submitted = await api.call("POST", f"/applications/{created['code']}/submit", applicant=APPLICANT)
    assert submitted["status"] == "accepted", submitted
    await approve_all(api, tokens_, created["code"])
    return str(created["code"])


async def issue(api: Api) -> tuple[dict[str, Any], dict[str, str]]:
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    reviewers: dict[str, str] = {}
    code = await completed(
        api, {"package_id": package["id"], "answers": answers, "applicant": INFO}, reviewers
    )
    licence = await api.call("GET", f"/applications/{code}/licence", applicant=APPLICANT)
    return dict(licence), reviewers


def permit_tags(html: str, label: str) -> int:
    return html.count(f">{label}</span>")


async def test_the_card_qr_opens_the_live_status_through_change_and_cancellation(
    api: Api, settings: Settings, aiohttp_client: Any
) -> None:
    # A second backend process on the same database: it learns of changes only through its cache's TTL.
    other = await aiohttp_client(create_app(settings.model_copy(update={"verification_cache_seconds": 0.3})))
    licence, reviewers = await issue(api)
    number = licence["number"]
    response = await api.client.get(
        f"/api/v1/licences/{number}/card.png", headers=api.applicant_headers(APPLICANT)
    )
    assert response.status == 200 and response.content_type == "image/png"
    card = await response.read()
    assert Image.open(io.BytesIO(card)).width == 1080
    url = qr_url(card)
    assert url == licence["verification_url"]
    assert url.startswith(settings.public_base_url + "/v/" + number + "-")

    assert (await page(other, url))[0] == 200
    status, headers, html = await page(api.client, url)
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Robots-Tag"].startswith("noindex")
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-") and "script" not in csp
    assert INFO["operator_name"] in html and INFO["address"] in html and number in html
    for permit in licence["permits"]:
        assert permit["licence_name"] in html
    assert permit_tags(html, "有效") == len(licence["permits"]) >= 2

    # The card is also public under the QR token, for the gateway (it fetches images without keys).
    assert licence["card_url"] == urlsplit(url).path + "/card.png"
    public = await api.client.get(licence["card_url"])
    assert public.status == 200 and await public.read() == card
    events = (await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY}))["events"]
    issued = next(e for e in events if e["type"] == "licence.issued")
    assert issued["payload"]["card_url"] == licence["card_url"]
    assert issued["payload"]["licence_number"] == number
    assert issued["payload"]["verification_url"] == url

    # Nobody else gets the card through the API.
    response = await api.client.get(
        f"/api/v1/licences/{number}/card.png", headers=api.applicant_headers(STRANGER)
    )
    assert response.status == 404

    # 联合变更: the old QR code still opens the page, which now shows the change and the new address.
    await completed(
        api,
        {"operation": "change", "licence_number": number, "changes": {"address": NEW_ADDRESS}},
        reviewers,
    )
    status, _, html = await page(api.client, url)
    assert status == 200
    assert NEW_ADDRESS in html and INFO["address"] not in html
    assert permit_tags(html, "已变更") == len(licence["permits"])
    await asyncio.sleep(0.3)
    assert NEW_ADDRESS in (await page(other, url))[2]
    changed_card = await (await api.client.get(licence["card_url"])).read()
    assert changed_card != card and qr_url(changed_card) == url
    changed = [
        e
        for e in (await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY}))[
            "events"
        ]
        if e["type"] == "licence.changed"
    ]
    assert changed[0]["payload"]["card_url"] == licence["card_url"]

    # 联合注销.
    await completed(api, {"operation": "cancel", "licence_number": number}, reviewers)
    status, _, html = await page(api.client, url)
    assert status == 200
    assert "本证已注销" in html
    assert permit_tags(html, "已注销") == len(licence["permits"])


async def test_a_code_we_did_not_make_cannot_be_verified(api: Api, settings: Settings) -> None:
    licence, _ = await issue(api)
    path = urlsplit(licence["verification_url"]).path
    flipped = path[:-1] + ("0" if path[-1] != "0" else "1")
    unknown = "/v/" + tokens.sign_licence("XK-2026-000000", settings.signing_key)
    lowercase = path.lower()
    forged = "/v/" + tokens.sign_licence(licence["number"], "not-our-signing-key-42")
    for bad in (flipped, unknown, lowercase, forged, "/v/" + licence["number"], "/v/%3Cscript%3E", "/v/x"):
        status, headers, html = await page(api.client, "http://test" + bad)
        assert status == 404, bad
        assert "无法验证" in html and licence["operator_name"] not in html
        assert headers["Cache-Control"] == "no-store"
        response = await api.client.get(bad + "/card.png")
        assert response.status == 404


async def test_a_rotated_key_keeps_printed_codes_working(
    api: Api, settings: Settings, aiohttp_client: Any
) -> None:
    licence, _ = await issue(api)
    rotated = settings.model_copy(
        update={"signing_key": "the-new-signing-key-0123", "previous_signing_keys": [settings.signing_key]}
    )
    client = await aiohttp_client(create_app(rotated))
    status, _, html = await page(client, licence["verification_url"])
    assert status == 200 and licence["number"] in html
    fresh = await Api(client).call("GET", f"/licences/{licence['number']}", applicant=APPLICANT)
    assert fresh["verification_url"] != licence["verification_url"]  # new cards carry the new key
    assert (await page(client, fresh["verification_url"]))[0] == 200
    without_old = await aiohttp_client(create_app(rotated.model_copy(update={"previous_signing_keys": []})))
    assert (await page(without_old, licence["verification_url"]))[0] == 404


async def test_the_one_time_notice_as_picture_and_text(api: Api) -> None:
    package = await restaurant_package(api)
    answers, _ = await answer_everything(api, package["id"])
    created = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={"package_id": package["id"], "answers": answers, "applicant": INFO},
    )
    code = created["code"]
    held_back = next(m for m in created["materials"] if m["key"])
    optional = [m for m in created["materials"] if not m["key"]]
    await supply(
        api,
        code,
        created["materials"],
        skip={held_back["material_id"]} | {m["material_id"] for m in optional[:1]},
    )
    if optional:
        await api.call(
            "POST",
            f"/applications/{code}/commitments",
            applicant=APPLICANT,
            json={"material_id": optional[0]["material_id"], "kind": "later"},
        )
    submitted = await api.call("POST", f"/applications/{code}/submit", applicant=APPLICANT)
    assert submitted["status"] == "needs_correction"
    text = submitted["correction_notice"]["notice_text"]
    assert text.startswith("【一次性告知单】") and code in text
    assert f"[缺少] {held_back['name']}" in text
    if optional:
        assert f"[容缺后补] {optional[0]['name']}" in text
    assert "还缺 1 份材料：" + held_back["name"] in text
    again = await api.call("GET", f"/applications/{code}", applicant=APPLICANT)
    assert again["correction_notice"]["notice_text"] == text

    response = await api.client.get(
        f"/api/v1/applications/{code}/notice.png", headers=api.applicant_headers(APPLICANT)
    )
    assert response.status == 200 and response.content_type == "image/png"
    assert response.headers["Cache-Control"] == "private, no-store"
    notice = Image.open(io.BytesIO(await response.read()))
    assert notice.width == 1080 and notice.height > 1500
    response = await api.client.get(
        f"/api/v1/applications/{code}/notice.png", headers=api.applicant_headers(STRANGER)
    )
    assert response.status == 404
