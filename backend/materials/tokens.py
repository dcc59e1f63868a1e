"""HMAC-signed tokens: the licence QR code's verification token and expiring file-download tokens.

Licence token: `XK-2026-7K3M9Q-<24 Crockford base32 characters>` — the licence number and 120 bits of
HMAC-SHA256 over it. It is deterministic on purpose: the token printed on a licence never changes, so a
QR code from before a change still opens the page, which shows the *current* state. Without the key it
cannot be made from the number. Uppercase base32 keeps the whole token inside the QR alphanumeric
character set, so the code stays small and easy to scan.

File token: `<payload>.<mac>` in base64url, payload = file id, variant, expiry, and whom it was issued
to (so the download view can write the audit entry for a staff read without another lookup).

Notice token: the same shape, for the one-time notice picture (`/n/<token>/notice.png`) that the gateway
fetches without credentials. The picture lists an applicant's materials, so unlike the licence token it
expires, and its 160-bit MAC makes it unguessable from the application code it carries.

Every MAC is computed over a purpose prefix, so one key can serve every kind without a token of one kind
ever passing for another. Pass `previous_keys` while rotating the key: printed licences hang on walls for
years.
"""

import base64
import binascii
import hmac
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LICENCE_MAC_CHARS = 24  # 120 bits
VERIFY_PATH = "/v/"
NOTICE_PATH = "/n/"
MIN_KEY_BYTES = 16

_LICENCE_NUMBER = re.compile(r"^[0-9A-Z]+(?:-[0-9A-Z]+)*$")
_LICENCE_TOKEN = re.compile(rf"^([0-9A-Z]+(?:-[0-9A-Z]+)*)-([0-9A-HJKMNP-TV-Z]{{{LICENCE_MAC_CHARS}}})$")
_MAX_LICENCE_NUMBER = 40
_FILE_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,600})\.([A-Za-z0-9_-]{27})$")
_LICENCE_PURPOSE = b"licence-verification:v1\x00"
_FILE_PURPOSE = b"file-download:v1\x00"
_NOTICE_PURPOSE = b"notice-picture:v1\x00"
# A checklist's answers travel in its notice token; this keeps the URL well inside every HTTP line limit.
MAX_NOTICE_PAYLOAD = 1800
_NOTICE_TOKEN = re.compile(rf"^([A-Za-z0-9_-]{{1,{MAX_NOTICE_PAYLOAD}}})\.([A-Za-z0-9_-]{{27}})$")

Key = bytes | str


def _key_bytes(key: Key) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    if len(raw) < MIN_KEY_BYTES:
        raise ValueError(f"signing key must be at least {MIN_KEY_BYTES} bytes")
    return raw


def _base32(raw: bytes, chars: int) -> str:
    number = int.from_bytes(raw, "big")
    bits = len(raw) * 8
    return "".join(CROCKFORD[(number >> (bits - 5 * (i + 1))) & 31] for i in range(chars))


def _licence_mac(licence_number: str, key: Key) -> str:
    digest = hmac.new(_key_bytes(key), _LICENCE_PURPOSE + licence_number.encode(), sha256).digest()
    return _base32(digest[:15], LICENCE_MAC_CHARS)


def sign_licence(licence_number: str, key: Key) -> str:
    if len(licence_number) > _MAX_LICENCE_NUMBER or not _LICENCE_NUMBER.match(licence_number):
        raise ValueError("licence number must be uppercase letters and digits separated by single dashes")
    return f"{licence_number}-{_licence_mac(licence_number, key)}"


def verify_licence(token: str, key: Key, *, previous_keys: Iterable[Key] = ()) -> str | None:
    """The licence number if the token is genuine, else None. Exact match: no case folding."""
    if len(token) > _MAX_LICENCE_NUMBER + 1 + LICENCE_MAC_CHARS:
        return None
    match = _LICENCE_TOKEN.match(token)
    if match is None:
        return None
    number, mac = match[1], match[2]
    for candidate in (key, *previous_keys):
        if hmac.compare_digest(mac, _licence_mac(number, candidate)):
            return number
    return None


def verification_url(public_base_url: str, licence_number: str, key: Key) -> str:
    return f"{public_base_url.rstrip('/')}{VERIFY_PATH}{sign_licence(licence_number, key)}"


# --- expiring file URLs -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileGrant:
    file_id: str
    variant: str
    subject: str
    expires_at: int


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(purpose: bytes, payload: str, key: Key) -> str:
    digest = hmac.new(_key_bytes(key), purpose + payload.encode(), sha256).digest()
    return _b64(digest[:20])


def _file_mac(payload: str, key: Key) -> str:
    return _mac(_FILE_PURPOSE, payload, key)


def sign_file_token(
    file_id: str,
    key: Key,
    *,
    subject: str,
    ttl_seconds: int = 600,
    variant: str = "original",
    now: float | None = None,
) -> str:
    """A token that lets its bearer download one file variant until it expires.

    `subject` names whom it was issued to (`staff:12`, `wechat:oAbC…`); the download view audits staff
    reads with it. Keep the TTL short: a URL can be forwarded.
    """
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    expires_at = int((time.time() if now is None else now) + ttl_seconds)
    body = json.dumps([file_id, variant, subject, expires_at], ensure_ascii=False, separators=(",", ":"))
    payload = _b64(body.encode())
    return f"{payload}.{_file_mac(payload, key)}"


def verify_file_token(
    token: str, key: Key, *, now: float | None = None, previous_keys: Iterable[Key] = ()
) -> FileGrant | None:
    match = _FILE_TOKEN.match(token)
    if match is None:
        return None
    payload, mac = match[1], match[2]
    if not any(hmac.compare_digest(mac, _file_mac(payload, k)) for k in (key, *previous_keys)):
        return None
    try:
        file_id, variant, subject, expires_at = json.loads(_unb64(payload))
    except (ValueError, TypeError, binascii.Error):
        return None
    if not (isinstance(file_id, str) and isinstance(variant, str) and isinstance(subject, str)):
        return None
    if not isinstance(expires_at, int) or expires_at <= (time.time() if now is None else now):
        return None
    return FileGrant(file_id=file_id, variant=variant, subject=subject, expires_at=expires_at)


# --- expiring notice-picture URLs -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeGrant:
    """What a notice token shows: one application's notice (`application_code`), or — before any
    application exists — the notice of a catalog checklist (`package_id` and its `answers`)."""

    expires_at: int
    application_code: str | None = None
    package_id: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)


def _sign_notice(body: list[Any], key: Key) -> str:
    payload = _b64(json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
    if len(payload) > MAX_NOTICE_PAYLOAD:
        raise ValueError("notice token payload too long")
    return f"{payload}.{_mac(_NOTICE_PURPOSE, payload, key)}"


def sign_application_notice(code: str, key: Key, *, expires_at: int) -> str:
    return _sign_notice(["application", code, expires_at], key)


def sign_checklist_notice(package_id: str, answers: dict[str, Any], key: Key, *, expires_at: int) -> str:
    """Raises ValueError when the answers do not fit in a URL."""
    return _sign_notice(["checklist", package_id, answers, expires_at], key)


def verify_notice_token(
    token: str, key: Key, *, now: float | None = None, previous_keys: Iterable[Key] = ()
) -> NoticeGrant | None:
    match = _NOTICE_TOKEN.match(token)
    if match is None:
        return None
    payload, mac = match[1], match[2]
    if not any(hmac.compare_digest(mac, _mac(_NOTICE_PURPOSE, payload, k)) for k in (key, *previous_keys)):
        return None
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, TypeError, binascii.Error):
        return None
    match body:
        case ["application", str(code), int(expires_at)]:
            grant = NoticeGrant(expires_at=expires_at, application_code=code)
        case ["checklist", str(package_id), dict(answers), int(expires_at)]:
            grant = NoticeGrant(expires_at=expires_at, package_id=package_id, answers=answers)
        case _:
            return None
    if grant.expires_at <= (time.time() if now is None else now):
        return None
    return grant
