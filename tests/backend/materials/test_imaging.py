"""The upload pipeline against normal photos and a corpus of hostile files.

The table below *is* the documented answer for each hostile file: refused with this code and HTTP status,
or accepted — and then only as a freshly encoded JPEG (or, for a PDF, the checked original).
"""

import io
import tracemalloc
from typing import cast

import pytest
from PIL import Image

from backend.materials.imaging import (
    Accepted,
    IssueCode,
    MaterialLimits,
    Rejected,
    laplacian_variance,
    process_upload,
)

from . import corpus

HOSTILE = [
    ("zero bytes", lambda: b"", IssueCode.EMPTY, 422),
    ("truncated JPEG", corpus.truncated_jpeg, IssueCode.TRUNCATED, 422),
    ("truncated PNG", corpus.truncated_png, IssueCode.TRUNCATED, 422),
    ("PNG decompression bomb 100000x100000", corpus.png_bomb, IssueCode.TOO_MANY_PIXELS, 422),
    ("real 20000x20000 PNG", corpus.png_20000, IssueCode.TOO_MANY_PIXELS, 422),
    ("JPEG declaring 20000x20000", corpus.jpeg_20000, IssueCode.TOO_MANY_PIXELS, 422),
    ("PNG with a 100 MB zTXt bomb", corpus.png_text_bomb, IssueCode.CORRUPT, 422),
    ("SVG with onload script", lambda: corpus.SVG, IssueCode.UNSUPPORTED_TYPE, 415),
    ("HTML page", lambda: corpus.HTML, IssueCode.UNSUPPORTED_TYPE, 415),
    ("HTML with a JPEG after it", corpus.html_then_jpeg, IssueCode.UNSUPPORTED_TYPE, 415),
    ("PDF with an HTML first line", corpus.pdf_html_polyglot, IssueCode.SUSPICIOUS, 422),
    ("PDF with a ZIP appended", corpus.pdf_zip_polyglot, IssueCode.SUSPICIOUS, 422),
    ("PDF with JavaScript", corpus.javascript_pdf, IssueCode.PDF_ACTIVE_CONTENT, 422),
    ("PDF with #-escaped JavaScript", corpus.escaped_javascript_pdf, IssueCode.PDF_ACTIVE_CONTENT, 422),
    (
        "PDF with JavaScript in an object stream",
        corpus.object_stream_javascript_pdf,
        IssueCode.PDF_ACTIVE_CONTENT,
        422,
    ),
    ("PDF with a Launch action", corpus.launch_pdf, IssueCode.PDF_ACTIVE_CONTENT, 422),
    ("PDF with an embedded file", corpus.embedded_file_pdf, IssueCode.PDF_ACTIVE_CONTENT, 422),
    ("encrypted PDF", corpus.encrypted_pdf, IssueCode.PDF_ENCRYPTED, 422),
    ("truncated PDF", corpus.truncated_pdf, IssueCode.TRUNCATED, 422),
    ("photo far too small", corpus.tiny_jpeg, IssueCode.TOO_SMALL, 422),
    ("blank page", corpus.blank_jpeg, IssueCode.BLANK, 422),
]


@pytest.mark.parametrize(("factory", "code", "status"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_refused_with_a_reason(factory, code, status):
    result = process_upload(factory())
    assert isinstance(result, Rejected), result
    assert result.errors[0].code is code
    assert result.http_status == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.message)  # Chinese, for the bot to relay


def test_bombs_are_refused_from_the_header_without_decoding():
    for factory in (corpus.png_bomb, corpus.png_20000, corpus.jpeg_20000):
        data = factory()
        tracemalloc.start()
        result = process_upload(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert isinstance(result, Rejected)
        assert peak < 1_000_000


def test_over_the_byte_limit_is_413_even_when_handed_in_whole():
    result = process_upload(corpus.tiny_jpeg(), MaterialLimits(max_bytes=1000))
    assert isinstance(result, Rejected)
    assert result.errors[0].code is IssueCode.TOO_LARGE
    assert result.http_status == 413


def test_pdf_named_jpg_is_kept_as_pdf_and_jpeg_named_pdf_becomes_a_jpeg():
    pdf = corpus.scanned_pdf()
    as_pdf = process_upload(pdf)
    assert isinstance(as_pdf, Accepted)
    assert as_pdf.media_type == "application/pdf"
    assert as_pdf.content == pdf
    assert as_pdf.thumbnail is None

    jpeg = process_upload(corpus.cmyk_jpeg())
    assert isinstance(jpeg, Accepted)
    assert jpeg.media_type == "image/jpeg"


def test_polyglot_jpeg_is_accepted_but_only_its_pixels_survive():
    data = corpus.jpeg_polyglot()
    assert b"<script>" in data and b"PK\x05\x06" in data
    result = process_upload(data)
    assert isinstance(result, Accepted)
    assert b"<script>" not in result.content
    assert b"PK" not in result.content[-100:]
    assert result.content.endswith(b"\xff\xd9")


def _open(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _rgb(im: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    return cast(tuple[int, int, int], im.convert("RGB").getpixel(xy))


def test_gps_and_all_other_metadata_are_stripped_and_the_photo_is_turned_upright():
    original = _open(corpus.gps_jpeg())
    assert original.getexif().get_ifd(0x8825)  # the fixture really carries GPS
    assert original.size == (4000, 3000)

    result = process_upload(corpus.gps_jpeg())
    assert isinstance(result, Accepted)
    out = _open(result.content)
    assert out.format == "JPEG"
    assert out.size == (1800, 2400)  # portrait, long side capped
    assert not out.getexif()
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "photoshop", "adobe"):
        assert key not in out.info, key
    assert result.thumbnail is not None
    for marker in (b"Exif", b"GPS", b"iPhone", b"xmpmeta", b"home of the applicant", b"ICC_PROFILE"):
        assert marker not in result.content, marker
        assert marker not in result.thumbnail, marker
    # The red marker was in the top-left corner of the picture as the applicant saw it.
    red, green, _ = _rgb(out, (40, 40))
    assert red > 180 and green < 60


@pytest.mark.parametrize(
    ("factory", "size"),
    [
        (corpus.phone_jpeg, (2400, 1800)),
        (corpus.webp_photo, (2000, 1500)),
        (corpus.screenshot_png, (1109, 2400)),
        (corpus.cmyk_jpeg, (1600, 1200)),
        (corpus.grey16_png, (1200, 900)),
    ],
    ids=["12MP phone JPEG", "WebP", "RGBA PNG screenshot", "CMYK JPEG", "16-bit grey PNG"],
)
def test_normal_pictures_are_normalised_and_thumbnailed(factory, size):
    result = process_upload(factory())
    assert isinstance(result, Accepted), result
    assert result.media_type == "image/jpeg"
    assert (result.width, result.height) == size
    out = _open(result.content)
    assert out.format == "JPEG" and out.size == size and out.mode in ("RGB", "L")
    assert result.thumbnail is not None
    thumb = _open(result.thumbnail)
    assert thumb.format == "JPEG" and max(thumb.size) == 320
    assert result.warnings == ()


def test_grey_16_bit_scan_keeps_its_tones():
    result = process_upload(corpus.grey16_png())
    assert isinstance(result, Accepted)
    lo, hi = cast(tuple[int, int], _open(result.content).convert("L").getextrema())
    assert lo < 60 and hi > 200  # not clipped to white


def test_transparent_screenshot_lands_on_white_paper():
    result = process_upload(corpus.screenshot_png())
    assert isinstance(result, Accepted)
    r, g, b = _rgb(_open(result.content), (5, 5))
    assert min(r, g, b) > 100  # desk brown blended towards white, not towards black


def test_heic_is_decoded_when_pillow_heif_is_installed():
    data = corpus.heic_photo()
    if data is None:
        pytest.skip("pillow-heif not installed")
    result = process_upload(data)
    assert isinstance(result, Accepted)
    assert result.source_type.value == "heic" and result.media_type == "image/jpeg"


def test_blurred_photo_is_kept_with_a_warning():
    result = process_upload(corpus.blurry_jpeg())
    assert isinstance(result, Accepted)
    assert [w.code for w in result.warnings] == [IssueCode.BLURRY]
    assert "模糊" in result.warnings[0].message


@pytest.mark.parametrize(("blur", "blurry"), [(0, False), (4, False), (8, True)])
@pytest.mark.parametrize("rows", [40, 90], ids=["large text", "small text"])
def test_sharpness_threshold_calibration(blur, blurry, rows):
    # Gaussian blur radius in pixels of a 4000x3000 photo; at 8 px small text is no longer legible.
    # Measured (variance of the Laplacian): sharp 2400-5500, blur 4 ≈ 60-290, blur 8 ≈ 7-31.
    grey = corpus.document_photo(blur=blur, rows=rows).convert("L")
    grey.thumbnail((MaterialLimits().quality_side,) * 2)
    assert (laplacian_variance(grey) < MaterialLimits().blur_threshold) is blurry


def test_too_small_limit_is_configurable():
    limits = MaterialLimits(min_short_side=200)
    assert isinstance(process_upload(corpus.tiny_jpeg(), limits), Accepted)


def test_pixel_limit_is_configurable():
    result = process_upload(corpus.phone_jpeg(), MaterialLimits(max_pixels=10_000_000))
    assert isinstance(result, Rejected)
    assert result.errors[0].code is IssueCode.TOO_MANY_PIXELS
    assert "4000×3000" in result.message


def test_very_large_jpeg_decodes_at_reduced_scale():
    big = corpus.encode(corpus.document_photo((9000, 6000), noise=0), quality=80)
    tracemalloc.start()
    result = process_upload(big)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert isinstance(result, Accepted)
    assert (result.width, result.height) == (2400, 1600)
    assert peak < 20_000_000


_INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(orientation):
    shown = corpus.document_photo((900, 1200), marker=True, noise=0)
    inverse = _INVERSE[orientation]
    stored = shown.transpose(inverse) if inverse is not None else shown
    exif = Image.Exif()
    exif[0x0112] = orientation
    result = process_upload(corpus.encode(stored, quality=90, exif=exif.tobytes()))
    assert isinstance(result, Accepted)
    out = _open(result.content).convert("RGB")
    assert out.size == (900, 1200)
    red, green, _ = _rgb(out, (30, 30))
    assert red > 180 and green < 60
