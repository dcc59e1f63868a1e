"""`/wechat`: crypto, hostile input, dedupe, the 5-second budget, reply shapes."""

import asyncio
import json
import time

import pytest

from bot.standin import LONG_ANSWER, card_png
from bot.wechat.rendering import MAX_TEXT_BYTES
from bot.wechat.simulator import message_xml, sign
from tests.bot.wechat_helpers import custom_images, custom_texts, deliver, event, eventually, text


async def test_url_verification_echoes_echostr(gateway, simulator):
    resp = await gateway.get("/wechat", params=simulator.verification("hello-123"))
    assert resp.status == 200
    assert await resp.text() == "hello-123"


async def test_url_verification_with_wrong_signature_is_refused(gateway, simulator):
    params = simulator.verification("hello")
    params["signature"] = "0" * 40
    resp = await gateway.get("/wechat", params=params)
    assert resp.status == 403


async def test_plaintext_round_trip(gateway, simulator, standins):
    reply = await deliver(gateway, simulator, text("oPlain", "你好"), encrypt=False)
    assert reply["MsgType"] == "text"
    assert reply["Content"] == "（演示助手）收到：你好"
    assert reply["ToUserName"] == "oPlain"
    assert standins.rasa.turns[0]["sender"] == "wechat:oPlain"
    assert standins.rasa.turns[0]["metadata"] is None


async def test_aes_round_trip_with_real_wechatpy_crypto(gateway, simulator):
    request = simulator.request(text("oAes", "你好"))
    assert request.params["encrypt_type"] == "aes"
    resp = await gateway.post("/wechat", params=request.params, data=request.body)
    body = await resp.text()
    assert "<Encrypt>" in body and "你好" not in body  # the reply is encrypted too
    reply = simulator.read_reply(body)
    assert reply["Content"] == "（演示助手）收到：你好"


@pytest.mark.parametrize("field", ["signature", "msg_signature"])
async def test_tampered_signature_is_refused_with_403(gateway, simulator, standins, field):
    request = simulator.request(text("oTamper", "你好"))
    request.params[field] = "f" * 40
    resp = await gateway.post("/wechat", params=request.params, data=request.body)
    assert resp.status == 403
    assert standins.rasa.turns == []


async def test_timestamp_far_from_now_is_refused(gateway, simulator):
    request = simulator.request(text("oOld", "你好"), timestamp=int(time.time()) - 3600)
    resp = await gateway.post("/wechat", params=request.params, data=request.body)
    assert resp.status == 403


def _signed_params(simulator):
    ts, nonce = str(int(time.time())), "12345"
    return {"signature": sign(simulator.token, ts, nonce), "timestamp": ts, "nonce": nonce}


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&b;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>'


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><MsgType>text</MsgType>",
        b"<xml></xml>",
        b"<other/>",
        b"<xml><FromUserName>o</FromUserName><CreateTime>abc</CreateTime><MsgType>text</MsgType></xml>",
        b"\xff\xfe\x00garbage",
        BILLION_LAUGHS.encode(),
        EXTERNAL_ENTITY.encode(),
    ],
)
async def test_hostile_plaintext_bodies_get_4xx_never_5xx(gateway, simulator, body):
    resp = await gateway.post("/wechat", params=_signed_params(simulator), data=body)
    assert 400 <= resp.status < 500
    assert "Traceback" not in await resp.text()


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><Encrypt><![CDATA[not-base64!!]]></Encrypt></xml>",
        b"<xml><NoEncrypt/></xml>",
        BILLION_LAUGHS.encode(),
    ],
)
async def test_hostile_encrypted_bodies_get_4xx_never_5xx(gateway, simulator, body):
    params = {**_signed_params(simulator), "encrypt_type": "aes", "msg_signature": "x"}
    resp = await gateway.post("/wechat", params=params, data=body)
    assert 400 <= resp.status < 500


async def test_body_over_the_cap_is_refused(gateway, simulator):
    big = text("oBig", "长" * 40_000).encode()
    request = simulator.request(text("oBig", "x"), encrypt=False)
    resp = await gateway.post("/wechat", params=request.params, data=big)
    assert resp.status == 413


async def test_three_concurrent_deliveries_of_one_msgid_make_one_turn_and_one_reply(
    gateway, simulator, standins
):
    standins.rasa.delay = 0.3
    xml = text("oDup", "你好", msg_id=424242)
    replies = await asyncio.gather(*(deliver(gateway, simulator, xml) for _ in range(3)))
    assert len(standins.rasa.turns) == 1
    contents = {r["Content"] for r in replies if r is not None}
    assert contents == {"（演示助手）收到：你好"}
    await asyncio.sleep(0.3)
    assert custom_texts(standins.wechat, "oDup") == []  # no second copy through customer service


async def test_retry_after_the_reply_was_ready_gets_the_same_reply(gateway, simulator, standins):
    xml = text("oRetry", "你好", msg_id=777)
    first = await deliver(gateway, simulator, xml)
    again = await deliver(gateway, simulator, xml)
    assert again == {**first, "CreateTime": again["CreateTime"]}
    assert len(standins.rasa.turns) == 1


async def test_events_are_deduped_by_sender_and_create_time(gateway, simulator, standins):
    xml = event("oEvt", "CLICK", "ZL_PROGRESS", create_time=1_700_000_000)
    await deliver(gateway, simulator, xml)
    await deliver(gateway, simulator, xml)
    assert [t["message"] for t in standins.rasa.turns] == ["/check_progress"]


async def test_slow_turn_answers_success_then_sends_a_customer_service_message(gateway, simulator, standins):
    standins.rasa.slow_seconds = 1.6
    started = time.monotonic()
    reply = await deliver(gateway, simulator, text("oSlow", "慢一点回答"))
    assert reply is None  # `success`
    assert time.monotonic() - started < 1.5  # within the (test) budget of 1 s, not the turn's 1.6 s
    await eventually(lambda: custom_texts(standins.wechat, "oSlow") == ["（演示助手）收到：慢一点回答"])


async def test_retry_while_the_slow_turn_runs_gets_success_and_no_second_turn(gateway, simulator, standins):
    standins.rasa.slow_seconds = 1.6
    xml = text("oSlowRetry", "慢", msg_id=99)
    first, retry = await asyncio.gather(deliver(gateway, simulator, xml), deliver(gateway, simulator, xml))
    assert first is None and retry is None
    await eventually(lambda: len(custom_texts(standins.wechat, "oSlowRetry")) == 1)
    await asyncio.sleep(0.2)
    assert len(custom_texts(standins.wechat, "oSlowRetry")) == 1
    assert len(standins.rasa.turns) == 1


async def test_long_reply_is_split_at_2048_bytes_first_part_passive(gateway, simulator, standins):
    reply = await deliver(gateway, simulator, text("oLong", "请说长一点"))
    rest = await _wait_texts(standins, "oLong")
    parts = [reply["Content"], *rest]
    assert all(len(p.encode()) <= MAX_TEXT_BYTES for p in parts)
    assert len(parts) >= 2
    assert all(p.endswith("。") for p in parts)  # cut after sentences
    assert "".join(parts) == standins_long_answer()


def standins_long_answer() -> str:
    return LONG_ANSWER


async def _wait_texts(standins, openid, minimum=1):
    await eventually(lambda: len(custom_texts(standins.wechat, openid)) >= minimum)
    await asyncio.sleep(0.1)
    return custom_texts(standins.wechat, openid)


async def test_buttons_become_a_numbered_menu_and_a_number_maps_back(gateway, simulator, standins):
    reply = await deliver(gateway, simulator, text("oMenu", "我要办证"))
    assert reply["Content"] == "请问您要开办哪类店铺？\n回复 1 饭店\n回复 2 超市\n回复 3 药店"
    await deliver(gateway, simulator, text("oMenu", "２"))  # full-width digit from a Chinese keyboard
    assert standins.rasa.turns[-1]["message"] == '/choose_package{"package_id":"supermarket"}'
    # the menu is gone once a reply without buttons was shown: numbers are plain answers again
    await deliver(gateway, simulator, text("oMenu", "2"))
    assert standins.rasa.turns[-1]["message"] == "2"


async def test_a_bare_digit_answering_score_buttons_is_that_score(gateway, simulator, standins):
    reply = await deliver(gateway, simulator, text("oFive", "办完了吗"))
    assert "回复 6 亮证" in reply["Content"] and "回复 5 5分" in reply["Content"]
    await deliver(gateway, simulator, text("oFive", "5"))
    assert standins.rasa.turns[-1]["message"] == '/rate{"score": "5"}'
    await deliver(gateway, simulator, text("oFive", "办完了吗"))
    await deliver(gateway, simulator, text("oFive", "6"))
    assert standins.rasa.turns[-1]["message"] == "/show_licence"


async def test_reply_text_containing_cdata_end_is_escaped(gateway, simulator):
    reply = await deliver(gateway, simulator, text("oCdata", "a]]>b"))
    assert reply["Content"] == "（演示助手）收到：a]]>b"


async def test_image_message_is_stored_as_material_and_announced(gateway, simulator, standins):
    standins.wechat.media["MEDIA-IN-1"] = (card_png(), "image/png")
    xml = message_xml("oPhoto", "image", MediaId="MEDIA-IN-1", PicUrl="http://x/p.jpg", msg_id=5)
    reply = await deliver(gateway, simulator, xml)
    [(file_id, stored)] = standins.backend.files.items()
    assert stored["applicant"] == "wechat:oPhoto"
    expected = {"file_id": file_id, "content_type": "image/png"}
    compact = json.dumps(expected, separators=(",", ":"))
    assert standins.rasa.turns[-1]["message"] == "/upload_material" + compact
    assert reply["Content"] == f"已收到您的材料照片（文件编号 {file_id}），已为您登记。"


async def test_image_the_backend_rejects_relays_its_message(gateway, simulator, standins):
    standins.wechat.media["MEDIA-BAD"] = (b"not an image", "image/jpeg")
    xml = message_xml("oBadPhoto", "image", MediaId="MEDIA-BAD", PicUrl="http://x/p.jpg")
    reply = await deliver(gateway, simulator, xml)
    assert reply["Content"] == "图片无法识别，请重新拍摄后上传。"
    assert standins.rasa.turns == []


async def test_voice_uses_recognition_or_asks_for_text(gateway, simulator, standins):
    recognised = message_xml("oVoice", "voice", MediaId="m", Format="amr", Recognition="我要开饭店")
    reply = await deliver(gateway, simulator, recognised)
    assert standins.rasa.turns[-1]["message"] == "我要开饭店"
    assert reply["Content"].startswith("请问您要开办哪类店铺？")
    silent = message_xml("oVoice", "voice", MediaId="m2", Format="amr")
    reply = await deliver(gateway, simulator, silent)
    assert "文字" in reply["Content"]
    assert len(standins.rasa.turns) == 1


async def test_location_and_link_reach_the_assistant_as_commands(gateway, simulator, standins):
    location = message_xml(
        "oLoc", "location", Location_X="35.1", Location_Y="118.3", Scale="15", Label="临沂市政务服务中心"
    )
    await deliver(gateway, simulator, location)
    sent = standins.rasa.turns[-1]["message"]
    assert sent.startswith("/share_location")
    assert json.loads(sent.removeprefix("/share_location")) == {
        "latitude": 35.1,
        "longitude": 118.3,
        "label": "临沂市政务服务中心",
    }
    link = message_xml("oLoc", "link", Title="政策原文", Description="d", Url="https://example.gov.cn/p")
    await deliver(gateway, simulator, link)
    assert standins.rasa.turns[-1]["message"] == (
        '/share_link{"title":"政策原文","url":"https://example.gov.cn/p"}'
    )


async def test_unsupported_message_type_gets_a_polite_answer(gateway, simulator):
    reply = await deliver(gateway, simulator, message_xml("oVideo", "video", MediaId="m", ThumbMediaId="t"))
    assert "只能处理文字、图片和语音" in reply["Content"]


async def test_subscribe_from_a_window_qr_code_welcomes_and_records_the_scene(
    gateway, simulator, standins, redis
):
    reply = await deliver(gateway, simulator, event("oNew", "subscribe", "qrscene_window-3"))
    assert reply["Content"].startswith("您好，欢迎关注！")
    assert "回复 1 政策咨询" in reply["Content"] and "回复 5 人工服务" in reply["Content"]
    await deliver(gateway, simulator, text("oNew", "1"))
    assert standins.rasa.turns[-1]["message"] == "/ask_policy"
    assert await redis.get("gw:scene:wechat:oNew") == "window-3"


async def test_scan_by_a_follower_records_the_scene(gateway, simulator, standins, redis):
    reply = await deliver(gateway, simulator, event("oFollower", "SCAN", "window-7"))
    assert reply["Content"].startswith("欢迎回来")
    assert await redis.get("gw:scene:wechat:oFollower") == "window-7"


async def test_unsubscribe_and_view_answer_success(gateway, simulator, redis):
    assert await deliver(gateway, simulator, event("oGone", "unsubscribe")) is None
    assert await redis.exists("gw:unfollowed:wechat:oGone")
    view = message_xml("oGone", "event", Event="VIEW", EventKey="https://example.gov.cn")
    assert await deliver(gateway, simulator, view) is None


async def test_menu_click_reaches_the_assistant_as_its_payload(gateway, simulator, standins):
    reply = await deliver(gateway, simulator, event("oClick", "CLICK", "ZL_APPLY"))
    assert standins.rasa.turns[-1]["message"] == "/apply_licence"
    assert "回复 1 饭店" in reply["Content"]


async def test_template_delivery_result_is_recorded(gateway, simulator, redis):
    xml = message_xml("oTpl", "event", Event="TEMPLATESENDJOBFINISH", MsgID="1234", Status="success")
    assert await deliver(gateway, simulator, xml) is None
    assert (await redis.hgetall("gw:template:1234"))["status"] == "success"


async def test_licence_card_image_goes_back_as_uploaded_media_cached(gateway, simulator, standins):
    reply = await deliver(gateway, simulator, text("oCard", "我的证照"))
    assert reply["Content"] == "这是您的行业综合许可证："
    await eventually(lambda: len(custom_images(standins.wechat, "oCard")) == 1)
    await deliver(gateway, simulator, text("oCard", "再看看证照"))
    await eventually(lambda: len(custom_images(standins.wechat, "oCard")) == 2)
    assert len(standins.wechat.sent("/cgi-bin/media/upload")) == 1  # media id reused
    first, second = custom_images(standins.wechat, "oCard")
    assert first == second


async def test_dialogue_engine_down_gives_an_apology_not_an_error(aiohttp_client, standins, redis_url):
    from bot.app import create_app
    from bot.settings import DEMO_AES_KEY
    from bot.wechat.simulator import WeChatSimulator
    from tests.bot.conftest import APPID, TOKEN, make_settings

    settings = make_settings(standins, redis_url, rasa_url="http://127.0.0.1:9")
    gateway = await aiohttp_client(create_app(settings))
    simulator = WeChatSimulator(token=TOKEN, aes_key=DEMO_AES_KEY, appid=APPID)
    reply = await deliver(gateway, simulator, text("oDown", "你好"))
    assert reply["Content"].startswith("抱歉，智能助手暂时无法回答")
