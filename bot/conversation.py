"""One user input → the reply, for every channel: the assistant, or staff when in human mode."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.backend_client import BackendClient, BackendError, BackendRejected
from bot.contacts import Contacts
from bot.dialogue import Dialogue, DialogueUnavailable, command
from bot.handoff import EXIT_WORDS, Desk, HandoffModes, HumanMode
from bot.messages import Message, Reply, Text, UserRef
from bot.notices import RATE_COMMAND

log = logging.getLogger(__name__)

ASSISTANT_UNAVAILABLE = "抱歉，智能助手暂时无法回答，请稍后再试。如需帮助，可以发送“人工服务”。"
STAFF_UNREACHABLE = "抱歉，消息暂时没能转给工作人员，请稍后再发一次。"
UPLOAD_FAILED = "抱歉，文件没能保存成功，请稍后重新发送。"
HANDOFF_STARTED = "已为您转接人工服务，请直接发送您的问题，工作人员会尽快回复。"
HANDOFF_EXIT_HINT = "（发送“结束人工”可随时返回智能助手）"
HANDOFF_LEFT = "已结束人工服务，智能助手继续为您服务。"
FORWARDED = "（消息已转给工作人员，请稍候回复；发送“结束人工”可返回智能助手）"
# Backend answers for a handoff that is closed or unknown: the person goes back to the assistant.
_HANDOFF_GONE = frozenset({404, 409, 410})


class Conversation:
    def __init__(
        self,
        *,
        dialogue: Dialogue,
        backend: BackendClient,
        modes: HandoffModes,
        contacts: Contacts,
        wechat_kf_handoff: bool = False,
    ) -> None:
        self._dialogue = dialogue
        self._backend = backend
        self._modes = modes
        self._contacts = contacts
        self._wechat_kf = wechat_kf_handoff

    async def say(self, user: UserRef, text: str, *, staff_text: str | None = None) -> Reply:
        """`staff_text` is what staff see when `text` is a command meant for the assistant."""
        mode = await self._modes.current(user)
        if mode is not None and text.startswith(RATE_COMMAND + "{"):
            # A score tapped on a licence notice that arrived while talking to staff: staff would only
            # see a payload, and the rating would be lost.
            return replace(await self._to_assistant(user, text), human_mode=True)
        if mode is not None:
            reply = await self._to_staff(user, mode, text, staff_text or text)
            if reply is not None:
                return reply
        return await self._to_assistant(user, text)

    async def in_wechat_kf_mode(self, user: UserRef) -> bool:
        mode = await self._modes.current(user)
        return mode is not None and mode.desk == "wechat_kf"

    async def upload(self, user: UserRef, *, data: bytes, filename: str, content_type: str) -> Reply:
        """A photo or scan of a material: stored in the backend, then announced to whoever is listening."""
        try:
            stored = await self._backend.store_file(
                applicant=user.applicant, data=data, filename=filename, content_type=content_type
            )
        except BackendRejected as exc:
            return Reply((Text(exc.message),))
        except BackendError:
            log.exception("storing an upload for %s failed", user.applicant)
            return Reply((Text(UPLOAD_FAILED),))
        kind = "PDF" if stored.content_type == "application/pdf" else "图片"
        reply = await self.say(
            user,
            command("upload_material", {"file_id": stored.file_id, "content_type": stored.content_type}),
            staff_text=f"[{kind}] 文件编号 {stored.file_id}",
        )
        if not reply.human_mode:
            # The assistant reads the quality warnings from the material it files the photo as, and says
            # what to do about them there; saying them here too would say them twice.
            return reply
        warnings: tuple[Message, ...] = tuple(Text(w) for w in stored.warnings)
        return replace(reply, messages=warnings + reply.messages)

    async def _to_staff(self, user: UserRef, mode: HumanMode, text: str, staff_text: str) -> Reply | None:
        if text.strip() in EXIT_WORDS:
            await self._leave(user, mode)
            return Reply((Text(HANDOFF_LEFT),), keep_menu=True)
        await self._modes.keep_alive(user)
        if mode.desk == "wechat_kf":
            return Reply(transfer_to_wechat_kf=True, human_mode=True)
        try:
            await self._backend.post_handoff_message(
                applicant=user.applicant, handoff_id=mode.handoff_id, text=staff_text
            )
        except BackendRejected as exc:
            if exc.status in _HANDOFF_GONE:
                await self._modes.end(user, mode.handoff_id)
                return None
            return Reply((Text(exc.message),), human_mode=True)
        except BackendError:
            log.exception("forwarding to handoff %s failed", mode.handoff_id)
            return Reply((Text(STAFF_UNREACHABLE),), human_mode=True)
        if await self._modes.due_receipt(user):
            return Reply((Text(FORWARDED),), human_mode=True, keep_menu=True)
        return Reply(human_mode=True)

    async def _leave(self, user: UserRef, mode: HumanMode) -> None:
        """Back to the assistant at once; the backend closes the handoff so staff see the person has gone."""
        await self._modes.end(user, mode.handoff_id)
        try:
            await self._backend.close_handoff(applicant=user.applicant, handoff_id=mode.handoff_id)
        except BackendRejected as exc:
            # 404: not theirs or gone; either way nothing is left open for staff.
            log.info("closing handoff %s for %s refused: %s", mode.handoff_id, user.applicant, exc)
        except BackendError as exc:
            # The backend's idle close will tidy up; the person must not be kept in human mode for it.
            log.warning("closing handoff %s for %s failed: %s", mode.handoff_id, user.applicant, exc)

    async def _to_assistant(self, user: UserRef, text: str) -> Reply:
        try:
            turn = await self._dialogue.turn(user.applicant, text)
        except DialogueUnavailable as exc:
            log.warning("dialogue unavailable for %s: %s", user.applicant, exc)
            return Reply((Text(ASSISTANT_UNAVAILABLE),))
        messages: tuple[Message, ...] = tuple(turn.messages)
        if turn.handoff_id is None:
            return Reply(messages)
        desk: Desk = "wechat_kf" if user.channel == "wechat" and self._wechat_kf else "backend"
        await self._modes.start(user, turn.handoff_id, desk=desk)
        if not messages:
            messages = (Text(HANDOFF_STARTED),)
        return Reply((*messages, Text(HANDOFF_EXIT_HINT)), handoff_id=turn.handoff_id, human_mode=True)
