"""What an upload is, decided from its first bytes only — never from its name or declared type.

Only the formats we accept are *identified*; everything else gets a Chinese label so the refusal can say
what the file looked like ("SVG 矢量图", "网页文件") instead of a bare "unsupported".
"""

from dataclasses import dataclass
from enum import StrEnum

# Enough for every signature below, and for the start of an SVG/HTML document after a BOM and blank lines.
HEAD_BYTES = 1024

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_VIDEO_BRANDS = frozenset({b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1"})


class FileType(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIC = "heic"
    PDF = "pdf"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_image(self) -> bool:
        return self is not FileType.PDF


_MEDIA_TYPES = {
    FileType.JPEG: "image/jpeg",
    FileType.PNG: "image/png",
    FileType.WEBP: "image/webp",
    FileType.HEIC: "image/heic",
    FileType.PDF: "application/pdf",
}
_LABELS = {
    FileType.JPEG: "JPEG 图片",
    FileType.PNG: "PNG 图片",
    FileType.WEBP: "WebP 图片",
    FileType.HEIC: "HEIC 图片",
    FileType.PDF: "PDF 文件",
}


@dataclass(frozen=True, slots=True)
class Identified:
    """`type` is None for anything we do not accept; `label` always says what it looks like."""

    type: FileType | None
    label: str


def identify(data: bytes) -> Identified:
    head = data[:HEAD_BYTES]
    if not head:
        return Identified(None, "空文件")
    accepted = _accepted_type(head)
    if accepted is not None:
        return Identified(accepted, accepted.label)
    return Identified(None, _describe_other(head))


def _accepted_type(head: bytes) -> FileType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType.WEBP
    # Strictly at offset 0: readers tolerate junk before the header, which is how PDF polyglots are made.
    if head.startswith(b"%PDF-"):
        return FileType.PDF
    brands = _iso_brands(head)
    if brands and _is_heic(brands):
        return FileType.HEIC
    return None


def _iso_brands(head: bytes) -> list[bytes]:
    """Major and compatible brands of an ISO-BMFF `ftyp` box (HEIF, AVIF, MP4, MOV), or []."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return []
    box_size = int.from_bytes(head[:4], "big")
    end = min(box_size, len(head)) if box_size >= 16 else 16
    brands = [head[8:12]]
    brands += [head[i : i + 4] for i in range(16, end - 3, 4)]
    return brands


def _is_heic(brands: list[bytes]) -> bool:
    if any(b in _AVIF_BRANDS for b in brands):
        return False
    return any(b in _HEIC_BRANDS for b in brands) or brands[0] in _HEIF_GENERIC_BRANDS


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF 动图"),
    (b"GIF89a", "GIF 动图"),
    (b"II*\x00", "TIFF 图片"),
    (b"MM\x00*", "TIFF 图片"),
    (b"BM", "BMP 图片"),
    (b"PK\x03\x04", "压缩包或 Office 文档"),
    (b"Rar!\x1a\x07", "压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "压缩包"),
    (b"\x1f\x8b", "压缩包"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "旧版 Office 文档"),
    (b"\x7fELF", "可执行程序"),
    (b"MZ", "可执行程序"),
)


def _describe_other(head: bytes) -> str:
    brands = _iso_brands(head)
    if brands:
        if any(b in _AVIF_BRANDS for b in brands):
            return "AVIF 图片"
        if any(b in _VIDEO_BRANDS for b in brands):
            return "视频文件"
        return "未知格式"
    for signature, label in _SIGNATURES:
        if head.startswith(signature):
            return label
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if b"<svg" in text:
        return "SVG 矢量图"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")) or b"<html" in text:
        return "网页文件"
    if _looks_like_text(head):
        return "文本文件"
    return "未知格式"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The head may cut a multi-byte character in two.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)
