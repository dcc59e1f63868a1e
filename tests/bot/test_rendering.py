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
    assert rendered.menu == {1: "/a", 2: "/b", 3: "/c"}


def rate(score: int) -> Button:
    return Button(f"{score}分", f'/rate{{"score": "{score}"}}')


def test_score_options_are_numbered_by_their_score_whatever_comes_first():
    # What 办理进度 shows once everything is approved: 亮证, then the score buttons (once 5 … 1).
    rendered = render_messages(
        [
            Buttons("已全部办结！", (Button("亮证", "/show_licence"),)),
            Buttons("请为本次服务打个分吧：", tuple(rate(score) for score in (5, 4, 3, 2, 1))),
        ]
    )
    [part] = rendered.parts
    assert isinstance(part, TextPart)
    assert "回复 6 亮证" in part.text
    assert [line for line in part.text.splitlines() if "分" in line and line.startswith("回复")] == [
        f"回复 {score} {score}分" for score in (5, 4, 3, 2, 1)
    ]
    assert rendered.menu == {6: "/show_licence"} | {s: f'/rate{{"score": "{s}"}}' for s in range(1, 6)}


def test_without_score_options_numbers_start_at_one():
    assert render_messages([Buttons("", (Button("是", "/affirm"), Button("否", "/deny")))]).menu == {
        1: "/affirm",
        2: "/deny",
    }
    # a payload that merely looks like a rating is an ordinary option
    odd = render_messages([Buttons("", (Button("x", '/rate{"score": "9"}'), Button("y", "/rate{oops")))])
    assert odd.menu == {1: '/rate{"score": "9"}', 2: "/rate{oops"}


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
    await menus.remember(user, {1: "/a", 2: "/b"})
    assert await menus.resolve(user, " 2 ") == "/b"
    assert await menus.resolve(user, "3") == "3"  # out of range: a real answer
    assert await menus.resolve(user, "二") == "二"
    await menus.remember(user, {})
    assert await menus.resolve(user, "1") == "1"


async def test_a_bare_digit_in_a_score_menu_is_that_score(redis):
    from bot.messages import UserRef
    from bot.wechat.options import OptionMenus

    menus = OptionMenus(redis)
    user = UserRef("wechat", "oScores")
    rendered = render_messages(
        [
            Buttons("", (Button("亮证", "/show_licence"),)),
            Buttons("", tuple(rate(score) for score in (5, 4, 3, 2, 1))),
        ]
    )
    await menus.remember(user, rendered.menu)
    assert await menus.resolve(user, "5") == '/rate{"score": "5"}'
    assert await menus.resolve(user, "１") == '/rate{"score": "1"}'  # full-width, from a Chinese keyboard
    assert await menus.resolve(user, "6") == "/show_licence"
    assert await menus.resolve(user, "05") == '/rate{"score": "5"}'
    assert await menus.resolve(user, "7") == "7"


async def test_a_menu_stored_by_the_previous_version_still_resolves(redis):
    from bot.messages import UserRef
    from bot.wechat.options import OptionMenus

    user = UserRef("wechat", "oOld")
    await redis.set("gw:menu:wechat:oOld", '["/a", "/b"]')
    assert await OptionMenus(redis).resolve(user, "2") == "/b"
