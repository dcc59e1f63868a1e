"""Test files made on the fly with Pillow and a few bytes of hand-written structure: normal phone photos
and scans, and a corpus of hostile uploads. Nothing binary is committed."""

import io
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator, Iterator
from functools import cache

from PIL import Image, ImageCms, ImageDraw, ImageEnhance, ImageFilter

from backend.materials.render import find_fonts

LINE = "营业执照 统一社会信用代码 91371302MA3CXXXX 名称 临沂市兰山区某某餐饮有限公司 住所 兰山区金雀山路"
GPS_LATITUDE = (35.0, 3.0, 41.25)


def document_photo(
    size: tuple[int, int] = (4000, 3000),
    *,
    blur: float = 0.0,
    noise: float = 4.0,
    rows: int = 40,
    marker: bool = False,
) -> Image.Image:
    """A phone photo of a printed page lying on a desk: text, a table edge, sensor noise."""
    w, h = size
    im = Image.new("RGB", size, (96, 84, 70))
    draw = ImageDraw.Draw(im)
    m = w // 10
    draw.rectangle((m, h // 12, w - m, h - h // 12), fill=(238, 236, 228))
    font = find_fonts().font(max(8, h // rows))
    y = h // 12 + h // 20
    while y < h - h // 8:
        draw.text((m + w // 20, y), LINE, fill=(30, 30, 35), font=font)
        y += int(h / rows * 1.6)
    if marker:  # a red block in the top-left corner of the picture as the viewer sees it
        draw.rectangle((0, 0, w // 8, h // 8), fill=(220, 0, 0))
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        im = Image.blend(im, Image.effect_noise(size, 128).convert("RGB"), noise / 128)
    return im


def encode(im: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **params)
    return out.getvalue()


@cache
def phone_jpeg() -> bytes:
    """12 MP, as a phone camera writes it."""
    return encode(document_photo(), quality=92)


@cache
def gps_jpeg() -> bytes:
    """Portrait photo stored sideways (EXIF orientation 6) carrying GPS, camera make, XMP, a comment
    and an ICC profile — everything that must not survive."""
    shown = document_photo((3000, 4000), marker=True)
    stored = shown.transpose(Image.Transpose.ROTATE_90)  # exif_transpose(6) rotates it back
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "Apple"  # Make
    exif[0x0110] = "iPhone 15"  # Model
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: GPS_LATITUDE, 3: "E", 4: (118.0, 21.0, 2.5)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>35,3.6875N</exif:GPSLatitude></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(
        stored, quality=90, exif=exif.tobytes(), xmp=xmp, comment=b"home of the applicant", icc_profile=icc
    )


def truncated_jpeg() -> bytes:
    data = encode(document_photo((1600, 1200)), quality=90)
    return data[: len(data) * 6 // 10]


def truncated_png() -> bytes:
    data = encode(document_photo((1600, 1200), noise=20), "PNG")
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, bit_depth: int, colour_type: int, idat: bytes, extra: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + extra
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def png_bomb() -> bytes:
    """A 300-byte file whose header promises 100 000 × 100 000 RGBA: 40 GB once decoded."""
    return _png(100_000, 100_000, 8, 6, zlib.compress(b"\x00" * 4096, 9))


@cache
def png_20000() -> bytes:
    """A real, complete 20 000 × 20 000 image (1-bit grey, all white), ~60 KB on disk."""
    row = b"\x00" + b"\xff" * (20_000 // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(20_000)) + compressor.flush()
    return _png(20_000, 20_000, 1, 0, idat)


def jpeg_20000() -> bytes:
    """A JPEG whose frame header says 20 000 × 20 000 (a small real JPEG with its SOF patched)."""
    data = bytearray(encode(Image.new("RGB", (64, 64), "white")))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 20_000, 20_000)
    return bytes(data)


def png_text_bomb() -> bytes:
    """A small valid picture with a zTXt chunk that inflates to 100 MB."""
    text = b"Comment\x00\x00" + zlib.compress(b"A" * 100_000_000, 9)
    picture = document_photo((800, 600), noise=0)
    raw = b"".join(b"\x00" + picture.tobytes()[y * 2400 : (y + 1) * 2400] for y in range(600))
    return _png(800, 600, 8, 2, zlib.compress(raw), extra=_png_chunk(b"zTXt", text))


def tiny_jpeg() -> bytes:
    return encode(document_photo((320, 240)), quality=90)


def blank_jpeg() -> bytes:
    return encode(Image.new("RGB", (3000, 4000), (250, 250, 248)), quality=90)


def blurry_jpeg() -> bytes:
    return encode(document_photo(blur=12), quality=90)


def dim_blurry_jpeg() -> bytes:
    """Out of focus and taken in a dim room: kept, with both quality warnings."""
    return encode(ImageEnhance.Brightness(document_photo((1600, 1200), blur=6)).enhance(0.18), quality=90)


def screenshot_png() -> bytes:
    """RGBA with transparency, as a phone screenshot tool or an editing app exports."""
    im = document_photo((1170, 2532), noise=0).convert("RGBA")
    im.putalpha(Image.new("L", im.size, 200))
    return encode(im, "PNG")


def webp_photo() -> bytes:
    return encode(document_photo((2000, 1500)), "WEBP", quality=80)


def cmyk_jpeg() -> bytes:
    return encode(document_photo((1600, 1200)).convert("CMYK"), quality=90)


def grey16_png() -> bytes:
    im = document_photo((1200, 900), noise=0).convert("L").convert("I").point(lambda v: v * 257)
    return encode(im.convert("I;16"), "PNG")


def heic_photo() -> bytes | None:
    try:
        import pillow_heif
    except ImportError:
        return None
    heif = pillow_heif.from_pillow(document_photo((2000, 1500)))
    out = io.BytesIO()
    heif.save(out, quality=70, enc_params={"preset": "ultrafast"})  # x265's default preset takes seconds
    return out.getvalue()


# --- PDF --------------------------------------------------------------------------------------------


def scanned_pdf() -> bytes:
    """What a scanner app or Pillow writes: one page with a JPEG on it."""
    return encode(document_photo((1240, 1754)), "PDF", resolution=150)


def build_pdf(
    objects: list[bytes], *, trailer: bytes = b"", header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
) -> bytes:
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


_PAGES = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]


def text_pdf() -> bytes:
    return build_pdf(_PAGES)


def javascript_pdf() -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    return build_pdf([catalog, *_PAGES[1:], b"<< /S /JavaScript /JS (app.alert('hi')) >>"])


def escaped_javascript_pdf() -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    return build_pdf([catalog, *_PAGES[1:], b"<< /S /J#61va#53cript /JS (app.alert('hi')) >>"])


def launch_pdf() -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    return build_pdf([catalog, *_PAGES[1:], b"<< /S /Launch /F (cmd.exe) >>"])


def embedded_file_pdf() -> bytes:
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 4 0 R >> >>"
    return build_pdf([catalog, *_PAGES[1:], b"<< /Names [(a.exe) 5 0 R] >>", b"<< /Type /Filespec >>"])


def object_stream_javascript_pdf() -> bytes:
    """The script's dictionary hidden inside a Flate-compressed object stream (PDF 1.5+)."""
    inner = b"4 0 << /S /JavaScript /JS (app.alert('hi')) >>"
    packed = zlib.compress(inner)
    objstm = b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        len(packed),
        packed,
    )
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>"
    return build_pdf([catalog, *_PAGES[1:], b"null", objstm])


def encrypted_pdf() -> bytes:
    encrypt = b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>"
    return build_pdf([*_PAGES, encrypt], trailer=b"/Encrypt 4 0 R ")


def truncated_pdf() -> bytes:
    data = scanned_pdf()
    return data[: len(data) // 2]


# --- wrong types and polyglots ---------------------------------------------------------------------

SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="alert(document.cookie)">'
    b'<rect width="100" height="100"/></svg>'
)
HTML = b"\xef\xbb\xbf\n  <!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return out.getvalue()


def jpeg_polyglot() -> bytes:
    """A genuine JPEG with a script in a comment segment and a ZIP archive appended (JPEG+HTML+ZIP)."""
    photo = encode(document_photo((1600, 1200)), quality=90, comment=b"<script>alert(1)</script>")
    return photo + _zip()


def pdf_html_polyglot() -> bytes:
    """A PDF whose first comment line is an HTML page: a browser sniffing content would run it."""
    return build_pdf(_PAGES, header=b"%PDF-1.4\n%<html><script>alert(document.cookie)</script></html>\n")


def pdf_zip_polyglot() -> bytes:
    return scanned_pdf() + _zip()


def html_then_jpeg() -> bytes:
    """HTML first, a JPEG after it: some readers would still find the picture."""
    return HTML + tiny_jpeg()


# --- streams ----------------------------------------------------------------------------------------


class CountingStream:
    """50 MB in 64 KB chunks, made on demand, counting how much was pulled."""

    def __init__(self, total: int = 50 * 1024 * 1024, chunk: int = 64 * 1024) -> None:
        self.total = total
        self.chunk = b"\xff" * chunk
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.pulled < self.total:
            self.pulled += len(self.chunk)
            yield self.chunk

    async def aiter(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk
