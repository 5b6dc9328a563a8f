"""Parse Open311 parameters: the filters of GET requests and the fields of POST requests.

Every refusal is an `Open311Error` carrying the HTTP status the specification gives it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

# "Default query limit is a span of 90 days or first 1000 requests returned, whichever is
# smallest" (GeoReport v2, GET service requests).
MAX_DAYS = 90
MAX_RESULTS = 1000
STATUSES = ("open", "closed")


class Open311Error(Exception):
    """A request refused with an HTTP status and a description for the client."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(frozen=True)
class RequestFilters:
    ids: list[str] | None  # service_request_id overrides every other filter
    codes: list[str]
    start: dt.datetime | None
    end: dt.datetime | None
    statuses: list[str]


@dataclass(frozen=True)
class NewRequest:
    service_code: str
    lat: float | None
    lng: float | None
    address_string: str
    address_id: str
    description: str
    name: str
    phone: str
    media_url: str


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _when(value: str, name: str) -> dt.datetime:
    """A W3C datetime (`2026-11-22T08:15:30+08:00`, `…Z`) or a date; local time if no zone."""
    text = value.strip()
    try:
        when = parse_datetime(text)
        if when is None:
            day = parse_date(text)
            if day is not None:
                when = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        when = None
    # Far-off years would overflow the 90-day arithmetic or the conversion to UTC.
    if when is None or not 1900 <= when.year <= 2999:
        raise Open311Error(
            400,
            _("%(name)s is not a W3C date and time such as 2026-11-22T08:15:30+08:00.")
            % {"name": name},
        )
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


def parse_filters(query: Mapping[str, str], *, now: dt.datetime) -> RequestFilters:
    """GET requests: without dates, the last 90 days; a range may not span more than 90."""
    ids = _list(query.get("service_request_id", ""))
    if ids:
        return RequestFilters(ids=ids[:MAX_RESULTS], codes=[], start=None, end=None, statuses=[])
    statuses = [s.lower() for s in _list(query.get("status", ""))]
    if any(s not in STATUSES for s in statuses):
        raise Open311Error(400, _("status is open or closed, or both separated by a comma."))
    start = _when(query["start_date"], "start_date") if query.get("start_date") else None
    end = _when(query["end_date"], "end_date") if query.get("end_date") else None
    span = dt.timedelta(days=MAX_DAYS)
    if start is None and end is None:
        start = now - span
    elif start is None and end is not None:
        start = end - span
    elif start is not None and end is None:
        end = start + span
    elif start is not None and end is not None:
        if end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        if end - start > span:
            raise Open311Error(
                400,
                _("start_date and end_date may not span more than %(days)s days.")
                % {"days": MAX_DAYS},
            )
    return RequestFilters(
        ids=None,
        codes=_list(query.get("service_code", "")),
        start=start,
        end=end,
        statuses=statuses,
    )


def _coordinate(value: str, name: str, limit: float) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise Open311Error(
            400, _("%(name)s is not a WGS84 coordinate in degrees.") % {"name": name}
        )
    return number


def _full_name(first: str, last: str) -> str:
    """Chinese names are written family name first and without a space."""
    if (first + last).isascii():
        return " ".join(part for part in (first, last) if part)
    return f"{last}{first}"


def parse_new_request(data: Mapping[str, str]) -> NewRequest:
    """POST requests: a service code, and a location as lat/long, address_string or
    address_id. The e-mail address is not kept: we neither write to it nor show it."""
    service_code = data.get("service_code", "").strip()
    if not service_code:
        raise Open311Error(400, _("service_code was not provided."))
    lat_text, lng_text = data.get("lat", "").strip(), data.get("long", "").strip()
    if bool(lat_text) != bool(lng_text):
        raise Open311Error(400, _("Give both lat and long, or neither."))
    lat = _coordinate(lat_text, "lat", 90) if lat_text else None
    lng = _coordinate(lng_text, "long", 180) if lng_text else None
    address_string = data.get("address_string", "").strip()[:200]
    address_id = data.get("address_id", "").strip()
    if lat is None and not address_string and not address_id:
        raise Open311Error(
            400, _("A location is required: lat and long, address_string or address_id.")
        )
    media_url = data.get("media_url", "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise Open311Error(400, _("media_url is not an http or https URL.")) from None
    return NewRequest(
        service_code=service_code,
        lat=lat,
        lng=lng,
        address_string=address_string,
        address_id=address_id,
        description=data.get("description", "").strip(),
        name=_full_name(data.get("first_name", "").strip(), data.get("last_name", "").strip()),
        phone=data.get("phone", "").strip(),
        media_url=media_url[:2000],
    )
