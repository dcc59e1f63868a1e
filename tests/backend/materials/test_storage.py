import hashlib
import tracemalloc
from collections.abc import AsyncIterator

import pytest
from aiohttp import BodyPartReader, FormData, web

from backend.materials.storage import FileStore, TooLarge, collect_capped, read_capped

from .corpus import CountingStream

MB = 1024 * 1024


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "files", durable=False)


def test_put_is_content_addressed_and_stores_the_same_bytes_once(store):
    first = store.put(b"photo bytes")
    second = store.put(b"photo bytes")
    assert first == second
    assert first.sha256 == hashlib.sha256(b"photo bytes").hexdigest()
    assert first.size == 11
    assert first.path == store.root / "objects" / first.sha256[:2] / first.sha256[2:4] / first.sha256
    assert store.read(first.sha256) == b"photo bytes"
    assert len(list((store.root / "objects").rglob("*.*"))) == 0
    assert len([p for p in (store.root / "objects").rglob("*") if p.is_file()]) == 1
    assert list((store.root / "tmp").iterdir()) == []


def test_files_are_private_to_the_app_user(store):
    blob = store.put(b"id card")
    assert blob.path.stat().st_mode & 0o077 == 0
    assert blob.path.parent.stat().st_mode & 0o077 == 0


def test_put_stream_refuses_as_it_goes_and_leaves_nothing(store):
    stream = CountingStream()
    with pytest.raises(TooLarge) as caught:
        store.put_stream(stream, max_bytes=10 * MB)
    assert caught.value.limit == 10 * MB
    assert stream.pulled <= 10 * MB + 64 * 1024
    assert list((store.root / "tmp").iterdir()) == []
    assert not (store.root / "objects").exists()


def test_put_stream_under_the_cap(store):
    blob = store.put_stream([b"a" * 1000, b"b" * 1000], max_bytes=2000)
    assert blob.size == 2000
    assert store.exists(blob.sha256)


def test_paths_only_for_real_digests(store):
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63, ""):
        with pytest.raises(ValueError):
            store.path_for(bad)


def test_delete(store):
    blob = store.put(b"x")
    assert store.delete(blob.sha256)
    assert not store.delete(blob.sha256)
    assert not store.exists(blob.sha256)


def test_collect_capped_stops_a_50_mb_stream_after_the_cap():
    stream = CountingStream()
    tracemalloc.start()
    with pytest.raises(TooLarge):
        collect_capped(stream, 10 * MB)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert stream.pulled <= 10 * MB + 64 * 1024
    assert peak < 12 * MB


async def test_read_capped_stops_an_async_50_mb_stream_after_the_cap():
    stream = CountingStream()
    with pytest.raises(TooLarge):
        await read_capped(stream.aiter(), 10 * MB)
    assert stream.pulled <= 10 * MB + 64 * 1024


async def _upload(request: web.Request) -> web.Response:
    """What the upload endpoint does with the body: the multipart field is read under the cap."""
    reader = await request.multipart()
    field = await reader.next()
    assert isinstance(field, BodyPartReader)
    try:
        data = await read_capped(field, 10 * MB)
    except TooLarge:
        return web.json_response({"error": {"code": "too_large"}}, status=413)
    return web.json_response({"size": len(data)})


async def test_a_50_mb_multipart_upload_gets_413_without_being_held_in_memory(aiohttp_client):
    app = web.Application(client_max_size=1 * MB)
    app.router.add_post("/upload", _upload)
    client = await aiohttp_client(app)
    stream = CountingStream()
    boundary = "----materials-test"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        async for chunk in stream.aiter():
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    tracemalloc.start()
    response = await client.post(
        "/upload", data=body(), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"
    assert peak < 16 * MB


async def test_a_small_multipart_upload_passes(aiohttp_client):
    app = web.Application()
    app.router.add_post("/upload", _upload)
    client = await aiohttp_client(app)
    form = FormData()
    form.add_field("file", b"\xff\xd8\xff" + b"0" * 5000, filename="a.jpg", content_type="image/jpeg")
    response = await client.post("/upload", data=form)
    assert response.status == 200
    assert (await response.json())["size"] == 5003
