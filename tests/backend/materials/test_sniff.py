import pytest

from backend.materials.sniff import FileType, identify

from . import corpus


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", FileType.JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", FileType.PNG),
        (b"RIFF\x00\x10\x00\x00WEBPVP8 ", FileType.WEBP),
        (b"%PDF-1.7\n", FileType.PDF),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", FileType.HEIC),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf", FileType.HEIC),
    ],
)
def test_accepted_types_are_identified_from_their_signature(data, expected):
    assert identify(data).type is expected


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (b"", "空文件"),
        (corpus.SVG, "SVG 矢量图"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG 矢量图"),
        (corpus.HTML, "网页文件"),
        (corpus.html_then_jpeg(), "网页文件"),
        (b"GIF89a\x01\x00\x01\x00", "GIF 动图"),
        (b"PK\x03\x04\x14\x00", "压缩包或 Office 文档"),
        (b"MZ\x90\x00", "可执行程序"),
        (b"\x7fELF\x02\x01", "可执行程序"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "AVIF 图片"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42", "视频文件"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "视频文件"),
        ("营业执照复印件说明\n".encode(), "文本文件"),
        (bytes(range(256)), "未知格式"),
        # A PDF header anywhere but at byte 0 is how PDF polyglots are built: not a PDF to us.
        (b"\x00" * 10 + b"%PDF-1.4\n", "未知格式"),
    ],
)
def test_everything_else_is_refused_with_a_label(data, label):
    identified = identify(data)
    assert identified.type is None
    assert identified.label == label


def test_the_name_plays_no_part():
    # There is no name parameter at all: a PDF called photo.jpg is a PDF, a JPEG called scan.pdf a JPEG.
    assert identify(corpus.scanned_pdf()).type is FileType.PDF
    assert identify(corpus.tiny_jpeg()).type is FileType.JPEG
