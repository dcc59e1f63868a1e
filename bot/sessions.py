"""Signed session tokens for the web and mini-program chat: `<channel>:<user_id>` plus an expiry, HMAC-signed.

A token proves who the caller is without server-side state, so every gateway copy accepts it as long as
they share `SESSION_SECRET`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time

from bot.messages import UserRef

log = logging.getLogger(__name__)


class InvalidToken(Exception):
    pass


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionTokens:
    def __init__(self, secret: str, *, ttl: int) -> None:
        if not secret:
            log.warning("SESSION_SECRET unset: tokens die with this process; other copies reject them")
            secret = secrets.token_urlsafe(32)
        self._key = secret.encode()
        self.ttl = ttl

    def issue(self, user: UserRef, *, now: float | None = None) -> str:
        expires = int((now or time.time()) + self.ttl)
        body = _b64(f"{user.applicant}|{expires}".encode())
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, *, now: float | None = None) -> UserRef:
        body, _, signature = token.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            raise InvalidToken("bad signature")
        try:
            applicant, _, expires = _unb64(body).decode().rpartition("|")
            user = UserRef.parse(applicant)
            expired = int(expires) < (now or time.time())
        except (ValueError, UnicodeDecodeError):
            raise InvalidToken("malformed") from None
        if expired:
            raise InvalidToken("expired")
        return user

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
