"""Materials and licence pictures: how long the blocking Pillow work takes, on one core.

    .venv/bin/python scripts/bench_materials.py [--runs N]

Prints the median and best of N runs for: normalising a 12-megapixel phone photo (decode, EXIF
rotation, metadata stripped, capped at 2400 px, quality checks, JPEG + thumbnail; aim < 0.5 s), rendering
a licence card with its QR code as PNG (aim < 100 ms; each run a new licence number, so the QR cache never
helps), and rendering a one-time notice PNG. The process is pinned to one CPU where the OS allows it.
"""

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import PIL  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from backend.materials.imaging import Accepted, process_upload  # noqa: E402
from backend.materials.render import (  # noqa: E402
    CardPermit,
    LicenceCardData,
    MaterialStatus,
    NoticeData,
    NoticeLicence,
    NoticeMaterial,
    SubmissionInfo,
    find_fonts,
    render_licence_card,
    render_notice_png,
)
from backend.materials.tokens import verification_url  # noqa: E402

KEY = b"bench-signing-key-0123456789"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def phone_photo() -> bytes:
    """4000 x 3000 JPEG (q92) of a printed page on a desk, with sensor noise and EXIF orientation 6."""
    im = Image.new("RGB", (4000, 3000), (96, 84, 70))
    draw = ImageDraw.Draw(im)
    draw.rectangle((400, 250, 3600, 2750), fill=(238, 236, 228))
    font = find_fonts().font(75)
    for y in range(400, 2600, 120):
        draw.text(
            (600, y), "营业执照 统一社会信用代码 91371302MA3CXXXX 临沂市兰山区", fill="#1e1e23", font=font
        )
    im = Image.blend(im, Image.effect_noise(im.size, 128).convert("RGB"), 4 / 128)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    im.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def card(run: int) -> LicenceCardData:
    number = "XK-2026-" + "".join(CROCKFORD[(run >> (5 * i)) & 31] for i in range(6))
    permits = [
        CardPermit(name="营业执照", department="兰山区市场监督管理局", valid_from=date(2026, 11, 23)),
        CardPermit(
            name="食品经营许可证",
            department="兰山区市场监督管理局",
            valid_from=date(2026, 11, 28),
            valid_until=date(2031, 11, 27),
        ),
        CardPermit(
            name="公众聚集场所投入使用、营业前消防安全检查",
            department="兰山区消防救援大队",
            valid_from=date(2026, 12, 1),
        ),
        CardPermit(
            name="户外广告设施设置许可",
            department="兰山区综合行政执法局",
            valid_from=date(2026, 11, 28),
            valid_until=date(2029, 11, 27),
        ),
    ]
    return LicenceCardData(
        licence_number=number,
        industry="餐饮服务（饭店）",
        operator_name="临沂市兰山区好味道餐饮有限公司",
        legal_representative="王建国",
        address="山东省临沂市兰山区金雀山街道沂蒙路 188 号 1 号楼 101 室",
        permits=permits,
        issued_on=date(2026, 12, 1),
        issuer="临沂市兰山区行政审批服务局",
        verification_url=verification_url("https://zzlb.linyi.example.gov.cn", number, KEY),
    )


def notice() -> NoticeData:
    names = ["营业执照", "食品经营许可证", "公众聚集场所投入使用、营业前消防安全检查"]
    statuses = list(MaterialStatus)
    return NoticeData(
        package_name="饭店（餐饮服务）",
        application_code="ZL-20261122-4HBX0R",
        operator_name="临沂市兰山区好味道餐饮有限公司",
        issued_on=date(2026, 11, 22),
        licences=[NoticeLicence(name=n, department="兰山区市场监督管理局", promised_days=5) for n in names],
        materials=[
            NoticeMaterial(
                id=f"m{i}",
                name=f"第 {i + 1} 份材料（原件及复印件）",
                key=i % 2 == 0,
                status=statuses[i % len(statuses)],
                needed_by=names[: 1 + i % 3],
                due_date=date(2026, 12, 6),
            )
            for i in range(10)
        ],
        submission=SubmissionInfo(where="临沂市兰山区政务服务中心一楼综合窗口", how=["在公众号上传"]),
    )


def timed(label: str, runs: int, action: Callable[[int], object], aim: float | None = None) -> None:
    seconds = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        seconds.append(time.perf_counter() - start)
    median, best = statistics.median(seconds), min(seconds)
    verdict = "" if aim is None else ("  ok" if median < aim else f"  OVER the {aim * 1000:.0f} ms aim")
    print(f"{label:<44} median {median * 1000:7.1f} ms   best {best * 1000:7.1f} ms   ({runs} runs){verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"materials benchmark — one core, Python {sys.version.split()[0]}, Pillow {PIL.__version__}")

    start = time.perf_counter()
    fonts = find_fonts()
    fonts.font(36), fonts.font(36, bold=True)
    elapsed = (time.perf_counter() - start) * 1000
    print(f"{'font discovery + first load (once per process)':<44} {elapsed:7.1f} ms")

    photo = phone_photo()
    result = process_upload(photo)
    assert isinstance(result, Accepted), result
    print(
        f"photo: {len(photo) / 1e6:.1f} MB JPEG 4000x3000 -> {result.width}x{result.height} "
        f"{len(result.content) / 1e3:.0f} kB + thumbnail {len(result.thumbnail or b'') / 1e3:.0f} kB"
    )
    timed("normalise a 12 MP phone photo", args.runs, lambda _: process_upload(photo), aim=0.5)
    timed(
        "render a licence card PNG with its QR code",
        args.runs * 3,
        lambda n: render_licence_card(card(n)),
        0.1,
    )
    timed("render a one-time notice PNG (10 materials)", args.runs, lambda _: render_notice_png(notice()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
