"""The data of each Open311 answer, the same for JSON and XML (field names of GeoReport v2).

What a request reveals is decided here; the package docstring says what and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.cases.models import Case, Category, SlaUnit
from shequ.cases.open311 import selectors
from shequ.cases.states import Source, Status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this endpoint last changed in a way clients should notice (discovery's `changeset`).
CHANGESET = "2026-11-22T00:00:00+08:00"
# Points of cases not reported through Open311 are published to 0.001° (about 100 m).
ROUNDING = 3


def stamp(value: dt.datetime | None) -> str | None:
    """W3C datetime with the zone offset, as the specification requires."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _duration(n: int, unit: str) -> str:
    if unit == SlaUnit.DAYS:
        return _("%(n)s working days") % {"n": n}
    return _("%(n)s working hours") % {"n": n}


def service_notice(category: Category) -> str:
    return _("Accepted or declined within %(accept)s; handled within %(handle)s of dispatch.") % {
        "accept": _duration(category.accept_sla, category.sla_unit),
        "handle": _duration(category.handle_sla, category.sla_unit),
    }


def discovery(*, url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": _("The platform administrators of the district"),
        "key_service": _(
            "Ask the platform administrators for a key (they create it with "
            "“shequ open311-client NAME”)."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


def service_row(category: Category) -> dict[str, Any]:
    parent = category.parent
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": str(category),
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(n for n in (parent.name if parent else "", category.name) if n),
        "group": parent.name if parent else None,
    }


def definition(category: Category) -> dict[str, Any]:
    return {"service_code": category.code, "attributes": []}


def _status_notes(case: Case, reasons: dict[int, str], targets: dict[int, str]) -> str:
    if case.status == Status.REJECTED:
        return reasons.get(case.pk) or str(Status(case.status).label)
    if case.status == Status.MERGED and case.merged_into_id in targets:
        return _("Merged into case %(code)s.") % {"code": targets[case.merged_into_id]}
    if selectors.public_status(case.status) == "closed" and case.answer:
        return case.answer
    return str(Status(case.status).label)


def request_rows(cases: list[Case]) -> list[dict[str, Any]]:
    """One row per case; three queries in all, however many cases."""
    names = selectors.area_names(cases)
    reasons = selectors.reject_reasons(cases)
    targets = selectors.merge_targets(cases)
    rows = []
    for case in cases:
        status = selectors.public_status(case.status)
        published = case.source == Source.OPEN311
        if published:
            address = case.address or None
            lat, lng = case.lat, case.lng
        else:
            address = " ".join(names[p] for p in case.area.ancestor_paths if p in names)
            lat = round(case.lat, ROUNDING) if case.lat is not None else None
            lng = round(case.lng, ROUNDING) if case.lng is not None else None
        closed_at = case.closed_at or case.resolved_at
        rows.append(
            {
                "service_request_id": case.code,
                "status": status,
                "status_notes": _status_notes(case, reasons, targets),
                "service_name": case.category.name,
                "service_code": case.category.code,
                "description": case.description if published else None,
                "agency_responsible": case.lead_unit.name if case.lead_unit else None,
                "service_notice": service_notice(case.category),
                "requested_datetime": stamp(case.created_at),
                "updated_datetime": stamp(
                    closed_at if status == "closed" and closed_at else case.updated_at
                ),
                "expected_datetime": stamp(case.due_at) if status == "open" else None,
                "address": address,
                "address_id": None,
                "zipcode": None,
                "lat": lat,
                "long": lng,
                "media_url": None,
            }
        )
    return rows


def created_row(case: Case) -> dict[str, Any]:
    """No `token` (the case exists at once) and no `account_id` (clients hold no accounts)."""
    return {
        "service_request_id": case.code,
        "service_notice": service_notice(case.category),
    }
