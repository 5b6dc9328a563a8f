"""Working time for deadlines: the State Council's holidays and 调休 make-up days, office hours.

Django-free. Holidays come from chinese-calendar, which knows the years the State Council has
announced; for a later year (not yet announced) Monday to Friday are working days, which is what
the year will mostly be, and the deadline is at worst a day early.

Times are naive or aware datetimes in the calendar's local zone (Asia/Shanghai by default);
callers pass aware datetimes and get aware datetimes back in the same zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

Span = tuple[dt.time, dt.time]

DEFAULT_HOURS: tuple[Span, ...] = (
    (dt.time(8, 30), dt.time(12, 0)),
    (dt.time(13, 30), dt.time(17, 30)),
)


def parse_hours(text: str) -> tuple[Span, ...]:
    """`"08:30-12:00,13:30-17:30"` → spans; raises ValueError naming what is wrong."""
    spans: list[Span] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            start_s, end_s = part.split("-")
            start = dt.time.fromisoformat(start_s.strip())
            end = dt.time.fromisoformat(end_s.strip())
        except ValueError as exc:
            raise ValueError(f"office hours: cannot read {part!r} (use HH:MM-HH:MM)") from exc
        if start.tzinfo or end.tzinfo:  # comparing them with plain times would raise TypeError
            raise ValueError(f"office hours: give {part!r} without a time zone")
        if end <= start or (spans and start < spans[-1][1]):
            raise ValueError(f"office hours: {part!r} is empty or overlaps the span before it")
        spans.append((start, end))
    if not spans:
        raise ValueError("office hours: no span given")
    return tuple(spans)


@lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the State Council has not announced yet
        return day.weekday() < 5


def _seconds(spans: Sequence[Span]) -> int:
    return sum(
        (dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)).seconds
        for a, b in spans
    )


@dataclass(frozen=True)
class Calendar:
    """Working days and office hours in one time zone."""

    hours: tuple[Span, ...] = DEFAULT_HOURS
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    extra_holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()

    def workday(self, day: dt.date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        return is_workday(day)

    def _local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.tz) if moment.tzinfo else moment.replace(tzinfo=self.tz)

    def _spans_on(self, day: dt.date) -> Iterable[tuple[dt.datetime, dt.datetime]]:
        if not self.workday(day):
            return ()
        return [
            (
                dt.datetime.combine(day, a, tzinfo=self.tz),
                dt.datetime.combine(day, b, tzinfo=self.tz),
            )
            for a, b in self.hours
        ]

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment `hours` office hours after `start` (counting only office time)."""
        if hours < 0:
            raise ValueError("cannot add a negative number of office hours")
        remaining = dt.timedelta(hours=hours)
        moment = self._local(start)
        day = moment.date()
        for _ in range(3660):  # ten years of days: far beyond any deadline
            for a, b in self._spans_on(day):
                if moment >= b:
                    continue
                begin = max(moment, a)
                if begin + remaining <= b:
                    return begin + remaining
                remaining -= b - begin
            day += dt.timedelta(days=1)
            moment = dt.datetime.combine(day, dt.time.min, tzinfo=self.tz)
        raise ValueError("deadline is more than ten years away")

    def add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The end of office hours on the `days`-th working day after the day of `start`.

        The day something arrives does not count (当日不计), as in the administrative rules
        for time limits counted in working days.
        """
        moment = self._local(start)
        day, left = moment.date(), days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.workday(day):
                left -= 1
        if days == 0 and not self.workday(day):
            while not self.workday(day):
                day += dt.timedelta(days=1)
        return dt.datetime.combine(day, self.hours[-1][1], tzinfo=self.tz)

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> int:
        """Office seconds between two moments (0 when end is not after start)."""
        start, end = self._local(start), self._local(end)
        if end <= start:
            return 0
        # Summed as timedeltas: adding floats drifts below a whole second (71999 for 72000).
        total = dt.timedelta()
        day = start.date()
        while day <= end.date():
            for a, b in self._spans_on(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return int(total.total_seconds())

    @property
    def seconds_per_day(self) -> int:
        return _seconds(self.hours)
