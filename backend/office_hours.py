"""When the service centre's staff answer: `OFFICE_HOURS` such as `mon-fri 09:00-12:00,13:30-17:30`,
in the centre's time zone, minus public holidays from the holiday calendar.

Several groups are separated by `;` (`mon-fri 09:00-12:00,13:30-17:30; sat 09:00-12:00`). A weekend made a
working day by 调休 opens with the first group's hours, as service centres do.
"""

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_GROUP = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+?)\s*$")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
LOOKAHEAD_DAYS = 40  # longer than any holiday (the Spring Festival with its weekends is ~9 days)


class WorkingDays(Protocol):
    def is_working_day(self, day: date) -> bool: ...

    def holiday_name(self, day: date) -> str | None: ...


@dataclass(frozen=True)
class Span:
    start: time
    end: time

    def label(self) -> str:
        end = "24:00" if self.end == time.max else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


@dataclass(frozen=True)
class OfficeHours:
    spec: str
    days: dict[int, tuple[Span, ...]]  # weekday (Monday = 0) → opening spans
    default: tuple[Span, ...]  # for a 调休 working weekend

    @classmethod
    def parse(cls, spec: str) -> "OfficeHours":
        days: dict[int, tuple[Span, ...]] = {}
        default: tuple[Span, ...] = ()
        for group in filter(str.strip, spec.lower().split(";")):
            match = _GROUP.match(group)
            if match is None or match[1] not in DAYS or (match[2] and match[2] not in DAYS):
                raise ValueError(f"office hours: cannot read {group.strip()!r} (e.g. 'mon-fri 09:00-17:00')")
            first, last = DAYS.index(match[1]), DAYS.index(match[2] or match[1])
            if last < first:
                raise ValueError(f"office hours: {match[1]}-{match[2]} runs backwards")
            spans = tuple(_span(text) for text in match[3].split(","))
            if any(a.end > b.start for a, b in itertools.pairwise(spans)):
                raise ValueError(f"office hours: the spans of {group.strip()!r} overlap or are out of order")
            for weekday in range(first, last + 1):
                if weekday in days:
                    raise ValueError(f"office hours: {DAYS[weekday]} is listed twice")
                days[weekday] = spans
            default = default or spans
        if not days:
            raise ValueError("office hours: no opening days given")
        return cls(spec=spec, days=days, default=default)

    def spans_on(self, day: date, calendar: WorkingDays) -> tuple[Span, ...]:
        if calendar.holiday_name(day) is not None:
            return ()
        if day.weekday() in self.days:
            return self.days[day.weekday()]
        adjusted = day.weekday() >= 5 and calendar.is_working_day(day)  # a weekend worked (调休)
        return self.default if adjusted else ()

    def is_open(self, moment: datetime, calendar: WorkingDays) -> bool:
        now = moment.time()
        return any(span.start <= now < span.end for span in self.spans_on(moment.date(), calendar))

    def next_opening(self, moment: datetime, calendar: WorkingDays) -> datetime | None:
        """The next time staff start answering after `moment` (same time zone as `moment`)."""
        for start, _end in self._openings(moment, calendar):
            if start > moment:
                return start
        return None

    def _openings(self, moment: datetime, calendar: WorkingDays) -> Iterator[tuple[datetime, datetime]]:
        for offset in range(LOOKAHEAD_DAYS):
            day = moment.date() + timedelta(days=offset)
            for span in self.spans_on(day, calendar):
                yield (
                    datetime.combine(day, span.start, moment.tzinfo),
                    datetime.combine(day, span.end, moment.tzinfo),
                )

    def describe(self) -> str:
        """Chinese wording, e.g. `周一至周五 09:00-12:00、13:30-17:30（法定节假日除外）`."""
        groups: list[tuple[list[int], tuple[Span, ...]]] = []
        for weekday in sorted(self.days):
            spans = self.days[weekday]
            if groups and groups[-1][1] == spans and groups[-1][0][-1] == weekday - 1:
                groups[-1][0].append(weekday)
            else:
                groups.append(([weekday], spans))
        parts = []
        for weekdays, spans in groups:
            names = DAY_LABELS[weekdays[0]]
            if len(weekdays) > 1:
                names += f"至{DAY_LABELS[weekdays[-1]]}"
            parts.append(names + " " + "、".join(span.label() for span in spans))
        return "；".join(parts) + "（法定节假日除外）"


def _span(text: str) -> Span:
    match = _SPAN.match(text)
    if match is None:
        raise ValueError(f"office hours: cannot read the time span {text.strip()!r} (e.g. 09:00-12:00)")
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    if not (0 <= start_h < 24 and 0 <= end_h <= 24 and start_m < 60 and end_m < 60):
        raise ValueError(f"office hours: {text.strip()!r} is not a valid time of day")
    start = time(start_h, start_m)
    end = time.max if (end_h, end_m) == (24, 0) else time(end_h, end_m)
    if end <= start:
        raise ValueError(f"office hours: {text.strip()!r} ends before it starts")
    return Span(start, end)


def day_label(day: date) -> str:
    """`10月8日（周三）`: a day as applicants read it in notices, in chat and in the console."""
    return f"{day.month}月{day.day}日（{DAY_LABELS[day.weekday()]}）"


def when_label(moment: datetime, now: datetime) -> str:
    """`今天 13:30`, `明天 09:00`, or `10月8日（周三）09:00`."""
    days = (moment.date() - now.date()).days
    clock = f"{moment:%H:%M}"
    if days == 0:
        return f"今天 {clock}"
    if days == 1:
        return f"明天 {clock}"
    return f"{day_label(moment.date())}{clock}"
