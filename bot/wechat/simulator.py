"""Build callback requests exactly as WeChat does (signed, and encrypted in safe mode), and read replies.

Used by the tests, the bench and `python -m bot.wechat_client`.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import xmltodict  # type: ignore[import-untyped]  # wechatpy's own XML parser
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner


def sign(*values: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*values)
    return str(signer.signature)


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(
    openid: str,
    msg_type: str,
    *,
    account: str = "gh_standin",
    create_time: int | None = None,
    msg_id: int | None = None,
    **fields: str,
) -> str:
    """A pushed message or event; `fields` are XML element names (Content, MediaId, Event, EventKey…)."""
    created = create_time if create_time is not None else int(time.time())
    parts = [
        f"<ToUserName>{_cdata(account)}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{created}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    parts += [f"<{name}>{_cdata(value)}</{name}>" for name, value in fields.items()]
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id if msg_id is not None else secrets.randbelow(10**15)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    params: dict[str, str]
    body: str


class WeChatSimulator:
    """Plays WeChat's side of the callback for one Official Account."""

    def __init__(self, *, token: str, aes_key: str = "", appid: str = "") -> None:
        self.token = token
        self._crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def request(self, xml: str, *, encrypt: bool = True, timestamp: int | None = None) -> SignedRequest:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = str(secrets.randbelow(10**9))
        params = {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if not encrypt or self._crypto is None:
            return SignedRequest(params, xml)
        envelope = xmltodict.parse(self._crypto.encrypt_message(xml, nonce, ts))["xml"]
        body = (
            "<xml><ToUserName><![CDATA[gh_standin]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
        )
        params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"], openid="o")
        return SignedRequest(params, body)

    def verification(self, echostr: str) -> dict[str, str]:
        ts, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
        return {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": echostr}

    def read_reply(self, body: str) -> dict[str, str] | None:
        """The passive reply as a dict (MsgType, Content, …), or None for `success` / empty."""
        if body in ("", "success"):
            return None
        data = xmltodict.parse(body)["xml"]
        if "Encrypt" in data:
            if self._crypto is None:
                raise ValueError("encrypted reply but no AES key")
            body = self._crypto.decrypt_message(body, data["MsgSignature"], data["TimeStamp"], data["Nonce"])
            data = xmltodict.parse(body)["xml"]
        return dict(data)


def describe(reply: dict[str, str] | None) -> str:
    if reply is None:
        return "success (the answer will come as a customer-service message)"
    match reply.get("MsgType"):
        case "text":
            return reply.get("Content", "")
        case "image":
            return f"[image {reply.get('Image')}]"
        case other:
            return f"[{other}]"
