"""Cases as JSON on the hot paths (the list, and the case after a report or a move), built
directly instead of through DRF's serializer machinery, which costs more than the request's
queries. The output is exactly the serializers' (`serializers.CaseSerializer`,
`CaseDetailSerializer`, which stay the documented schema); `tests/test_api_render.py` compares
the two for cases in every state, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone

from shequ.cases import policy
from shequ.cases.api.serializers import mask_name
from shequ.cases.models import Case, CaseEvent, CasePhoto, CaseTask
from shequ.cases.states import Status
from shequ.cases.views import event_label
from shequ.registry import pii


class _Now:
    """What every row shares, looked up once a request instead of once a value: the time
    zone times are shown in, and the status labels in the active language."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.labels = {value: str(label) for value, label in Status.choices}

    def when(self, value: Any) -> Any:
        """As DRF's DateTimeField shows it: ISO 8601 in the current time zone, `Z` for UTC."""
        if not value:
            return None
        text = value.astimezone(self.zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


def _choice(value: Any) -> Any:
    return value if value in ("", None) else str(value)


def _code(obj: Any) -> Any:
    return None if obj is None else obj.code


def _url(request: Any, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def case_rows(cases: Iterable[Case]) -> list[dict[str, Any]]:
    """Cases as `CaseSerializer(many=True)` shows them (the list)."""
    now = _Now()
    return [case_row(case, now) for case in cases]


def case_row(case: Case, now: _Now | None = None) -> dict[str, Any]:
    """One case as `CaseSerializer` shows it (a row of the list)."""
    now = now or _Now()
    when = now.when
    return {
        "id": case.pk,
        "code": case.code,
        "category": case.category.code,
        "category_name": case.category.name,
        "status": _choice(case.status),
        "status_label": now.labels.get(case.status) or str(case.get_status_display()),
        "source": _choice(case.source),
        "urgency": _choice(case.urgency),
        "area": case.area.code,
        "area_name": case.area.name,
        "address": case.address,
        "lead_unit": _code(case.lead_unit),
        "stage": _choice(case.stage),
        "light": _choice(case.light),
        "due_at": when(case.due_at),
        "escalation_level": case.level,
        "supervised": bool(case.supervised),
        "created_at": when(case.created_at),
        "updated_at": when(case.updated_at),
        "version": case.version,
    }


def _event(event: CaseEvent, photos_of: dict[int, list[int]], when: Any) -> dict[str, Any]:
    actor: Any = event.actor
    return {
        "id": event.pk,
        "at": when(event.at),
        "kind": event.kind,
        "label": event_label(event.kind),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor": str(actor.display_name) if actor is not None else "",
        "unit": _code(event.unit),
        "note": event.note,
        "data": event.data,
        "photos": photos_of.get(event.pk, []),
    }


def _task(task: CaseTask, when: Any) -> dict[str, Any]:
    return {
        "id": task.pk,
        "unit": task.unit.code,
        "unit_name": task.unit.name,
        "role": _choice(task.role),
        "state": _choice(task.state),
        "answer": task.answer,
        "answered_at": when(task.answered_at),
    }


def _photo(photo: CasePhoto, code: str, request: Any, when: Any) -> dict[str, Any]:
    return {
        "id": photo.pk,
        "kind": _choice(photo.kind),
        "url": _url(request, reverse("cases:photo", args=[code, photo.pk])),
        "width": photo.width,
        "height": photo.height,
        "created_at": when(photo.created_at),
    }


def _number(value: Any) -> Any:
    return None if value is None else int(value)


def _float(value: Any) -> Any:
    return None if value is None else float(value)


def case_detail(
    case: Case,
    *,
    request: Any,
    events: Iterable[CaseEvent],
    tasks: Iterable[CaseTask],
    photos: Iterable[CasePhoto],
) -> dict[str, Any]:
    """One case as `CaseDetailSerializer` shows it, from the case (with its category, area,
    district, lead unit, reporter and merge target loaded) and its events (with actor and
    unit; only those the caller may see), tasks (with unit) and photos."""
    user = getattr(request, "user", None)
    now = _Now()
    when = now.when
    photos = list(photos)
    photos_of: dict[int, list[int]] = {}
    for photo in photos:
        if photo.event_id is not None:
            photos_of.setdefault(photo.event_id, []).append(photo.pk)
    reporter: Any = case.reporter
    name = case.reporter_name or (reporter.full_name if reporter is not None else "")
    body = case_row(case, now)
    body.update(
        {
            "description": case.description,
            "lat": _float(case.lat),
            "lng": _float(case.lng),
            "district": _code(case.district),
            "reporter_name": mask_name(name),
            "reporter_phone": pii.mask_phone(case.reporter_phone),
            "reported_by_me": policy.is_reporter(user, case),
            "answer": case.answer,
            "rating": _number(case.rating),
            "rating_comment": case.rating_comment,
            "on_spot": bool(case.on_spot),
            "merged_into": _code(case.merged_into),
            "stage_started_at": when(case.stage_started_at),
            "yellow_at": when(case.yellow_at),
            "next_escalation_at": when(case.next_escalation_at),
            "overdue_ever": bool(case.overdue_ever),
            "extension_requested_days": _number(case.extension_requested_days),
            "accepted_at": when(case.accepted_at),
            "resolved_at": when(case.resolved_at),
            "closed_at": when(case.closed_at),
            "allowed_actions": policy.allowed(user, case),
            "timeline": [_event(e, photos_of, when) for e in events],
            "tasks": [_task(t, when) for t in tasks],
            "photos": [_photo(p, case.code, request, when) for p in photos],
            "track_url": _url(request, reverse("track_case", args=[case.public_token])),
        }
    )
    return body
