"""Materials' files through HTTP: hostile uploads refused with the documented 4xx, normal photos normalised,
files read only through signed, expiring links, and a reviewer's reads audited."""

import asyncio
import io
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import FormData
from PIL import Image

from backend.materials import tokens
from backend.settings import Settings
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.materials import corpus
from tests.backend.materials.test_imaging import HOSTILE
from tests.backend.test_lifecycle import draft

OWNER = "wechat:oFilesOwner00000000000001"
STRANGER = "web:files-stranger-1"
MB = 1024 * 1024


async def upload(
    api: Api,
    data: bytes,
    *,
    applicant: str = OWNER,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    expect: int = 201,
) -> dict[str, Any]:
    form = FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    response = await api.client.post("/api/v1/files", data=form, headers=api.applicant_headers(applicant))
    body = await response.json()
    assert response.status == expect, (response.status, body)
    return dict(body)


async def get(api: Api, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    response = await api.client.get(url, headers=headers)
    return response.status, dict(response.headers), await response.read()


def blobs(settings: Settings) -> list[Path]:
    objects = settings.data_dir / "files" / "objects"
    return [p for p in objects.rglob("*") if p.is_file()] if objects.exists() else []


def picture(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


async def test_every_hostile_file_gets_its_documented_4xx(api: Api, settings: Settings) -> None:
    for name, factory, code, status in HOSTILE:
        body = await upload(api, factory(), filename="x.jpg", expect=status)
        assert body["error"]["code"] == code.value, name
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), name
    # A polyglot is a real picture: accepted, but only as freshly encoded pixels.
    polyglot = await upload(api, corpus.jpeg_polyglot())
    status, _, content = await get(api, polyglot["url"])
    assert status == 200 and b"<script>" not in content and b"PK\x03\x04" not in content
    assert len(blobs(settings)) == 2  # the polyglot's picture and thumbnail; nothing refused was kept
    assert list((settings.data_dir / "files" / "tmp").iterdir()) == []


async def test_refusals_of_the_request_itself(api: Api) -> None:
    headers = api.applicant_headers(OWNER)
    response = await api.client.post("/api/v1/files", data=b"raw bytes", headers=headers)
    assert response.status == 400 and (await response.json())["error"]["code"] == "not_multipart"
    form = FormData()
    form.add_field("other", b"hello", filename="a.txt")
    response = await api.client.post("/api/v1/files", data=form, headers=headers)
    assert response.status == 400 and (await response.json())["error"]["code"] == "file_missing"
    response = await api.client.post(
        "/api/v1/files", data=b"--b\r\n", headers={**headers, "Content-Type": "multipart/form-data"}
    )
    assert response.status == 400 and (await response.json())["error"]["code"] == "malformed_upload"
    # A body cut short (the closing boundary never came) is a 4xx, whichever check notices first.
    for tail in (b"abc", corpus.truncated_jpeg()):
        cut = b"--b\r\nContent-Disposition: form-data; name=file\r\n\r\n" + tail
        response = await api.client.post(
            "/api/v1/files", data=cut, headers={**headers, "Content-Type": "multipart/form-data; boundary=b"}
        )
        code = (await response.json())["error"]["code"]
        assert (response.status, code) in {(400, "malformed_upload"), (415, "unsupported_type")}, code
    # Without an applicant the body is never looked at.
    form = FormData()
    form.add_field("file", corpus.phone_jpeg(), filename="a.jpg")
    response = await api.client.post("/api/v1/files", data=form, headers={"X-Service-Key": SERVICE_KEY})
    assert response.status == 401


async def test_a_50_mb_streamed_upload_is_refused_without_being_held(api: Api, settings: Settings) -> None:
    stream = corpus.CountingStream()
    boundary = "----files-test"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        async for chunk in stream.aiter():
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    tracemalloc.start()
    response = await api.client.post(
        "/api/v1/files",
        data=body(),
        headers={
            **api.applicant_headers(OWNER),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert response.status == 413
    error = (await response.json())["error"]
    assert error["code"] == "too_large" and "10 MB" in error["message"]
    assert peak < 16 * MB
    assert blobs(settings) == []


async def test_a_declared_length_over_the_cap_is_refused_before_any_byte_is_read(api: Api) -> None:
    server = api.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(
            (
                "POST /api/v1/files HTTP/1.1\r\nHost: test\r\n"
                f"X-Service-Key: {SERVICE_KEY}\r\nX-Applicant: {OWNER}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {50 * MB}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()
    assert status_line.split()[1] == b"413"


async def test_a_phone_photo_is_normalised_stored_once_and_served_safely(
    api: Api, settings: Settings
) -> None:
    first = await upload(api, corpus.gps_jpeg(), filename="IMG_0001.HEIC.jpg")
    assert first["content_type"] == "image/jpeg"
    assert (first["width"], first["height"]) == (1800, 2400)  # turned upright, long side capped
    assert first["warnings"] == []
    assert first["url"].startswith("/api/v1/files/") and first["thumbnail_url"].startswith("/api/v1/files/")

    status, headers, content = await get(api, first["url"])
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert headers["Content-Disposition"].startswith("inline")
    out = picture(content)
    assert out.format == "JPEG" and out.size == (1800, 2400) and not out.getexif()
    for marker in (b"GPS", b"iPhone", b"xmpmeta", b"home of the applicant"):
        assert marker not in content

    status, headers, thumb = await get(api, first["thumbnail_url"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert max(picture(thumb).size) == 320

    # The same photo again: the same file; someone else's identical photo: a file of their own.
    again = await upload(api, corpus.gps_jpeg())
    assert again["file_id"] == first["file_id"]
    theirs = await upload(api, corpus.gps_jpeg(), applicant=STRANGER)
    assert theirs["file_id"] != first["file_id"]
    assert len(blobs(settings)) == 2

    blurry = await upload(api, corpus.blurry_jpeg())
    assert blurry["warnings"] and "模糊" in blurry["warnings"][0]


async def test_a_pdf_is_served_only_as_an_attachment(api: Api) -> None:
    body = await upload(api, corpus.scanned_pdf(), filename="scan.pdf", content_type="application/pdf")
    assert body["content_type"] == "application/pdf" and body["thumbnail_url"] is None
    status, headers, content = await get(api, body["url"])
    assert status == 200 and content.startswith(b"%PDF-")
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == f'attachment; filename="{body["file_id"]}.pdf"'


async def test_tampered_expired_and_foreign_links_are_404(api: Api, settings: Settings) -> None:
    body = await upload(api, corpus.phone_jpeg())
    token = body["url"].removeprefix("/api/v1/files/")
    payload, mac = token.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    expired = tokens.sign_file_token(
        body["file_id"], settings.signing_key, subject=OWNER, ttl_seconds=60, now=time.time() - 120
    )
    other_key = tokens.sign_file_token(body["file_id"], "someone-elses-key-0123", subject=OWNER)
    no_file = tokens.sign_file_token("no-such-file", settings.signing_key, subject=OWNER)
    no_thumb_variant = tokens.sign_file_token(
        body["file_id"], settings.signing_key, subject=OWNER, variant="../../etc/passwd"
    )
    for bad in (flipped, payload + ".", payload, expired, other_key, no_file, no_thumb_variant, "x" * 50):
        status, _, content = await get(api, "/api/v1/files/" + quote(bad, safe=""))
        assert status == 404, bad
        assert b"\xff\xd8" not in content
    status, _, _ = await get(api, body["url"])
    assert status == 200


async def test_someone_elses_file_cannot_be_attached_or_seen(api: Api) -> None:
    mine = await upload(api, corpus.phone_jpeg())
    application = await draft(api, STRANGER)
    material = application["materials"][0]["material_id"]
    refused = await api.call(
        "POST",
        f"/applications/{application['code']}/materials",
        applicant=STRANGER,
        json={"material_id": material, "file_id": mine["file_id"]},
        expect=404,
    )
    assert refused["error"]["field"] == "file_id"
    seen = await api.call("GET", f"/applications/{application['code']}", applicant=STRANGER)
    assert all(m["file_ids"] == [] and m["files"] == [] for m in seen["materials"])

    own = await draft(api, OWNER)
    attached = await api.call(
        "POST",
        f"/applications/{own['code']}/materials",
        applicant=OWNER,
        json={"material_id": material, "file_id": mine["file_id"]},
    )
    item = next(m for m in attached["materials"] if m["material_id"] == material)
    assert item["file_ids"] == [mine["file_id"]]
    assert [f["file_id"] for f in item["files"]] == [mine["file_id"]]
    assert (await get(api, item["files"][0]["url"]))[0] == 200
    # The owner's application is not the stranger's to read, links and all.
    await api.call("GET", f"/applications/{own['code']}", applicant=STRANGER, expect=404)


async def test_quality_warnings_stay_listed_with_the_attached_file(api: Api) -> None:
    # The warnings were once only in the upload's answer: the assistant, which files the photo later from
    # the application, never saw them and never told the applicant their photo was unreadable.
    poor = await upload(api, corpus.dim_blurry_jpeg())
    assert len(poor["warnings"]) == 2
    sharp = await upload(api, corpus.phone_jpeg())
    application = await draft(api, OWNER)
    code = application["code"]
    material = application["materials"][0]["material_id"]
    # Sharp page first: a sharp photo sent after poor ones only replaces them (test_applications.py).
    for file_id in (sharp["file_id"], poor["file_id"]):
        await api.call(
            "POST",
            f"/applications/{code}/materials",
            applicant=OWNER,
            json={"material_id": material, "file_id": file_id},
        )
    current = await api.call("GET", f"/applications/{code}", applicant=OWNER)
    item = next(m for m in current["materials"] if m["material_id"] == material)
    listed = {f["file_id"]: f["warnings"] for f in item["files"]}
    assert listed == {poor["file_id"]: poor["warnings"], sharp["file_id"]: []}
    assert "模糊" in listed[poor["file_id"]][0] and "偏暗" in listed[poor["file_id"]][1]


async def accepted_with_photos(api: Api) -> tuple[dict[str, Any], str]:
    photo = await upload(api, corpus.phone_jpeg())
    application = await draft(api, OWNER)
    for material in application["materials"]:
        await api.call(
            "POST",
            f"/applications/{application['code']}/materials",
            applicant=OWNER,
            json={"material_id": material["material_id"], "file_id": photo["file_id"]},
        )
    accepted = await api.call("POST", f"/applications/{application['code']}/submit", applicant=OWNER)
    assert accepted["status"] == "accepted", accepted
    return dict(accepted), str(photo["file_id"])


async def test_reviewers_see_their_departments_materials_and_every_read_is_audited(api: Api) -> None:
    application, file_id = await accepted_with_photos(api)
    task = next(t for t in application["tasks"] if t["status"] == "pending")
    reviewer = await api.reviewer(task["department_id"], "files_reviewer")
    other_department = next(
        d["id"]
        for d in (await api.call("GET", "/catalog/departments"))["departments"]
        if d["id"] not in {t["department_id"] for t in application["tasks"]}
    )
    outsider = await api.reviewer(other_department, "files_outsider")
    admin = await api.admin()

    seen = await api.call("GET", f"/tasks/{task['id']}/application", token=reviewer)
    assert seen["code"] == application["code"]
    links = [f for m in seen["materials"] for f in m["files"]]
    assert links and {f["file_id"] for f in links} == {file_id}

    # The applicant's own reads are not audited; each of the reviewer's is.
    own = await api.call("GET", f"/applications/{application['code']}", applicant=OWNER)
    assert (await get(api, own["materials"][0]["files"][0]["url"]))[0] == 200
    assert (await api.call("GET", f"/audit?target=file:{file_id}", token=admin))["entries"] == []
    assert (await get(api, links[0]["url"]))[0] == 200
    assert (await get(api, links[0]["thumbnail_url"]))[0] == 200
    entries = (await api.call("GET", f"/audit?target=file:{file_id}", token=admin))["entries"]
    assert [(e["actor"], e["action"], e["detail"]["variant"]) for e in entries] == [
        ("staff:files_reviewer", "material.read", "thumbnail"),
        ("staff:files_reviewer", "material.read", "original"),
    ]
    assert entries[0]["detail"]["owner"] == OWNER

    # Another department's reviewer, and window staff, cannot get the application.
    body = await api.call("GET", f"/tasks/{task['id']}/application", token=outsider, expect=403)
    assert "本部门" in body["error"]["message"]
    await api.call(
        "POST",
        "/staff",
        token=admin,
        expect=201,
        json={
            "username": "files_agent",
            "display_name": "窗口",
            "password": "agent-pass-1234",
            "role": "agent",
        },
    )
    agent = await api.login("files_agent", "agent-pass-1234")
    await api.call("GET", f"/tasks/{task['id']}/application", token=agent, expect=403)
    await api.call("GET", f"/tasks/{task['id']}/application", applicant=OWNER, expect=401)
    await api.call("GET", "/tasks/999999/application", token=admin, expect=404)
    assert (await api.call("GET", f"/tasks/{task['id']}/application", token=admin))["code"]


async def test_the_openapi_document_describes_the_upload_and_the_pictures(api: Api) -> None:
    paths = (await (await api.client.get("/api/v1/openapi.json")).json())["paths"]
    upload_op = paths["/api/v1/files"]["post"]
    schema = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"] and schema["properties"]["file"]["format"] == "binary"
    assert upload_op["security"] == [{"serviceKey": [], "applicant": []}]
    assert "201" in upload_op["responses"]
    assert paths["/api/v1/files/{token}"]["get"]["security"] == []
    card = paths["/api/v1/licences/{number}/card.png"]["get"]["responses"]["200"]
    assert "image/png" in card["content"]
    assert (
        "image/png" in paths["/api/v1/applications/{code}/notice.png"]["get"]["responses"]["200"]["content"]
    )
    assert paths["/api/v1/tasks/{task_id}/application"]["get"]["security"] == [{"staffToken": []}]
