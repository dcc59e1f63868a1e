import io
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import cast

import pytest
from PIL import Image, ImageStat
from pyzbar import pyzbar

from backend.materials.render import (
    CardPermit,
    MaterialStatus,
    PermitStatus,
    find_fonts,
    licence_card_image,
    qr_image,
    qr_png,
    render_licence_card,
    render_notice_png,
    render_notice_text,
    render_verification_page,
    unique_materials,
    verification_context,
    wrap,
)
from backend.materials.tokens import verify_licence

from . import samples


def _decode(png: bytes) -> list[str]:
    return [symbol.data.decode() for symbol in pyzbar.decode(Image.open(io.BytesIO(png)))]


def _open(png: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG"
    return im.convert("RGB")


def test_qr_png_decodes_back_to_the_verification_url():
    assert _decode(qr_png(samples.URL)) == [samples.URL]
    token = samples.URL.rsplit("/", 1)[1]
    assert verify_licence(token, samples.KEY) == samples.NUMBER


def test_qr_is_black_on_white_with_a_quiet_zone():
    im = qr_image(samples.URL, module_px=10)
    assert im.width == im.height and im.width % 10 == 0
    assert set(im.get_flattened_data()) == {0, 255}
    assert all(im.getpixel((x, 5)) == 255 for x in range(im.width))  # top quiet zone


def test_licence_card_is_phone_sized_readable_and_its_qr_decodes():
    png = render_licence_card(samples.card_data())
    im = _open(png)
    assert im.width == 1080
    assert 1400 <= im.height <= 2000
    assert len(png) < 300_000  # fine to send in chat
    assert _decode(png) == [samples.URL]
    assert ImageStat.Stat(im.convert("L")).stddev[0] > 20  # not blank
    # The red title sits in the top part of the card.
    title = im.crop((200, 120, 880, 230))
    assert any(
        r > 150 and g < 80 and b < 80
        for r, g, b in cast(list[tuple[int, int, int]], title.get_flattened_data())
    )


def test_card_grows_with_the_permits_and_still_decodes():
    permits = [
        CardPermit(
            name=f"第 {i} 项许可：食品经营许可（含网络经营）", valid_from=date(2026, 1, 1), department="某局"
        )
        for i in range(12)
    ]
    permits[3] = permits[3].model_copy(update={"status": PermitStatus.REVOKED})
    small = licence_card_image(samples.card_data())
    big = render_licence_card(samples.card_data(permits=permits))
    assert _open(big).height > small.height + 500
    assert _decode(big) == [samples.URL]


def test_notice_image_is_phone_width_and_not_blank():
    png = render_notice_png(samples.notice_data())
    im = _open(png)
    assert im.width == 1080
    assert im.height > 1500
    assert ImageStat.Stat(im.convert("L")).stddev[0] > 20


def test_notice_text_lists_each_material_once_and_what_is_missing():
    text = render_notice_text(samples.notice_data())
    materials = text.split("二、")[1].split("三、")[0]
    assert len(re.findall(r"^\d+\. \[缺少\] 经营场所使用证明", materials, re.M)) == 1
    assert (
        "户外广告设施设置许可" in materials.split("经营场所使用证明")[1].split("\n3.")[0]
    )  # licences merged
    to_do = text.split("三、")[1].split("四、")[0]
    assert "还缺 2 份材料：经营场所使用证明（房产证或租赁合同）、招牌设计效果图（标明尺寸、材质）" in to_do
    assert "需补正：经营场所平面布局图及设备布局图（未标注操作间和库房的面积）" in to_do
    assert "容缺后补：从业人员健康证明，请于2026年12月6日前补交" in to_do
    assert "临沂市兰山区政务服务中心" in text.split("四、")[1]
    for licence in samples.LICENCES:
        assert licence in text.split("二、")[0]


def test_complete_notice_says_so():
    data = samples.notice_data()
    done = [m.model_copy(update={"status": MaterialStatus.PROVIDED}) for m in data.materials]
    text = render_notice_text(
        data.model_copy(update={"materials": done, "correction_due": date(2026, 12, 1)})
    )
    assert "材料已齐全" in text
    assert "补齐" not in text


def test_correction_deadline():
    data = samples.notice_data().model_copy(update={"correction_due": date(2026, 12, 1)})
    assert "请于2026年12月1日前补齐以下材料" in render_notice_text(data)


def test_unique_materials_keeps_first_order():
    merged = unique_materials(samples.notice_data().materials)
    assert [m.id for m in merged] == ["id_card", "premises", "layout", "health", "fire_commit", "sign_design"]


def test_the_simplified_chinese_face_is_chosen():
    fonts = find_fonts()
    assert fonts.font(20).getname()[0] in ("Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")


def test_wrap_follows_chinese_line_breaking_rules():
    font = find_fonts().font(30)
    text = "经营场所使用证明（房产证或租赁合同），须加盖公章。请于 9:00–12:00 提交，电话 0539-1234567。" * 3
    lines = wrap(text, font, 400)
    assert "".join(lines) == text
    assert all(font.getlength(line) <= 400 + 30 for line in lines)
    assert not any(line[0] in "，。）、" for line in lines)
    assert not any(line.endswith("（") for line in lines)
    assert not any(line.endswith(("9:", "0539-")) for line in lines)


def test_wrap_breaks_an_overlong_run():
    font = find_fonts().font(30)
    lines = wrap("A" * 200, font, 300)
    assert len(lines) > 3 and "".join(lines) == "A" * 200


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def test_verification_page_shows_the_live_status_of_each_permit():
    statuses = [PermitStatus.VALID, PermitStatus.CHANGED, PermitStatus.REVOKED, PermitStatus.CANCELLED]
    now = datetime(2027, 3, 16, 1, 0, tzinfo=UTC)
    html = render_verification_page(samples.verification_data(statuses), now=now)
    text = _text(html)
    assert '<meta name="viewport"' in html and 'lang="zh-CN"' in html
    for label in ("有效", "已变更", "已吊销", "已注销"):
        assert label in text
    assert "核验结果：本证有效，其中 1 项已变更、1 项已注销、1 项已吊销" in text
    assert "最后更新于 2027-03-15 10:30" in text  # the permit change, in Beijing time
    assert "查询于 2027-03-16 09:00" in text
    assert "XK-2026-7K3M9Q" in text


def test_naive_times_from_the_database_are_taken_as_utc():
    data = samples.verification_data()
    naive = data.model_copy(
        update={
            "updated_at": data.updated_at.replace(tzinfo=None),
            "permits": [
                p.model_copy(update={"updated_at": p.updated_at.replace(tzinfo=None)}) for p in data.permits
            ],
        }
    )
    assert (
        verification_context(naive)["updated_at"]
        == verification_context(data)["updated_at"]
        == "2027-03-15 10:30"
    )


def test_cancelled_licence_says_so_first():
    statuses = [PermitStatus.CANCELLED] * 4
    data = samples.verification_data(statuses).model_copy(update={"status": PermitStatus.CANCELLED})
    assert "核验结果：本证已注销" in _text(render_verification_page(data))


def test_verification_page_escapes_what_applicants_typed():
    data = samples.verification_data().model_copy(update={"operator_name": "<script>alert(1)</script>"})
    html = render_verification_page(data)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_invalid_token_page_says_it_cannot_verify_and_shows_nothing_else():
    html = render_verification_page(None)
    text = _text(html)
    assert "无法验证" in text
    assert "XK-" not in html and "有效期" not in text
    assert verification_context(None) == {"valid": False}


@pytest.mark.parametrize("status", list(PermitStatus))
def test_status_labels(status):
    assert status.label in {"有效", "已变更", "已注销", "已吊销"}


def test_card_qr_survives_chat_recompression_and_downscaling():
    # WeChat may recompress and a phone may show the card small: 45 % size, JPEG quality 60.
    im = _open(render_licence_card(samples.card_data()))
    small = im.resize((im.width * 45 // 100, im.height * 45 // 100), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.save(out, "JPEG", quality=60)
    assert [s.data.decode() for s in pyzbar.decode(Image.open(out))] == [samples.URL]


def test_an_explicit_single_font_file_works_with_a_drawn_bold():
    regular = find_fonts().regular.path
    fonts = find_fonts(regular)
    assert fonts.fake_bold
    assert fonts.font(20).getname()[0].endswith(("SC", "Hei"))
    assert _decode(render_licence_card(samples.card_data(), fonts)) == [samples.URL]
