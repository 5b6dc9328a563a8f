"""Deadlines per stage from the category's SLA, on the working calendar."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.conf import settings

from shequ.cases.models import Category, SlaUnit
from shequ.cases.states import Stage
from shequ.lib.workcal import Calendar, parse_hours


@lru_cache(maxsize=4)
def _calendar(hours: str) -> Calendar:
    return Calendar(hours=parse_hours(hours))


def calendar() -> Calendar:
    return _calendar(settings.OFFICE_HOURS)


def add_time(category: Category, start: dt.datetime, amount: float) -> dt.datetime:
    cal = calendar()
    if category.sla_unit == SlaUnit.DAYS:
        return cal.add_days(start, int(amount))
    return cal.add_hours(start, amount)


def stage_deadlines(
    category: Category, stage: str, start: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(warning from, due) of `stage` started at `start`; (None, None) for no stage."""
    if stage == Stage.NONE:
        return None, None
    cal = calendar()
    due = add_time(category, start, category.sla_for(stage))
    # The warning comes when the given share of the stage's working time has been used.
    working = cal.working_seconds(start, due)
    yellow = cal.add_hours(start, working * category.yellow_percent / 100 / 3600)
    return min(yellow, due), due


def escalation_time(category: Category, after: dt.datetime) -> dt.datetime:
    """When an overdue case goes up one more level if nobody has moved it."""
    return calendar().add_hours(after, category.escalate_after)


def extend(category: Category, due: dt.datetime, days: int) -> dt.datetime:
    return calendar().add_days(due, days)
