"""Turning channel-neutral messages into what WeChat can carry."""

import xmltodict

from bot.messages import Button, Buttons, Image, Text
from bot.wechat.rendering import ImagePart, TextPart, render_messages, split_text
from bot.wechat.replies import Passive, escape_cdata, render


def test_short_text_is_one_piece():
    assert split_text("您好。") == ["您好。"]


def test_split_prefers_sentence_ends_and_respects_the_byte_limit():
    text = "第一句话比较长一些。" * 50 + "最后一句！"
    pieces = split_text(text, limit=200)
    assert all(len(p.encode()) <= 200 for p in pieces)
    assert all(p.endswith(("。", "！")) for p in pieces)
    assert "".join(pieces) == text


def test_a_sentence_longer_than_the_limit_is_cut_on_character_boundaries():
    text = "长" * 1000  # 3000 bytes, no sentence end
    pieces = split_text(text, limit=2048)
    assert [len(p.encode()) for p in pieces] == [2046, 954]
    assert "".join(pieces) == text


def test_four_byte_characters_are_never_cut_in_half():
    text = "😀" * 600  # 2400 bytes
    pieces = split_text(text, limit=2048)
    assert all(len(p.encode()) <= 2048 for p in pieces)
    assert "".join(pieces) == text


def test_texts_are_merged_and_buttons_numbered_across_messages():
    rendered = render_messages(
        [
            Text("好的。"),
            Buttons("请选择：", (Button("饭店", "/a"), Button("超市", "/b"))),
            Buttons("", (Button("其他", "/c"),)),
            Image("https://example.invalid/card.png"),
            Text("完成。"),
        ]
    )
    assert rendered.parts == [
        TextPart("好的。\n\n请选择：\n回复 1 饭店\n回复 2 超市\n\n回复 3 其他"),
        ImagePart("https://example.invalid/card.png"),
        TextPart("完成。"),
    ]
    assert rendered.menu == ["/a", "/b", "/c"]


def test_cdata_end_in_text_survives_rendering():
    xml = render(Passive("text", "a]]>b ]]> c"), openid="oX", account="gh_1")
    assert xmltodict.parse(xml)["xml"]["Content"] == "a]]>b ]]> c"
    assert escape_cdata("x") == "x"


def test_transfer_reply_renders_the_customer_service_type():
    xml = render(Passive("transfer"), openid="oX", account="gh_1")
    assert xmltodict.parse(xml)["xml"]["MsgType"] == "transfer_customer_service"


async def test_numeric_answers_map_back_only_to_the_last_menu(redis):
    from bot.messages import UserRef
    from bot.wechat.options import OptionMenus

    menus = OptionMenus(redis)
    user = UserRef("wechat", "oNum")
    await menus.remember(user, ["/a", "/b"])
    assert await menus.resolve(user, " 2 ") == "/b"
    assert await menus.resolve(user, "3") == "3"  # out of range: a real answer
    assert await menus.resolve(user, "二") == "二"
    await menus.remember(user, [])
    assert await menus.resolve(user, "1") == "1"
