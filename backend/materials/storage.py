"""Content-addressed files on disk, and reading uploads under a size cap.

A blob lives at `<root>/objects/ab/cd/<sha256>`; the same bytes are stored once however often they are
put. Writes go to `<root>/tmp/` first and are renamed into place, so a reader never sees half a file and
a failed or refused upload leaves nothing behind. Who may read a blob is the API's business (the
database knows owners and applications); this module only knows bytes.
"""

import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self, runtime_checkable

CHUNK_SIZE = 64 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class TooLarge(Exception):
    """The body went over the cap; raised as soon as it does, before the rest is read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int
    path: Path


@runtime_checkable
class SupportsReadChunk(Protocol):
    """aiohttp's `BodyPartReader` (one multipart field) has this shape."""

    async def read_chunk(self, size: int = ...) -> bytes: ...


async def read_capped(source: AsyncIterable[bytes] | SupportsReadChunk, max_bytes: int) -> bytes:
    """Collect a streamed body in memory, refusing it the moment it passes `max_bytes`.

    Pass `request.content.iter_chunked(n)` or a multipart field (never `await field.read()`, which
    buffers the whole part first). At most `max_bytes` plus one chunk is ever held.
    """
    buffer = bytearray()
    # A multipart field is also async-iterable, but iterating it reads the whole part at once.
    if isinstance(source, SupportsReadChunk):
        while chunk := await source.read_chunk(CHUNK_SIZE):
            _append_capped(buffer, chunk, max_bytes)
    else:
        async for chunk in source:
            _append_capped(buffer, chunk, max_bytes)
    return bytes(buffer)


def collect_capped(chunks: Iterable[bytes], max_bytes: int) -> bytes:
    buffer = bytearray()
    for chunk in chunks:
        _append_capped(buffer, chunk, max_bytes)
    return bytes(buffer)


def _append_capped(buffer: bytearray, chunk: bytes, max_bytes: int) -> None:
    if len(buffer) + len(chunk) > max_bytes:
        raise TooLarge(max_bytes)
    buffer += chunk


class FileStore:
    def __init__(self, root: Path | str, *, durable: bool = True) -> None:
        # `durable` fsyncs before the rename; tests may turn it off for speed.
        self.root = Path(root)
        self.durable = durable

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / "objects" / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> StoredBlob:
        with self.writer() as writer:
            writer.write(data)
            return writer.commit()

    def put_stream(self, chunks: Iterable[bytes], *, max_bytes: int | None = None) -> StoredBlob:
        with self.writer(max_bytes=max_bytes) as writer:
            for chunk in chunks:
                writer.write(chunk)
            return writer.commit()

    def writer(self, *, max_bytes: int | None = None) -> "BlobWriter":
        return BlobWriter(self, max_bytes)

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def delete(self, sha256: str) -> bool:
        """Remove a blob. Blobs are shared by content: only call this when no record refers to it."""
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True


class BlobWriter:
    """Streams one blob to a temporary file, hashing as it goes; `commit()` moves it into place.

    Leaving the `with` block without committing (an exception, `TooLarge`) deletes the temporary file.
    """

    def __init__(self, store: FileStore, max_bytes: int | None) -> None:
        self._store = store
        self._max_bytes = max_bytes
        self._hash = hashlib.sha256()
        self._size = 0
        tmp_dir = store.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
        self._tmp = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._discard()

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        if self._file is None:
            raise ValueError("writer is closed")
        if self._max_bytes is not None and self._size + len(chunk) > self._max_bytes:
            self._discard()
            raise TooLarge(self._max_bytes)
        self._file.write(chunk)
        self._hash.update(chunk)
        self._size += len(chunk)

    def commit(self) -> StoredBlob:
        if self._file is None:
            raise ValueError("writer is closed")
        self._file.flush()
        if self._store.durable:
            os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        digest = self._hash.hexdigest()
        target = self._store.path_for(digest)
        if target.is_file():
            self._tmp.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Two uploads of the same bytes may race here; both renames leave identical content.
            os.replace(self._tmp, target)
            if self._store.durable:
                _fsync_dir(target.parent)
        return StoredBlob(sha256=digest, size=self._size, path=target)

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._tmp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
