"""Office hours: parsing, holidays and 调休 from the real holiday calendar, the next opening, the wording."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from backend.catalog import load_holidays
from backend.office_hours import OfficeHours, when_label
from backend.settings import PROJECT_ROOT, Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = load_holidays(PROJECT_ROOT / "config" / "holidays.yaml")
HOURS = OfficeHours.parse("mon-fri 09:00-12:00,13:30-17:30")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-09-29 09:00", True),  # Tuesday morning
        ("2026-09-29 12:30", False),  # lunch break
        ("2026-09-29 17:30", False),  # closing time is closed
        ("2026-10-01 10:00", False),  # National Day, a Thursday
        ("2026-10-03 10:00", False),  # Saturday inside the holiday
        ("2026-10-10 10:00", True),  # Saturday worked in exchange (调休)
        ("2026-10-11 10:00", False),  # an ordinary Sunday
    ],
)
def test_open_on_working_days_only(moment: str, open_: bool) -> None:
    assert HOURS.is_open(at(moment), CALENDAR) is open_


def test_next_opening_skips_the_holiday() -> None:
    assert HOURS.next_opening(at("2026-09-30 18:00"), CALENDAR) == at("2026-10-08 09:00")
    assert HOURS.next_opening(at("2026-09-29 12:10"), CALENDAR) == at("2026-09-29 13:30")
    assert HOURS.next_opening(at("2026-10-09 18:00"), CALENDAR) == at("2026-10-10 09:00")


def test_weekend_groups_and_wording() -> None:
    hours = OfficeHours.parse("mon-fri 08:30-12:00,14:00-17:00; sat 09:00-12:00")
    assert hours.is_open(at("2026-09-19 10:00"), CALENDAR)  # an ordinary Saturday
    assert not hours.is_open(at("2026-10-03 10:00"), CALENDAR)  # but not inside a holiday
    assert hours.describe() == "周一至周五 08:30-12:00、14:00-17:00；周六 09:00-12:00（法定节假日除外）"
    tuesdays = OfficeHours.parse("tue 09:00-12:00")
    assert tuesdays.next_opening(at("2026-09-13 10:00"), CALENDAR) == at("2026-09-15 09:00")
    assert OfficeHours.parse("mon-sun 00:00-24:00").describe() == "周一至周日 00:00-24:00（法定节假日除外）"
    assert OfficeHours.parse("mon-sun 00:00-24:00").is_open(at("2026-09-13 23:59"), CALENDAR)


def test_when_label() -> None:
    now = at("2026-09-30 18:00")
    assert when_label(at("2026-09-30 19:00"), now) == "今天 19:00"
    assert when_label(at("2026-10-01 09:00"), now) == "明天 09:00"
    assert when_label(at("2026-10-08 09:00"), now) == "10月8日（周四）09:00"


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "9-5",
        "mon-fri",
        "fri-mon 09:00-12:00",
        "mon 12:00-09:00",
        "mon 09:00-12:00,11:00-13:00",
        "mon 25:00-26:00",
    ],
)
def test_bad_specs_are_refused_at_start(spec: str) -> None:
    with pytest.raises(ValueError, match="office hours"):
        Settings(office_hours=spec)
