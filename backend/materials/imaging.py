"""Validate and normalise one uploaded material.

`process_upload(data, limits)` answers `Accepted` (what to store) or `Rejected` (why not, in Chinese).
Images are decoded by Pillow — only with the decoder the bytes announce — rotated upright from EXIF,
converted to sRGB, stripped of every piece of metadata (EXIF with GPS, XMP, ICC, comments, embedded
thumbnails), capped in size and re-encoded as JPEG: whatever else the upload carried (an appended ZIP, a
script in a comment) does not survive. PDFs cannot be re-encoded without a PDF library, so they are
checked structurally and kept byte for byte; serve them only as attachments.

Blocking (tens to hundreds of milliseconds per photo): call it from an executor.
"""

import functools
import logging
import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO

from PIL import Image, ImageCms, ImageFilter, ImageStat

from backend.materials.sniff import FileType, identify

logger = logging.getLogger(__name__)


class IssueCode(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_SMALL = "too_small"
    BLANK = "blank"
    PDF_ENCRYPTED = "pdf_encrypted"
    PDF_ACTIVE_CONTENT = "pdf_active_content"
    SUSPICIOUS = "suspicious"
    # warnings: the file is kept
    BLURRY = "blurry"
    DARK = "dark"

    @property
    def http_status(self) -> int:
        return {IssueCode.TOO_LARGE: 413, IssueCode.UNSUPPORTED_TYPE: 415}.get(self, 422)


@dataclass(frozen=True, slots=True)
class Issue:
    code: IssueCode
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "message": self.message}


@dataclass(frozen=True, slots=True)
class MaterialLimits:
    max_bytes: int = 10 * 1024 * 1024
    # Decoded size bound (a 60 MP PNG is ~180 MB of RGB). JPEGs decode at a reduced scale when they
    # are far above `max_long_side`, so they cost much less than that.
    max_pixels: int = 60_000_000
    max_long_side: int = 2400
    thumbnail_side: int = 320
    min_short_side: int = 600
    jpeg_quality: int = 85
    thumbnail_quality: int = 75
    # Variance of the Laplacian on the grey image scaled to `quality_side`; calibrated on photographed
    # documents (tests/backend/materials/test_imaging.py): sharp text scores in the hundreds or more.
    blur_threshold: float = 40.0
    # Standard deviation of grey levels below which nothing but paper (or a covered lens) is in the frame.
    blank_stddev: float = 4.0
    dark_mean: float = 40.0
    quality_side: int = 1024


@dataclass(frozen=True, slots=True)
class Accepted:
    source_type: FileType
    media_type: str
    content: bytes
    width: int | None
    height: int | None
    thumbnail: bytes | None
    warnings: tuple[Issue, ...] = ()
    sharpness: float | None = None

    @property
    def extension(self) -> str:
        return "pdf" if self.media_type == "application/pdf" else "jpg"


@dataclass(frozen=True, slots=True)
class Rejected:
    errors: tuple[Issue, ...]
    looks_like: str

    @property
    def message(self) -> str:
        return "".join(issue.message for issue in self.errors)

    @property
    def http_status(self) -> int:
        return self.errors[0].code.http_status


MaterialResult = Accepted | Rejected


def process_upload(data: bytes, limits: MaterialLimits | None = None) -> MaterialResult:
    limits = limits or MaterialLimits()
    if not data:
        return _reject(IssueCode.EMPTY, "文件是空的（0 字节），请重新选择文件上传。", "空文件")
    if len(data) > limits.max_bytes:
        return _reject(IssueCode.TOO_LARGE, too_large_message(limits.max_bytes), "文件")
    identified = identify(data)
    kind = identified.type
    if kind is None or (kind is FileType.HEIC and not heic_supported()):
        return _reject(IssueCode.UNSUPPORTED_TYPE, _unsupported_message(identified.label), identified.label)
    if kind is FileType.PDF:
        return check_pdf(data)
    return _process_image(data, kind, limits)


def too_large_message(max_bytes: int) -> str:
    return f"文件太大（超过 {max_bytes / 1024 / 1024:g} MB），请压缩图片或分成几份上传。"


def accepted_types_text() -> str:
    return "JPG、PNG、WebP" + ("、HEIC" if heic_supported() else "") + " 图片或 PDF 文件"


def _unsupported_message(label: str) -> str:
    if label == "HEIC 图片":
        return "暂不支持 HEIC 图片，请在手机相机设置中选择“兼容性最佳”，或截图后上传。"
    return f"不支持这种文件（{label}），请上传 {accepted_types_text()}。"


def _reject(code: IssueCode, message: str, looks_like: str) -> Rejected:
    return Rejected((Issue(code, message),), looks_like)


@functools.cache
def heic_supported() -> bool:
    try:
        # Optional (GPL-licensed binary wheel); registering touches Pillow's global plugin registry.
        import pillow_heif
    except ImportError:
        return False
    # Depth maps, auxiliary images and embedded thumbnails are never needed and only widen the surface.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    return True


# --- images -----------------------------------------------------------------------------------------

_PIL_FORMATS = {
    FileType.JPEG: ("JPEG",),
    FileType.PNG: ("PNG",),
    FileType.WEBP: ("WEBP",),
    FileType.HEIC: ("HEIF",),
}
_TRUNCATED_MESSAGE = "文件不完整，可能上传时中断了，请重新上传。"


def _process_image(data: bytes, kind: FileType, limits: MaterialLimits) -> MaterialResult:
    label = kind.label
    try:
        with Image.open(BytesIO(data), formats=_PIL_FORMATS[kind]) as im:
            width, height = im.size
            if width * height > limits.max_pixels:
                return _reject(IssueCode.TOO_MANY_PIXELS, _too_many_pixels(limits, width, height), label)
            if min(width, height) < limits.min_short_side:
                return _reject(IssueCode.TOO_SMALL, _too_small(limits, width, height), label)
            _draft_for(im, limits.max_long_side)
            im.load()
            picture = _normalise(im, limits.max_long_side)
    except Image.DecompressionBombError:
        return _reject(IssueCode.TOO_MANY_PIXELS, _too_many_pixels(limits, None, None), label)
    except MemoryError:
        raise
    except Exception as exc:  # any failure to decode hostile bytes is a refusal, not a 500
        logger.info("refused a %s that does not decode: %r", kind.value, exc)
        if "truncated" in str(exc) or isinstance(exc, EOFError):
            return _reject(IssueCode.TRUNCATED, _TRUNCATED_MESSAGE, label)
        return _reject(IssueCode.CORRUPT, f"文件已损坏，无法打开（{label}）。请重新拍照或导出后上传。", label)
    return _finish(picture, kind, limits)


def _too_many_pixels(limits: MaterialLimits, width: int | None, height: int | None) -> str:
    size = f"（{width}×{height} 像素）" if width and height else ""
    return f"图片尺寸过大{size}，请缩小到 {limits.max_pixels / 10_000:g} 万像素以内后再上传。"


def _too_small(limits: MaterialLimits, width: int, height: int) -> str:
    return (
        f"图片太小（{width}×{height} 像素），看不清材料内容。请靠近材料拍摄或上传原图，"
        f"短边至少 {limits.min_short_side} 像素。"
    )


def _draft_for(im: Image.Image, max_long_side: int) -> None:
    """Let libjpeg decode a much larger photo at 1/2, 1/4 or 1/8 scale: less memory, less time."""
    if im.format not in ("JPEG", "MPO"):
        return
    width, height = im.size
    scale = max_long_side / max(width, height)
    if scale < 0.5:
        im.draft(None, (max(1, int(width * scale) + 1), max(1, int(height * scale) + 1)))


# EXIF orientation → the transpose that turns the stored pixels upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block only costs us the orientation
        return 1
    return value if isinstance(value, int) else 1


def _normalise(im: Image.Image, max_long_side: int) -> Image.Image:
    icc = im.info.get("icc_profile")
    orientation = _orientation(im)
    flat = _flatten(im)
    # Shrink first, turn upright after: the long side does not care, and turning 4 MP beats turning 12.
    flat = _fit(flat, max_long_side)
    if orientation in _UPRIGHT:
        flat = flat.transpose(_UPRIGHT[orientation])
    flat = _to_srgb(flat, icc if isinstance(icc, bytes) else None)
    # Saving takes JPEG comments (and other keys in future Pillows) from `info`: start from nothing.
    flat.info = {}
    return flat


def _flatten(im: Image.Image) -> Image.Image:
    """One colour space per output: RGB, or L for grey scans; transparency goes onto white paper."""
    if im.mode in ("RGB", "L"):
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit scans: 0..65535 onto 0..255 (a plain convert would clip everything above 255 to white).
        return im.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if im.mode == "1":
        return im.convert("L")
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return im.convert("RGB")


def _fit(im: Image.Image, max_long_side: int) -> Image.Image:
    width, height = im.size
    if max(width, height) <= max_long_side:
        return im
    scale = max_long_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert from the embedded profile (iPhone Display P3, Adobe CMYK) before the profile is dropped."""
    if icc is None or im.mode not in ("RGB", "CMYK"):
        return im
    try:
        profile = ImageCms.ImageCmsProfile(BytesIO(icc))
        if im.mode == "RGB" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return im
        converted = ImageCms.profileToProfile(im, profile, _srgb(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im
    return converted if converted is not None else im


def _finish(picture: Image.Image, kind: FileType, limits: MaterialLimits) -> MaterialResult:
    grey = _grey_sample(picture, limits.quality_side)
    stats = ImageStat.Stat(grey)
    if stats.stddev[0] < limits.blank_stddev:
        message = "图片几乎是一片空白（或全黑），没有拍到材料内容，请重新拍摄。"
        return _reject(IssueCode.BLANK, message, kind.label)
    warnings: list[Issue] = []
    sharpness = laplacian_variance(grey)
    if sharpness < limits.blur_threshold:
        message = "图片可能有些模糊，请确认文字清晰可辨；如看不清，建议对焦后重新拍摄。"
        warnings.append(Issue(IssueCode.BLURRY, message))
    if stats.mean[0] < limits.dark_mean:
        warnings.append(Issue(IssueCode.DARK, "图片偏暗，建议在光线充足的地方重新拍摄。"))
    thumb = picture.copy()
    thumb.thumbnail((limits.thumbnail_side, limits.thumbnail_side), Image.Resampling.BICUBIC)
    return Accepted(
        source_type=kind,
        media_type="image/jpeg",
        content=encode_jpeg(picture, limits.jpeg_quality),
        width=picture.width,
        height=picture.height,
        thumbnail=encode_jpeg(thumb, limits.thumbnail_quality),
        warnings=tuple(warnings),
        sharpness=round(sharpness, 1),
    )


def encode_jpeg(im: Image.Image, quality: int) -> bytes:
    im.info = {}
    out = BytesIO()
    im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _grey_sample(im: Image.Image, side: int) -> Image.Image:
    grey = im.convert("L")
    if max(grey.size) > side:
        grey.thumbnail((side, side), Image.Resampling.BILINEAR)
    return grey


_LAPLACIAN = (0, 1, 0, 1, -4, 1, 0, 1, 0)
_LAPLACIAN_POS = ImageFilter.Kernel((3, 3), _LAPLACIAN, scale=1)
_LAPLACIAN_NEG = ImageFilter.Kernel((3, 3), [-k for k in _LAPLACIAN], scale=1)


def laplacian_variance(grey: Image.Image) -> float:
    """Variance of the Laplacian, a standard focus measure, with Pillow only.

    Pillow's kernels clip to 0..255, so the positive and negative halves are filtered separately and
    recombined: lap = pos - neg, lap² = pos² + neg² (only one of them is non-zero per pixel).
    """
    if grey.width < 3 or grey.height < 3:
        return 0.0
    # Pillow copies the outermost pixels through unfiltered: leave them out.
    inner = (1, 1, grey.width - 1, grey.height - 1)
    pos = ImageStat.Stat(grey.filter(_LAPLACIAN_POS).crop(inner))
    neg = ImageStat.Stat(grey.filter(_LAPLACIAN_NEG).crop(inner))
    n = pos.count[0]
    mean = (pos.sum[0] - neg.sum[0]) / n
    return float((pos.sum2[0] + neg.sum2[0]) / n - mean * mean)


# --- PDF --------------------------------------------------------------------------------------------


def _name(word: str) -> bytes:
    """A PDF name as a regex that also matches `#xx` escapes: `/J#61vaScript` is `/JavaScript`."""
    parts = [b"(?:%s|#(?i:%02x))" % (re.escape(ch.encode()), ord(ch)) for ch in word]
    return b"/" + b"".join(parts)


_DELIMITER = rb"(?=[\s()<>\[\]{}/%]|$)"
_ACTIVE = ("JavaScript", "Launch", "EmbeddedFile", "EmbeddedFiles", "RichMedia", "XFA")
_ACTIVE_NAMES = re.compile(b"(?:" + b"|".join(_name(n) for n in _ACTIVE) + b")" + _DELIMITER)
_ENCRYPT = re.compile(_name("Encrypt") + _DELIMITER)
_OBJECT_STREAM = re.compile(_name("Type") + rb"\s*" + _name("ObjStm") + _DELIMITER)
_STREAM_START = re.compile(rb"stream\r?\n")
_HTML_MARKERS = (b"<html", b"<script", b"<svg", b"<!doctype", b"<body", b"<iframe", b"<?xml")
# Object streams hold small dictionaries; more than this inflated is a bomb, not a form.
_MAX_INFLATED = 32 * 1024 * 1024
_ZIP_END = b"PK\x05\x06"


def check_pdf(data: bytes) -> MaterialResult:
    """Structural checks only: complete, not encrypted, no scripts / launch actions / attachments / XFA.

    JavaScript actions must say `/S /JavaScript`, so the long name is enough; dictionaries hidden in
    compressed object streams are inflated and scanned too, and an object stream we cannot inflate is
    refused rather than trusted.
    """
    label = FileType.PDF.label

    def reject(code: IssueCode, message: str) -> Rejected:
        return _reject(code, message, label)

    suspicious = "文件结构异常（混入了其他类型的内容），出于安全原因不能接收，请重新导出 PDF 后上传。"
    if any(marker in data[:1024].lower() for marker in _HTML_MARKERS):
        return reject(IssueCode.SUSPICIOUS, suspicious)
    if _ZIP_END in data[-(65_535 + 22 + 1024) :]:
        return reject(IssueCode.SUSPICIOUS, suspicious)
    if b"%%EOF" not in data[-1024:]:
        return reject(IssueCode.TRUNCATED, "PDF 文件不完整，可能上传时中断了，请重新上传。")
    if _ENCRYPT.search(data):
        return reject(IssueCode.PDF_ENCRYPTED, "PDF 文件已加密，工作人员无法打开，请上传未加密的文件。")
    hidden = _inflate_object_streams(data)
    if hidden is None:
        return reject(IssueCode.SUSPICIOUS, suspicious)
    if _ACTIVE_NAMES.search(data) or _ACTIVE_NAMES.search(hidden):
        message = "PDF 文件含有脚本、附件或动态表单，出于安全原因不能接收，请另存为普通 PDF 或拍照上传。"
        return reject(IssueCode.PDF_ACTIVE_CONTENT, message)
    return Accepted(
        source_type=FileType.PDF,
        media_type=FileType.PDF.media_type,
        content=data,
        width=None,
        height=None,
        thumbnail=None,
    )


def _inflate_object_streams(data: bytes) -> bytes | None:
    """Compressed object streams (PDF 1.5+) inflated and concatenated; None if one will not inflate
    or the total is over budget."""
    out = bytearray()
    view = memoryview(data)
    for found in _OBJECT_STREAM.finditer(data):
        start = _STREAM_START.search(data, found.end(), found.end() + 2048)
        if start is None:
            return None
        inflater = zlib.decompressobj()
        try:
            out += inflater.decompress(view[start.end() :], _MAX_INFLATED - len(out) + 1)
        except zlib.error:
            return None
        if len(out) > _MAX_INFLATED:
            return None
    return bytes(out)
