"""Pictures and pages for people: the one-time notice, the licence card, its QR code, the verification page.

Inputs are plain pydantic models defined here (`NoticeData`, `LicenceCardData`, `VerificationData`), so
the API maps its records onto them and nothing here touches the database. Images are 1080 px wide — a
phone screen's width in WeChat — with body text at 30–38 px so they read without zooming.

The CJK font comes from the system (Debian `fonts-noto-cjk`; WenQuanYi Micro Hei also works) or from an
explicit path; `find_fonts()` says which package to install when neither is there.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel, ConfigDict, Field

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
WIDTH = 1080

# --- inputs -----------------------------------------------------------------------------------------


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PermitStatus(StrEnum):
    VALID = "valid"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return {"valid": "有效", "changed": "已变更", "cancelled": "已注销", "revoked": "已吊销"}[self.value]


class MaterialStatus(StrEnum):
    PROVIDED = "provided"
    MISSING = "missing"
    NEEDS_CORRECTION = "needs_correction"
    DEFERRED = "deferred"  # 容缺: a non-key material the applicant brings later, by `due_date`
    COMMITTED = "committed"  # 告知承诺: replaced by the applicant's written commitment

    @property
    def label(self) -> str:
        return _MATERIAL_LABELS[self]


_MATERIAL_LABELS = {
    MaterialStatus.PROVIDED: "已提交",
    MaterialStatus.MISSING: "缺少",
    MaterialStatus.NEEDS_CORRECTION: "需补正",
    MaterialStatus.DEFERRED: "容缺后补",
    MaterialStatus.COMMITTED: "告知承诺",
}


class NoticeLicence(_Data):
    name: str
    department: str
    promised_days: int | None = None


class NoticeMaterial(_Data):
    id: str
    name: str
    key: bool
    status: MaterialStatus
    needed_by: list[str] = Field(default_factory=list)  # licence names
    due_date: date | None = None  # 容缺 deadline
    problem: str | None = None  # what to correct
    hint: str | None = None  # e.g. "原件及复印件各一份"


class SubmissionInfo(_Data):
    where: str
    how: list[str] = Field(default_factory=list)
    hours: str | None = None
    phone: str | None = None


class NoticeData(_Data):
    package_name: str
    issued_on: date
    licences: list[NoticeLicence]
    materials: list[NoticeMaterial]
    submission: SubmissionInfo
    application_code: str | None = None
    operator_name: str | None = None
    correction_due: date | None = None  # 补正期限, when this notice asks for corrections
    title: str = "一次性告知单"


class CardPermit(_Data):
    name: str
    department: str | None = None
    valid_from: date
    valid_until: date | None = None  # None: 长期有效
    status: PermitStatus = PermitStatus.VALID


class LicenceCardData(_Data):
    licence_number: str
    industry: str
    operator_name: str
    legal_representative: str
    address: str
    permits: list[CardPermit]
    issued_on: date
    verification_url: str
    issuer: str | None = None


class VerificationPermit(_Data):
    name: str
    department: str | None = None
    status: PermitStatus
    valid_from: date
    valid_until: date | None = None
    updated_at: datetime


class VerificationData(_Data):
    licence_number: str
    status: PermitStatus
    industry: str
    operator_name: str
    legal_representative: str
    address: str
    issued_on: date
    permits: list[VerificationPermit]
    updated_at: datetime
    issuer: str | None = None


# --- fonts ------------------------------------------------------------------------------------------


class FontNotFound(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class FontFace:
    path: Path
    index: int


@dataclass(frozen=True, slots=True)
class FontSet:
    regular: FontFace
    bold: FontFace
    # Single-weight fonts (WenQuanYi) get their bold from a stroke instead.
    fake_bold: bool = False

    def font(self, size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        face = self.bold if bold else self.regular
        return _load_font(face.path, face.index, size)


@functools.cache
def _load_font(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=index)


# (regular, bold, family to pick inside a collection); the Noto collection holds JP/KR/SC/TC/HK faces
# whose glyphs differ (门, 直, 骨…), so the Simplified Chinese one must be chosen by name.
_CANDIDATES = (
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "Noto Sans CJK SC",
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", None, "WenQuanYi Micro Hei"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", None, "WenQuanYi Zen Hei"),
)


def _face(path: Path, family: str | None) -> FontFace:
    """The face called `family` in a collection, else its Simplified Chinese face, else the first."""
    names: list[str | None] = []  # FreeType may not know a face's family name
    for index in range(16):
        try:
            names.append(ImageFont.truetype(str(path), 12, index=index).getname()[0])
        except OSError:
            break
    if family in names:
        return FontFace(path, names.index(family))
    simplified = [i for i, name in enumerate(names) if name is not None and name.endswith(" SC")]
    return FontFace(path, simplified[0] if simplified else 0)


@functools.cache
def find_fonts(regular: Path | None = None, bold: Path | None = None) -> FontSet:
    """The CJK fonts to draw with: the given files, else the first installed candidate."""
    if regular is not None:
        return FontSet(_face(regular, None), _face(bold or regular, None), fake_bold=bold is None)
    for regular_path, bold_path, family in _CANDIDATES:
        if Path(regular_path).is_file():
            face = _face(Path(regular_path), family)
            if bold_path and Path(bold_path).is_file():
                return FontSet(face, _face(Path(bold_path), family))
            return FontSet(face, face, fake_bold=True)
    raise FontNotFound("no CJK font found: install the Debian package fonts-noto-cjk (or fonts-wqy-microhei)")


# --- QR code ----------------------------------------------------------------------------------------

_EC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def qr_image(data: str, *, module_px: int = 10, border: int = 4, error_correction: str = "M") -> Image.Image:
    """Black-on-white QR code, `module_px` pixels per module, with the standard 4-module quiet zone."""
    return _qr_image(data, module_px, border, error_correction).copy()


@functools.lru_cache(maxsize=64)
def _qr_image(data: str, module_px: int, border: int, error_correction: str) -> Image.Image:
    # Choosing the mask is most of the cost; a re-rendered card (after a permit change) reuses it.
    code = qrcode.QRCode(error_correction=_EC_LEVELS[error_correction], border=border)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    side = len(matrix)
    small = Image.new("L", (side, side), 255)
    small.putdata([0 if cell else 255 for row in matrix for cell in row])
    return small.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)


def qr_png(data: str, *, module_px: int = 10) -> bytes:
    return _png(qr_image(data, module_px=module_px).convert("1"))


def _png(im: Image.Image) -> bytes:
    if im.mode == "RGB":
        # Flat colours and anti-aliased text use a few hundred colours: a 256-colour palette looks the
        # same, encodes ~4x faster than RGB (PNG filter search) and is a third of the size.
        im = im.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


# --- layout -----------------------------------------------------------------------------------------

# Characters that must not start a line (标点避头), and that must not end one (避尾).
_NO_LINE_START = set("，。、；：！？）》」』】〕…—,.;:!?)]}%·")
_NO_LINE_END = set("（《「『【〔([{")

Draw = Callable[[Image.Image, ImageDraw.ImageDraw], None]


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Break text into lines no wider than `max_width`, CJK-style: anywhere between characters, but
    keeping Latin words and numbers whole where they fit and honouring the punctuation rules."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += _wrap_paragraph(paragraph, font, max_width)
    return lines


def _wordish(ch: str) -> bool:
    return (ch.isascii() and ch.isalnum()) or ch in "-–.:/_@"


def _tokens(text: str) -> list[str]:
    """Characters, except that runs like `ZL-20261122-4HBX0R`, `9:00–12:00` or `0539-1234567` stay whole."""
    tokens: list[str] = []
    for ch in text:
        if tokens and _wordish(ch) and _wordish(tokens[-1][-1]):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


def _wrap_paragraph(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if len(token) > 1 and font.getlength(token) > max_width:
            for ch in token:  # a run too long for any line: break it anywhere
                if line and font.getlength(line + ch) > max_width:
                    lines.append(line)
                    line = ""
                line += ch
            continue
        if not line or token in _NO_LINE_START or font.getlength(line + token) <= max_width:
            line += token
            continue
        carry = ""
        while len(line) > 1 and line[-1] in _NO_LINE_END:
            carry, line = line[-1] + carry, line[:-1]
        lines.append(line)
        line = carry + token
    lines.append(line)
    return lines


class _Page:
    """Records drawing operations top to bottom, then paints them onto an image of the final height."""

    def __init__(self, fonts: FontSet, *, width: int = WIDTH, margin: int = 60) -> None:
        self.fonts = fonts
        self.width = width
        self.margin = margin
        self.y = 0
        self.ops: list[Draw] = []

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        return self.fonts.font(size, bold=bold)

    def text(
        self,
        text: str,
        *,
        size: int,
        color: str = "#1A1A1A",
        bold: bool = False,
        x: int | None = None,
        right: int | None = None,
        align: str = "left",
        spacing: float = 1.5,
    ) -> None:
        font = self.font(size, bold)
        left = self.margin if x is None else x
        limit = (self.width - self.margin if right is None else right) - left
        stroke = 1 if bold and self.fonts.fake_bold else 0
        for line in wrap(text, font, limit):
            self.ops.append(_text_op(line, font, color, left, self.y, limit, align, stroke))
            self.y += round(size * spacing)

    def gap(self, pixels: int) -> None:
        self.y += pixels

    def add(self, op: Draw, height: int) -> None:
        self.ops.append(op)
        self.y += height

    def render(self, background: str, height: int | None = None) -> Image.Image:
        im = Image.new("RGB", (self.width, height or self.y), background)
        draw = ImageDraw.Draw(im)
        for op in self.ops:
            op(im, draw)
        return im


def _text_op(
    line: str,
    font: ImageFont.FreeTypeFont,
    color: str,
    left: int,
    top: int,
    limit: int,
    align: str,
    stroke: int,
) -> Draw:
    def op(_im: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        x = left
        if align == "center":
            x = left + round((limit - font.getlength(line)) / 2)
        draw.text((x, top), line, font=font, fill=color, stroke_width=stroke, stroke_fill=color)

    return op


def _pill_width(text: str, font: ImageFont.FreeTypeFont) -> int:
    return round(font.getlength(text)) + round(font.size)


def _pill(x: int, y: int, text: str, font: ImageFont.FreeTypeFont, color: str) -> Draw:
    """A rounded tag like 「缺少」."""
    pad = round(font.size) // 2
    width = _pill_width(text, font)
    height = round(font.size * 1.5)

    def op(_im: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        draw.rounded_rectangle((x, y, x + width, y + height), radius=height // 2, fill=color)
        draw.text((x + pad, y + height // 2), text, font=font, fill="white", anchor="lm")

    return op


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- one-time notice --------------------------------------------------------------------------------

_STATUS_COLORS = {
    MaterialStatus.PROVIDED: "#2E7D32",
    MaterialStatus.MISSING: "#C62828",
    MaterialStatus.NEEDS_CORRECTION: "#C62828",
    MaterialStatus.DEFERRED: "#E07B00",
    MaterialStatus.COMMITTED: "#1565C0",
}
_BLUE = "#1F4E9A"
_GREY = "#5F6368"
_PROMISE = "本告知单已一次性列明办理上述许可所需的全部材料，窗口不会再要求您提交清单以外的材料。"


def unique_materials(materials: Iterable[NoticeMaterial]) -> list[NoticeMaterial]:
    """Each material once, in first-seen order; licences that need it are merged."""
    merged: dict[str, NoticeMaterial] = {}
    for material in materials:
        seen = merged.get(material.id)
        if seen is None:
            merged[material.id] = material
        else:
            needed_by = seen.needed_by + [n for n in material.needed_by if n not in seen.needed_by]
            merged[material.id] = seen.model_copy(update={"needed_by": needed_by})
    return list(merged.values())


def _to_do(materials: list[NoticeMaterial], correction_due: date | None) -> list[str]:
    def names(status: MaterialStatus) -> list[NoticeMaterial]:
        return [m for m in materials if m.status is status]

    lines: list[str] = []
    outstanding = names(MaterialStatus.MISSING) + names(MaterialStatus.NEEDS_CORRECTION)
    if outstanding and correction_due is not None:
        lines.append(f"请于{_cn_date(correction_due)}前补齐以下材料")
    if missing := names(MaterialStatus.MISSING):
        lines.append(f"还缺 {len(missing)} 份材料：" + "、".join(m.name for m in missing))
    for m in names(MaterialStatus.NEEDS_CORRECTION):
        lines.append(f"需补正：{m.name}" + (f"（{m.problem}）" if m.problem else ""))
    for m in names(MaterialStatus.DEFERRED):
        deadline = f"，请于{_cn_date(m.due_date)}前补交" if m.due_date else "，请在审批完成前补交"
        lines.append(f"容缺后补：{m.name}{deadline}")
    return lines or ["材料已齐全，无需再提交其他材料。"]


def _licence_line(index: int, licence: NoticeLicence) -> tuple[str, str]:
    detail = licence.department
    if licence.promised_days is not None:
        detail += f" · 承诺 {licence.promised_days} 个工作日办结"
    return f"{index}. {licence.name}", detail


def _material_detail(material: NoticeMaterial) -> list[str]:
    parts = ["关键材料" if material.key else "非关键材料（可容缺）"]
    if material.needed_by:
        # Licence names contain 、 themselves (…投入使用、营业前消防安全检查), so they are joined with ；
        parts.append("用于：" + "；".join(material.needed_by))
    lines = [" · ".join(parts)]
    if material.hint:
        lines.append(material.hint)
    if material.status is MaterialStatus.NEEDS_CORRECTION and material.problem:
        lines.append(f"问题：{material.problem}")
    if material.status is MaterialStatus.DEFERRED and material.due_date:
        lines.append(f"补交期限：{_cn_date(material.due_date)}前")
    if material.status is MaterialStatus.COMMITTED:
        lines.append("以书面承诺代替，现在无需提交；审批后可能核查")
    return lines


def render_notice_text(data: NoticeData) -> str:
    materials = unique_materials(data.materials)
    out = [f"【{data.title}】证照联办 · {data.package_name}"]
    if data.application_code:
        out.append(f"申请编号：{data.application_code}")
    if data.operator_name:
        out.append(f"经营者：{data.operator_name}")
    out += [f"告知日期：{_cn_date(data.issued_on)}", "", f"一、您要办理的许可（{len(data.licences)} 项）"]
    for i, licence in enumerate(data.licences, 1):
        title, detail = _licence_line(i, licence)
        out.append(f"{title}（{detail}）")
    out += ["", f"二、需要的材料（共 {len(materials)} 份，每份只需提交一次）"]
    for i, material in enumerate(materials, 1):
        out.append(f"{i}. [{material.status.label}] {material.name}")
        out += [f"   {line}" for line in _material_detail(material)]
    out += ["", "三、还需要您做的"]
    out += [f"· {line}" for line in _to_do(materials, data.correction_due)]
    out += ["", "四、提交地点和方式", f"地点：{data.submission.where}"]
    out += [f"方式：{how}" for how in data.submission.how]
    if data.submission.hours:
        out.append(f"时间：{data.submission.hours}")
    if data.submission.phone:
        out.append(f"咨询电话：{data.submission.phone}")
    out += ["", _PROMISE]
    return "\n".join(out)


def notice_image(data: NoticeData, fonts: FontSet | None = None) -> Image.Image:
    page = _Page(fonts or find_fonts())
    materials = unique_materials(data.materials)
    _notice_header(page, data)
    _section(page, f"一、您要办理的许可（{len(data.licences)} 项）")
    for i, licence in enumerate(data.licences, 1):
        title, detail = _licence_line(i, licence)
        page.text(title, size=36, bold=True)
        page.text(detail, size=30, color=_GREY, x=page.margin + 40)
        page.gap(8)
    _section(page, f"二、需要的材料（共 {len(materials)} 份，每份只需提交一次）")
    for i, material in enumerate(materials, 1):
        _notice_material(page, i, material)
    _section(page, "三、还需要您做的")
    for line in _to_do(materials, data.correction_due):
        color = "#2E7D32" if line.startswith("材料已齐全") else "#C62828"
        bullet_font = page.font(34, bold=True)
        page.ops.append(_text_op("·", bullet_font, color, page.margin, page.y, 34, "left", 0))
        page.text(line, size=34, bold=True, color=color, x=page.margin + 34)
    _section(page, "四、提交地点和方式")
    submission = data.submission
    page.text(f"地点：{submission.where}", size=34)
    for how in submission.how:
        page.text(f"方式：{how}", size=34)
    if submission.hours:
        page.text(f"时间：{submission.hours}", size=34)
    if submission.phone:
        page.text(f"咨询电话：{submission.phone}", size=34)
    page.gap(30)
    page.add(_rule(page, "#D0D4DA"), 30)
    page.text(_PROMISE, size=28, color=_GREY)
    page.gap(40)
    return page.render("white")


def render_notice_png(data: NoticeData, fonts: FontSet | None = None) -> bytes:
    return _png(notice_image(data, fonts))


def _notice_header(page: _Page, data: NoticeData) -> None:
    def band(_im: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        draw.rectangle((0, 0, page.width, 200), fill=_BLUE)

    page.add(band, 40)
    page.text(data.title, size=64, bold=True, color="white")
    page.text(f"证照联办 · {data.package_name}", size=34, color="#DCE6F5")
    page.y = 230
    if data.application_code:
        page.text(f"申请编号：{data.application_code}", size=32, color=_GREY)
    if data.operator_name:
        page.text(f"经营者：{data.operator_name}", size=32, color=_GREY)
    page.text(f"告知日期：{_cn_date(data.issued_on)}", size=32, color=_GREY)


def _section(page: _Page, title: str) -> None:
    page.gap(30)
    top, size = page.y, 40

    def bar(_im: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        draw.rectangle((page.margin - 24, top + 6, page.margin - 14, top + size + 10), fill=_BLUE)

    page.ops.append(bar)
    page.text(title, size=size, bold=True, color=_BLUE)
    page.gap(6)


def _notice_material(page: _Page, index: int, material: NoticeMaterial) -> None:
    font = page.font(26, bold=True)
    label = material.status.label
    column = max(_pill_width(status.label, font) for status in MaterialStatus) + 16
    page.ops.append(_pill(page.margin, page.y + 6, label, font, _STATUS_COLORS[material.status]))
    page.text(f"{index}. {material.name}", size=36, bold=True, x=page.margin + column)
    for line in _material_detail(material):
        color = "#C62828" if line.startswith("问题") else "#E07B00" if line.startswith("补交") else _GREY
        page.text(line, size=30, color=color, x=page.margin + column)
    page.gap(14)


def _rule(page: _Page, color: str) -> Draw:
    y = page.y

    def op(_im: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        draw.line((page.margin, y, page.width - page.margin, y), fill=color, width=2)

    return op


# --- licence card -----------------------------------------------------------------------------------

_RED = "#B3261E"
_PERMIT_COLORS = {
    PermitStatus.VALID: "#2E7D32",
    PermitStatus.CHANGED: "#1565C0",
    PermitStatus.CANCELLED: "#757575",
    PermitStatus.REVOKED: "#C62828",
}
_GOLD = "#C9A227"
_PAPER = "#FCF9F1"
_INK = "#1A1A1A"


def _validity(permit: CardPermit | VerificationPermit) -> str:
    if permit.valid_until is None:
        return f"有效期 {permit.valid_from.isoformat()} 起长期有效"
    return f"有效期 {permit.valid_from.isoformat()} 至 {permit.valid_until.isoformat()}"


def licence_card_image(data: LicenceCardData, fonts: FontSet | None = None) -> Image.Image:
    page = _Page(fonts or find_fonts(), margin=90)
    page.y = 110
    page.text("行业综合许可证", size=76, bold=True, color=_RED, align="center")
    page.text(f"编号：{data.licence_number}", size=32, color=_GREY, align="center")
    page.gap(24)
    page.add(_rule(page, _GOLD), 36)
    for label, value in (
        ("行业类别", data.industry),
        ("经营者名称", data.operator_name),
        ("法定代表人", data.legal_representative),
        ("经营场所", data.address),
    ):
        _field(page, label, value)
    page.gap(10)
    page.add(_rule(page, _GOLD), 30)
    page.text(f"本证包含的许可（{len(data.permits)} 项）", size=38, bold=True, color=_RED)
    page.gap(6)
    for permit in data.permits:
        _card_permit(page, permit)
    page.gap(10)
    page.add(_rule(page, _GOLD), 30)
    _card_footer(page, data)
    im = page.render(_PAPER, page.y + 90)
    _frame(im)
    return im


def render_licence_card(data: LicenceCardData, fonts: FontSet | None = None) -> bytes:
    return _png(licence_card_image(data, fonts))


def _field(page: _Page, label: str, value: str) -> None:
    label_width = 230
    top = page.y
    page.ops.append(_text_op(label, page.font(32), _GREY, page.margin, top + 4, label_width, "left", 0))
    page.text(value, size=36, color=_INK, x=page.margin + label_width)
    page.y = max(page.y, top + 54) + 10


def _card_permit(page: _Page, permit: CardPermit) -> None:
    left = page.margin + 10
    right = page.width - page.margin
    if permit.status is not PermitStatus.VALID:
        font = page.font(26, True)
        label, color = permit.status.label, _PERMIT_COLORS[permit.status]
        width = _pill_width(label, font)
        page.ops.append(_pill(right - width, page.y + 6, label, font, color))
        right -= width + 16
    page.text(f"■ {permit.name}", size=36, bold=True, x=left, right=right)
    detail = _validity(permit) + (f" · {permit.department}" if permit.department else "")
    page.text(detail, size=28, color=_GREY, x=left + 44)
    page.gap(10)


def _card_footer(page: _Page, data: LicenceCardData) -> None:
    qr = qr_image(data.verification_url, module_px=8, border=2)
    if qr.width > 330:
        qr = qr.resize((330, 330), Image.Resampling.NEAREST)
    qr_left = page.width - page.margin - qr.width
    top = page.y

    def paste(im: Image.Image, _draw: ImageDraw.ImageDraw) -> None:
        im.paste(qr, (qr_left, top))

    page.ops.append(paste)
    text_right = qr_left - 30
    if data.issuer:
        page.text("发证机关", size=28, color=_GREY, right=text_right)
        page.text(data.issuer, size=34, right=text_right)
        page.gap(8)
    page.text("发证日期", size=28, color=_GREY, right=text_right)
    page.text(_cn_date(data.issued_on), size=34, right=text_right)
    page.gap(8)
    page.text("扫描右侧二维码，查看每项许可的实时状态。", size=28, color=_RED, right=text_right)
    page.y = max(page.y, top + qr.height)
    page.text("扫码核验", size=28, color=_GREY, x=qr_left, right=qr_left + qr.width, align="center")


def _frame(im: Image.Image) -> None:
    draw = ImageDraw.Draw(im)
    w, h = im.size
    draw.rectangle((24, 24, w - 25, h - 25), outline=_RED, width=10)
    draw.rectangle((44, 44, w - 45, h - 45), outline=_GOLD, width=3)


# --- verification page ------------------------------------------------------------------------------


def _aware(moment: datetime) -> datetime:
    # The database hands back UTC; SQLite may drop the zone on the way.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def verification_context(
    data: VerificationData | None, *, timezone: str = "Asia/Shanghai", now: datetime | None = None
) -> dict[str, Any]:
    """The plain dict `verify.html` renders; None gives the 无法验证 page."""
    if data is None:
        return {"valid": False}
    zone = ZoneInfo(timezone)

    def when(moment: datetime) -> str:
        return _aware(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    summary = f"本证{data.status.label}"
    exceptions = [
        f"{sum(p.status is status for p in data.permits)} 项{status.label}"
        for status in (PermitStatus.CHANGED, PermitStatus.CANCELLED, PermitStatus.REVOKED)
        if any(p.status is status for p in data.permits)
    ]
    if exceptions and data.status is PermitStatus.VALID:
        summary += "，其中 " + "、".join(exceptions)

    return {
        "valid": True,
        "licence": {
            "number": data.licence_number,
            "status": data.status.value,
            "status_label": data.status.label,
            "industry": data.industry,
            "operator_name": data.operator_name,
            "legal_representative": data.legal_representative,
            "address": data.address,
            "issued_on": _cn_date(data.issued_on),
            "issuer": data.issuer,
            "summary": summary,
        },
        "permits": [
            {
                "name": p.name,
                "department": p.department,
                "status": p.status.value,
                "status_label": p.status.label,
                "validity": _validity(p),
                "updated_at": when(p.updated_at),
            }
            for p in data.permits
        ],
        "updated_at": when(max(_aware(t) for t in [data.updated_at, *(p.updated_at for p in data.permits)])),
        "checked_at": when(now or datetime.now(zone)),
        "timezone_label": "北京时间" if timezone in ("Asia/Shanghai", "PRC") else timezone,
    }


def render_verification_page(
    data: VerificationData | None, *, timezone: str = "Asia/Shanghai", now: datetime | None = None
) -> str:
    """HTML for the QR code's page. Serve None's page with HTTP 404."""
    context = verification_context(data, timezone=timezone, now=now)
    return _templates().get_template("verify.html").render(context)
