"""What happens to one pushed message or event: dedupe, answer within the budget, or answer later.

WeChat waits 5 s for the HTTP answer, then retries (3 tries) and finally shows the person an error. So:

1. the first delivery to `claim` the dedupe key starts the turn as a background task;
2. if the reply is ready within the budget (~4 s) its first part goes back passively, the rest (further
   text chunks, images) follow as customer-service messages;
3. otherwise the answer is `success` and the whole reply goes as customer-service messages when ready;
4. a retry (on any gateway copy) waits for the same budget and answers with the first delivery's passive
   reply if that was ready, otherwise `success` — never a second turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bot.background import BackgroundTasks
from bot.contacts import Contacts
from bot.conversation import Conversation
from bot.dedupe import Deduper, State
from bot.dialogue import command
from bot.handoff import HandoffModes
from bot.messages import Buttons, Message, Reply, Text
from bot.wechat.api import WeChatApi, WeChatApiError
from bot.wechat.custom_menu import BY_KEY, menu_buttons
from bot.wechat.inbound import Inbound
from bot.wechat.options import OptionMenus
from bot.wechat.outbound import WeChatOutbound
from bot.wechat.rendering import ImagePart, Part, TextPart
from bot.wechat.replies import SUCCESS, Passive

log = logging.getLogger(__name__)

WELCOME = (
    "您好，欢迎关注！我是“证照联办”智能助手，可以帮您：\n"
    "· 解答开店办证的政策问题，注明出处\n"
    "· 一次告知要办哪些证、准备哪些材料\n"
    "· 在线申请，拍照上传材料\n"
    "· 随时查询办理进度，查看行业综合许可证\n"
    "· 需要时为您转接人工服务"
)
WELCOME_MENU_TITLE = "请直接输入您的问题，或回复数字选择："
WELCOME_BACK = "欢迎回来！请直接输入您的问题，或回复数字选择："
VOICE_NEEDS_TEXT = "抱歉，这条语音没能识别出文字，请改用文字告诉我。"
UNSUPPORTED = "抱歉，目前只能处理文字、图片和语音消息。请用文字描述，或发送材料的照片。"
IMAGE_DOWNLOAD_FAILED = "抱歉，图片没能接收成功，请重新发送。"
SOMETHING_WENT_WRONG = "抱歉，系统出了点问题，请稍后再试。"


@dataclass(frozen=True, slots=True)
class Timing:
    budget: float  # seconds from arrival to the latest passive answer
    follow_up_pause: float = 0.5  # lets the passive reply reach the phone before the follow-ups


class CallbackService:
    def __init__(
        self,
        *,
        conversation: Conversation,
        contacts: Contacts,
        modes: HandoffModes,
        options: OptionMenus,
        api: WeChatApi,
        outbound: WeChatOutbound,
        deduper: Deduper,
        tasks: BackgroundTasks,
        timing: Timing,
    ) -> None:
        self._conversation = conversation
        self._contacts = contacts
        self._modes = modes
        self._options = options
        self._api = api
        self._outbound = outbound
        self._deduper = deduper
        self._tasks = tasks
        self._timing = timing

    async def handle(self, inbound: Inbound, *, arrived: float) -> Passive:
        """The passive answer for one delivery; `arrived` is its `time.monotonic()`."""
        deadline = arrived + self._timing.budget
        key = inbound.dedupe_key
        if not await self._deduper.claim(key):
            return _passive_from(await self._deduper.wait(key, deadline=deadline))
        turn = self._tasks.spawn(self._process(key, inbound), name=f"wechat {key}")
        try:
            await asyncio.wait_for(asyncio.shield(turn), timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            if await self._deduper.defer(key):
                log.info("%s not ready within %.1f s; replying later", key, self._timing.budget)
                return SUCCESS
        return _passive_from(await self._deduper.state(key))

    async def _process(self, key: str, inbound: Inbound) -> None:
        try:
            reply = await self._answer(inbound)
        except Exception:
            log.exception("turn for %s failed", key)
            reply = Reply((Text(SOMETHING_WENT_WRONG),)) if inbound.is_user_message else None
        if reply is None or (not reply.messages and not reply.transfer_to_wechat_kf):
            await self._deduper.finish(key, SUCCESS.encode())
            return
        if reply.transfer_to_wechat_kf:
            if not await self._deduper.finish(key, Passive("transfer").encode()):
                log.warning("%s: too late to transfer to WeChat customer service", key)
            return
        parts = await self._outbound.prepare(inbound.user, reply.messages, replace_menu=not reply.keep_menu)
        first, rest = await self._passive_part(parts)
        if not await self._deduper.finish(key, first.encode()):
            await self._send(inbound.openid, parts)  # too late for a passive reply: all of it now
        elif rest:
            # A task of its own, so the passive reply goes out now rather than after the follow-ups.
            self._tasks.spawn(self._follow_up(inbound.openid, rest), name=f"follow-up {key}")

    async def _follow_up(self, openid: str, parts: list[Part]) -> None:
        await asyncio.sleep(self._timing.follow_up_pause)
        await self._send(openid, parts)

    async def _passive_part(self, parts: list[Part]) -> tuple[Passive, list[Part]]:
        match parts[0] if parts else None:
            case TextPart(text):
                return Passive("text", text), parts[1:]
            case ImagePart(url):
                try:
                    return Passive("image", await self._outbound.image_media_id(url)), parts[1:]
                except WeChatApiError:
                    log.exception("cannot upload %s for a passive reply", url)
                    return SUCCESS, parts
            case _:
                return SUCCESS, parts

    async def _send(self, openid: str, parts: list[Part]) -> None:
        try:
            await self._outbound.send(openid, parts)
        except WeChatApiError as exc:
            log.error("customer-service delivery to %s failed: %s", openid, exc)

    async def _answer(self, inbound: Inbound) -> Reply | None:
        user = inbound.user
        if inbound.is_user_message:
            await self._contacts.touch(user)
        match inbound.kind:
            case "text":
                text = await self._options.resolve(user, inbound.content)
                return await self._conversation.say(user, text)
            case "image":
                return await self._image(inbound)
            case "voice":
                if await self._conversation.in_wechat_kf_mode(user):
                    return Reply(transfer_to_wechat_kf=True)
                if inbound.recognition.strip():
                    return await self._conversation.say(user, inbound.recognition.strip())
                return Reply((Text(VOICE_NEEDS_TEXT),))
            case "location":
                entities = {
                    "latitude": _number(inbound.latitude),
                    "longitude": _number(inbound.longitude),
                    "label": inbound.label,
                }
                staff = f"[位置] {inbound.label}（{inbound.latitude}, {inbound.longitude}）"
                return await self._conversation.say(
                    user, command("share_location", entities), staff_text=staff
                )
            case "link":
                entities = {"title": inbound.title, "url": inbound.url}
                staff = f"[链接] {inbound.title} {inbound.url}"
                return await self._conversation.say(user, command("share_link", entities), staff_text=staff)
            case "event":
                return await self._event(inbound)
            case _:
                if await self._conversation.in_wechat_kf_mode(user):
                    return Reply(transfer_to_wechat_kf=True)
                return Reply((Text(UNSUPPORTED),))

    async def _image(self, inbound: Inbound) -> Reply:
        user = inbound.user
        if await self._conversation.in_wechat_kf_mode(user):
            return Reply(transfer_to_wechat_kf=True)
        # Media ids expire in 3 days: fetch the photo now and keep it in the backend.
        try:
            data, content_type = await self._api.download_media(inbound.media_id)
        except WeChatApiError:
            log.exception("cannot download media %s", inbound.media_id)
            return Reply((Text(IMAGE_DOWNLOAD_FAILED),))
        content_type = content_type.split(";")[0].strip() or "image/jpeg"
        extension = "png" if content_type == "image/png" else "jpg"
        return await self._conversation.upload(
            user, data=data, filename=f"wechat-{inbound.msg_id}.{extension}", content_type=content_type
        )

    async def _event(self, inbound: Inbound) -> Reply | None:
        user = inbound.user
        match inbound.event:
            case "subscribe" | "subscribe_scan":
                await self._contacts.set_following(user, True)
                if inbound.event_key:
                    await self._contacts.set_scene(user, inbound.event_key)
                return Reply(_welcome(WELCOME, WELCOME_MENU_TITLE))
            case "scan":
                if inbound.event_key:
                    await self._contacts.set_scene(user, inbound.event_key)
                return Reply((Buttons(WELCOME_BACK, menu_buttons()),))
            case "unsubscribe":
                await self._contacts.set_following(user, False)
                await self._options.remember(user, {})
                await self._modes.end(user)
                return None
            case "click":
                item = BY_KEY.get(inbound.event_key)
                if item is None:
                    log.warning("unknown menu key %r", inbound.event_key)
                    return None
                return await self._conversation.say(user, item.payload, staff_text=f"[菜单] {item.title}")
            case "templatesendjobfinish":
                await self._contacts.record_template_result(inbound.msg_id, inbound.status)
                return None
            case "kf_close_session":
                mode = await self._modes.current(user)
                if mode is not None and mode.desk == "wechat_kf":
                    await self._modes.end(user, mode.handoff_id)
                return None
            case _:  # view, location reports, kf_create_session, …: nothing to say
                return None


def _welcome(text: str, menu_title: str) -> tuple[Message, ...]:
    return (Text(text), Buttons(menu_title, menu_buttons()))


def _number(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def _passive_from(state: State | None) -> Passive:
    if state is None or state.reply is None:
        return SUCCESS
    return Passive.decode(state.reply)
