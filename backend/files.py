"""Stored files (photos and scans of materials): keeping an accepted upload, and signed, expiring URLs.

Bytes live once on disk, addressed by their hash (`materials.storage`); the database row says whose they
are. The same person sending the same photo again gets the same `file_id` back (so attaching it twice is
a no-op); another person sending identical bytes gets a row of their own, so ownership never leaks.

Files are read only through signed URLs (`/api/v1/files/<token>`) that expire after
`file_url_ttl_seconds` and name whom they were issued to: the applicant's key, or `staff:<username>` —
every staff read is written to the audit log.
"""

import asyncio
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit
from backend.db import begin_write
from backend.errors import ApiError, NotFound
from backend.materials import tokens
from backend.materials.imaging import Accepted, Rejected
from backend.materials.storage import FileStore
from backend.models import Application, StoredFile
from backend.settings import Settings

log = logging.getLogger(__name__)

FILES_PATH = "/api/v1/files/"
ORIGINAL = "original"
THUMBNAIL = "thumbnail"
STAFF_PREFIX = "staff:"
LINK_GONE = "文件链接无效或已过期，请重新获取"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\"\\/]")


class UploadRefused(ApiError):
    """The upload is not a file we keep; the status and code come from the check that refused it."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message, code=code)
        self.status = status

    @classmethod
    def from_result(cls, result: Rejected) -> "UploadRefused":
        return cls(result.message, code=result.errors[0].code.value, status=result.http_status)


def new_file_id() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 bits: ids are not guessable either


def clean_name(name: str | None) -> str | None:
    """The name the uploader's device gave, for staff to recognise; never used as a path or header."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return _UNPRINTABLE.sub("", base)[:200] or None


async def keep(
    session: AsyncSession, *, store: FileStore, owner: str, result: Accepted, original_name: str | None
) -> StoredFile:
    """Store an accepted upload; called with no transaction open yet (the blobs are written first)."""
    content = await asyncio.to_thread(store.put, result.content)
    thumbnail = await asyncio.to_thread(store.put, result.thumbnail) if result.thumbnail else None
    await begin_write(session)
    existing = await session.scalar(
        select(StoredFile)
        .where(StoredFile.owner == owner, StoredFile.sha256 == content.sha256)
        .order_by(StoredFile.created_at)
        .limit(1)
    )
    if existing is not None:
        return existing
    stored = StoredFile(
        id=new_file_id(),
        sha256=content.sha256,
        owner=owner,
        content_type=result.media_type,
        size=content.size,
        width=result.width,
        height=result.height,
        thumbnail_sha256=thumbnail.sha256 if thumbnail else None,
        warnings=[issue.as_dict() for issue in result.warnings],
        original_name=clean_name(original_name),
    )
    session.add(stored)
    await session.commit()
    return stored


def warning_messages(stored: StoredFile) -> list[str]:
    return [str(w["message"]) if isinstance(w, dict) else str(w) for w in stored.warnings]


# --- signed URLs ----------------------------------------------------------------------------------------


def staff_subject(username: str) -> str:
    return STAFF_PREFIX + username


def url_for(settings: Settings, file_id: str, *, subject: str, variant: str = ORIGINAL) -> str:
    token = tokens.sign_file_token(
        file_id,
        settings.signing_key,
        subject=subject,
        ttl_seconds=settings.file_url_ttl_seconds,
        variant=variant,
    )
    return FILES_PATH + token


async def for_application(session: AsyncSession, application: Application) -> dict[str, StoredFile]:
    ids = {file_id for item in application.materials for file_id in item.file_ids}
    if not ids:
        return {}
    rows = await session.scalars(select(StoredFile).where(StoredFile.id.in_(ids)))
    return {row.id: row for row in rows}


@dataclass(frozen=True)
class Download:
    path: Path
    content_type: str
    filename: str
    attachment: bool


async def open_download(
    session: AsyncSession, *, settings: Settings, store: FileStore, token: str
) -> Download:
    """The file a token grants, after writing the audit entry when it was issued to staff."""
    grant = tokens.verify_file_token(
        token, settings.signing_key, previous_keys=settings.previous_signing_keys
    )
    if grant is None:
        raise NotFound(LINK_GONE, code="link_invalid")
    by_staff = grant.subject.startswith(STAFF_PREFIX)
    if by_staff:
        await begin_write(session)
    stored = await session.get(StoredFile, grant.file_id)
    if stored is None:
        raise NotFound(LINK_GONE, code="link_invalid")
    sha256 = stored.thumbnail_sha256 if grant.variant == THUMBNAIL else stored.sha256
    if sha256 is None or grant.variant not in (ORIGINAL, THUMBNAIL):
        raise NotFound(LINK_GONE, code="link_invalid")
    path = store.path_for(sha256)
    if not path.is_file():
        log.error("stored file %s (%s) is missing its blob %s", stored.id, grant.variant, sha256)
        raise NotFound("文件已不存在，请重新上传", code="file_missing")
    if by_staff:
        audit.record(
            session,
            actor=grant.subject,
            action="material.read",
            target=f"file:{stored.id}",
            owner=stored.owner,
            variant=grant.variant,
        )
        await session.commit()
    content_type = "image/jpeg" if grant.variant == THUMBNAIL else stored.content_type
    pdf = content_type == "application/pdf"
    return Download(
        path=path,
        content_type=content_type,
        filename=f"{stored.id}{'-thumbnail' if grant.variant == THUMBNAIL else ''}.{'pdf' if pdf else 'jpg'}",
        attachment=pdf,
    )
