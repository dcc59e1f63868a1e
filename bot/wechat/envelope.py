"""Opening and sealing callback requests: signatures, timestamps, plaintext and safe (AES) mode.

Everything hostile ends in `CallbackRejected` with a 4xx status, never an exception that would become a
5xx (WeChat would retry it and show the user an error).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

# DTDs are how entity-expansion and external-entity tricks start; WeChat never sends one.
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class CallbackRejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Envelope:
    xml: str
    encrypted: bool
    timestamp: str
    nonce: str


class CallbackCrypto:
    def __init__(self, *, token: str, aes_key: str, appid: str, max_skew: int) -> None:
        self._token = token
        self._crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self._max_skew = max_skew

    def _check(self, query: Mapping[str, str], now: float) -> tuple[str, str]:
        signature = query.get("signature", "")
        timestamp = query.get("timestamp", "")
        nonce = query.get("nonce", "")
        if not (signature and timestamp and nonce):
            raise CallbackRejected(403, "missing signature")
        try:
            check_signature(self._token, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise CallbackRejected(403, "bad signature") from None
        if not timestamp.isdigit() or abs(now - int(timestamp)) > self._max_skew:
            raise CallbackRejected(403, "stale timestamp")
        return timestamp, nonce

    def verify_url(self, query: Mapping[str, str], *, now: float) -> str:
        """GET URL verification: echo `echostr` when the signature is ours."""
        self._check(query, now)
        return query.get("echostr", "")

    def open(self, query: Mapping[str, str], body: bytes, *, now: float) -> Envelope:
        timestamp, nonce = self._check(query, now)
        if _DTD.search(body):
            raise CallbackRejected(400, "DTD not allowed")
        encrypt_type = query.get("encrypt_type", "raw") or "raw"
        if encrypt_type == "raw":
            try:
                return Envelope(body.decode("utf-8"), False, timestamp, nonce)
            except UnicodeDecodeError:
                raise CallbackRejected(400, "body is not UTF-8") from None
        if encrypt_type != "aes" or self._crypto is None:
            raise CallbackRejected(400, f"unsupported encrypt_type {encrypt_type}")
        try:
            xml = self._crypto.decrypt_message(
                body.decode("utf-8"), query.get("msg_signature", ""), timestamp, nonce
            )
        except (InvalidSignatureException, InvalidAppIdException):
            raise CallbackRejected(403, "bad msg_signature") from None
        except Exception:  # malformed envelope, bad base64, bad padding: all the sender's fault
            raise CallbackRejected(400, "cannot decrypt") from None
        text = xml if isinstance(xml, str) else bytes(xml).decode("utf-8", "replace")
        if _DTD.search(text.encode()):
            raise CallbackRejected(400, "DTD not allowed")
        return Envelope(text, True, timestamp, nonce)

    def seal(self, reply_xml: str, envelope: Envelope) -> str:
        """Encrypt a passive reply in safe mode. `success` and empty bodies stay plain, as WeChat expects."""
        if not envelope.encrypted or not reply_xml or reply_xml == "success" or self._crypto is None:
            return reply_xml
        return str(self._crypto.encrypt_message(reply_xml, envelope.nonce, envelope.timestamp))
