"""The notifier: channel choice, retry, dead-letter, idempotence, restart and Redis data loss."""

import asyncio
import json

import pytest

from bot.components import open_components
from bot.contacts import Contacts
from bot.messages import UserRef
from bot.notifier import Notifier
from bot.settings import TemplateSpec
from tests.bot.conftest import make_settings, publish, web_auth
from tests.bot.wechat_helpers import custom_images, custom_texts, deliver, eventually, text

PROGRESS_TEMPLATE = TemplateSpec(
    template_id="TPL-PROGRESS",
    data={"character_string1": "application_code", "thing2": "title", "phrase3": "status", "time4": "time"},
)


@pytest.fixture
def settings(standins, redis_url):
    return make_settings(
        standins,
        redis_url,
        wechat_templates={"default": PROGRESS_TEMPLATE},
        miniprogram_templates={"default": PROGRESS_TEMPLATE.model_copy(update={"template_id": "MP-TPL"})},
        notifier_cursor_interval=0.05,
    )


async def in_window(redis, openid):
    await Contacts(redis).touch(UserRef("wechat", openid))


def templates(standins, openid):
    return [
        c.body for c in standins.wechat.sent("/cgi-bin/message/template/send") if c.body["touser"] == openid
    ]


async def test_inside_the_48_hour_window_a_customer_service_message_carries_the_card(
    standins, redis, notifier
):
    await in_window(redis, "oWin")
    await publish(
        redis,
        standins,
        "licence.issued",
        "wechat:oWin",
        {"licence_number": "XK-2024-7K3M9Q", "card_url": f"{standins.rasa_url}/standin/card.png"},
    )
    await eventually(lambda: len(custom_texts(standins.wechat, "oWin")) == 2)
    message, rating = custom_texts(standins.wechat, "oWin")
    assert "XK-2024-7K3M9Q" in message
    assert len(custom_images(standins.wechat, "oWin")) == 1
    assert rating.startswith("请您为这次办证服务打个分") and "回复 5 5分 非常满意" in rating
    assert templates(standins, "oWin") == []


async def test_a_number_answers_the_menu_of_a_notice_sent_as_a_customer_service_message(
    gateway, simulator, standins, redis, notifier
):
    await deliver(gateway, simulator, text("oScore", "我要办证"))  # a menu of its own, replaced below
    await publish(
        redis,
        standins,
        "licence.issued",
        "wechat:oScore",
        {"licence_number": "XK-1"},
        application_code="ZL-1",
    )
    await eventually(lambda: any("打个分" in t for t in custom_texts(standins.wechat, "oScore")))
    await deliver(gateway, simulator, text("oScore", "２"))  # full-width, as Chinese keyboards type it
    assert standins.rasa.turns[-1]["message"] == '/rate{"score": "2", "application_code": "ZL-1"}'
    # the assistant's answer has no buttons, so a later number is a plain answer again
    await deliver(gateway, simulator, text("oScore", "2"))
    assert standins.rasa.turns[-1]["message"] == "2"


async def test_a_template_message_carries_the_text_without_buttons(standins, redis, notifier):
    await publish(redis, standins, "licence.issued", "wechat:oAway", {"licence_number": "XK-2"})
    await eventually(lambda: templates(standins, "oAway"))
    [sent] = templates(standins, "oAway")
    assert sent["data"]["thing2"]["value"] == "许可证已签发"
    assert custom_texts(standins.wechat, "oAway") == []
    assert await redis.get("gw:menu:wechat:oAway") is None, "no numbered menu was shown, so none is kept"


async def test_outside_the_window_a_template_message_with_short_values(standins, redis, notifier):
    event = await publish(
        redis,
        standins,
        "task.decided",
        "wechat:oAway",
        {
            "department_name": "沂水县市场监督管理局食品经营许可审查科",
            "decision": "approve",
            "status_label": "已批准",
        },
    )
    await eventually(lambda: templates(standins, "oAway"))
    [sent] = templates(standins, "oAway")
    assert sent["template_id"] == "TPL-PROGRESS"
    assert sent["data"]["character_string1"]["value"] == "ZL-20240601-7K3M9Q"
    assert sent["data"]["phrase3"]["value"] == "已批准"
    assert all(len(v["value"]) <= 20 and "\n" not in v["value"] for v in sent["data"].values())
    assert sent["data"]["thing2"]["value"].endswith("…")
    assert custom_texts(standins.wechat, "oAway") == []

    # the delivery is recorded (just after the send returns), and WeChat's TEMPLATESENDJOBFINISH later fills
    # in the result
    async def records():
        return [await redis.hgetall(k) async for k in redis.scan_iter("gw:template:*")]

    await eventually_async(
        records, [{"applicant": "wechat:oAway", "event_id": event["id"], "status": "sent"}]
    )


async def test_customer_service_refused_with_45015_falls_back_to_a_template(standins, redis, notifier):
    await in_window(redis, "oStale")
    standins.wechat.fail("/cgi-bin/message/custom/send", 45015)
    await publish(redis, standins, "application.accepted", "wechat:oStale", {"promised_days": 5})
    await eventually(lambda: templates(standins, "oStale"))


async def test_without_a_template_an_unreachable_user_is_skipped_not_retried(
    aiohttp_client, standins, redis, redis_url
):
    settings = make_settings(standins, redis_url, wechat_templates={}, notifier_cursor_interval=0.05)
    async with open_components(settings) as parts:
        notifier = Notifier.from_components(parts)
        async with notifier.running():
            await publish(redis, standins, "application.completed", "wechat:oNone")
            await eventually(lambda: notifier.delivered == 1)
    assert standins.wechat.sent("/cgi-bin/message/template/send") == []
    assert await redis.xlen("events:dead") == 0


async def test_web_notices_wait_for_the_poll(gateway, standins, redis, notifier):
    await publish(
        redis,
        standins,
        "application.correction_required",
        "web:u-poll-0001",
        {"problems": [{"material_name": "营业场所平面图", "problem": "缺少面积标注"}]},
    )
    await eventually(lambda: notifier.delivered == 1)
    resp = await gateway.get("/api/chat/notices", headers=web_auth("u-poll-0001"))
    [message] = (await resp.json())["messages"]
    assert "1. 营业场所平面图：缺少面积标注" in message["text"]


async def test_mini_program_subscribe_message_one_consent_one_send(standins, redis, notifier):
    user = UserRef("miniprogram", "oMiniUser")
    await Contacts(redis).add_consents(user, "MP-TPL")
    await publish(redis, standins, "application.accepted", user.applicant)
    await publish(redis, standins, "application.completed", user.applicant)
    await eventually(lambda: notifier.delivered == 2)
    sends = standins.wechat.sent("/cgi-bin/message/subscribe/send")
    assert len(sends) == 1
    assert sends[0].body["miniprogram_state"] == "formal"
    assert len(await redis.lrange(f"gw:notices:{user.applicant}", 0, -1)) == 2  # both shown in the chat


async def test_used_up_subscription_clears_the_consent_count(standins, redis, notifier):
    user = UserRef("miniprogram", "oMiniRefused")
    await Contacts(redis).add_consents(user, "MP-TPL", 3)
    standins.wechat.fail("/cgi-bin/message/subscribe/send", 43101)
    await publish(redis, standins, "application.accepted", user.applicant)
    await eventually(lambda: notifier.delivered == 1)
    assert not await Contacts(redis).take_consent(user, "MP-TPL")


async def test_a_failed_delivery_is_retried_with_backoff(standins, redis, notifier):
    await in_window(redis, "oRetry")
    standins.wechat.fail("/cgi-bin/message/custom/send", -1, times=2)  # "system busy"
    await publish(redis, standins, "application.accepted", "wechat:oRetry")
    await eventually(lambda: notifier.delivered == 1)
    assert len(custom_texts(standins.wechat, "oRetry")) == 1
    assert len(standins.wechat.tried("/cgi-bin/message/custom/send")) == 3
    assert (await redis.xpending("events", "notifier"))["pending"] == 0


async def test_after_max_attempts_the_event_is_dead_lettered(standins, redis, notifier):
    await in_window(redis, "oDead")
    standins.wechat.fail("/cgi-bin/message/custom/send", -1, times=10)
    event = await publish(redis, standins, "application.accepted", "wechat:oDead")
    await eventually(lambda: len(standins.wechat.tried("/cgi-bin/message/custom/send")) == 3)
    await eventually_async(lambda: redis.xlen("events:dead"), 1)
    [(_, dead)] = await redis.xrange("events:dead")
    assert json.loads(dead["event"])["id"] == event["id"]
    assert dead["attempts"] == "3"
    assert (await redis.xpending("events", "notifier"))["pending"] == 0


async def test_malformed_entries_are_dead_lettered_at_once(standins, redis, notifier):
    await redis.xadd("events", {"event": "{not json"})
    await redis.xadd(
        "events", {"event": json.dumps({"id": "x1", "type": "application.accepted", "applicant": "?"})}
    )
    await eventually_async(lambda: redis.xlen("events:dead"), 2)


async def test_one_event_id_is_delivered_once(standins, redis, notifier):
    await in_window(redis, "oOnce")
    event = await publish(redis, standins, "application.accepted", "wechat:oOnce")
    await redis.xadd("events", {"event": json.dumps(event)})  # the relay published it twice
    await eventually(lambda: custom_texts(standins.wechat, "oOnce"))
    await asyncio.sleep(0.3)
    assert len(custom_texts(standins.wechat, "oOnce")) == 1


async def test_cursor_is_saved_in_the_backend(standins, redis, notifier):
    await in_window(redis, "oCursor")
    events = [await publish(redis, standins, "application.accepted", "wechat:oCursor") for _ in range(3)]
    await eventually(lambda: standins.backend.cursors.get("notifier-1") == events[-1]["id"])


async def test_a_restarted_notifier_delivers_what_arrived_meanwhile_and_nothing_twice(
    settings, standins, redis
):
    await in_window(redis, "oRestart")
    async with open_components(settings) as parts:
        first = Notifier.from_components(parts)
        async with first.running():
            await publish(redis, standins, "application.accepted", "wechat:oRestart")
            await eventually(lambda: first.delivered == 1)
    # stopped: these wait in the stream
    await publish(redis, standins, "task.decided", "wechat:oRestart", {"department_name": "卫健委"})
    await publish(redis, standins, "application.completed", "wechat:oRestart")
    async with open_components(settings) as parts:
        second = Notifier.from_components(parts)
        async with second.running():
            await eventually(lambda: second.delivered == 2)
            await asyncio.sleep(0.2)
    texts = custom_texts(standins.wechat, "oRestart")
    assert len(texts) == 3
    assert texts[1].startswith("【卫健委】")


async def test_redis_losing_its_data_is_survived_by_replaying_from_the_backend(standins, redis, notifier):
    await in_window(redis, "oLost")
    first = await publish(redis, standins, "application.accepted", "wechat:oLost")
    await eventually(lambda: standins.backend.cursors.get("notifier-1") == first["id"])

    await redis.flushdb()  # Redis restarted empty: stream, group, idempotency keys all gone
    missed = standins.backend.add_event("task.decided", "wechat:oLost", {"department_name": "消防救援大队"})
    await in_window(redis, "oLost")
    await eventually(lambda: len(custom_texts(standins.wechat, "oLost")) == 2, within=10)
    assert custom_texts(standins.wechat, "oLost")[1].startswith("【消防救援大队】")

    # the relay re-publishes into the new stream: already delivered by the replay, so not again
    await redis.xadd("events", {"event": json.dumps(missed)})
    later = await publish(redis, standins, "application.completed", "wechat:oLost")
    await eventually(lambda: len(custom_texts(standins.wechat, "oLost")) == 3)
    await asyncio.sleep(0.3)
    assert len(custom_texts(standins.wechat, "oLost")) == 3
    await eventually(lambda: standins.backend.cursors.get("notifier-1") == later["id"])


async def test_unfollowed_users_get_nothing(gateway, simulator, standins, redis, notifier):
    from tests.bot.wechat_helpers import deliver, event

    await in_window(redis, "oBye")
    await deliver(gateway, simulator, event("oBye", "unsubscribe"))
    await publish(redis, standins, "application.accepted", "wechat:oBye")
    await eventually(lambda: notifier.delivered == 1)
    assert custom_texts(standins.wechat, "oBye") == [] and templates(standins, "oBye") == []


async def eventually_async(probe, expected, within=5.0):
    for _ in range(int(within / 0.02)):
        if await probe() == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {expected}, got {await probe()}")


async def test_a_failing_replay_is_retried_without_moving_the_cursor_past_it(standins, redis, notifier):
    await in_window(redis, "oHold")
    first = await publish(redis, standins, "application.accepted", "wechat:oHold")
    await eventually(lambda: standins.backend.cursors.get("notifier-1") == first["id"])
    await redis.flushdb()
    await in_window(redis, "oHold")
    standins.wechat.fail("/cgi-bin/message/custom/send", -1, times=2)
    standins.backend.add_event("task.decided", "wechat:oHold", {"department_name": "卫健委"})
    await eventually(lambda: len(standins.wechat.tried("/cgi-bin/message/custom/send")) >= 2)
    assert standins.backend.cursors["notifier-1"] == first["id"]  # held before the failing event
    later = await publish(redis, standins, "application.completed", "wechat:oHold")
    await eventually(lambda: len(custom_texts(standins.wechat, "oHold")) == 3, within=10)
    assert custom_texts(standins.wechat, "oHold")[1].startswith("【卫健委】")
    await eventually(lambda: standins.backend.cursors.get("notifier-1") == later["id"])
