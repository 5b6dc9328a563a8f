"""Reads for Open311: the public services, the public requests, the client behind a key."""

from __future__ import annotations

import hashlib
import hmac

from django.db.models import Q, QuerySet

from shequ.areas.models import Area
from shequ.cases.models import Case, CaseEvent, Category, Open311Client
from shequ.cases.open311.params import MAX_RESULTS, RequestFilters
from shequ.cases.selectors import leaf_categories
from shequ.cases.states import FINISHED, Status

# Closed for the public once the unit has answered (see the package docstring).
CLOSED = frozenset(FINISHED | {Status.RESOLVED, Status.VERIFIED, Status.RATED})


def public_status(status: str) -> str:
    return "closed" if status in CLOSED else "open"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def client_for_key(key: str) -> Open311Client | None:
    """The active client holding `key`. The row is found by the key's hash, which tells a
    guesser nothing; the final comparison runs in constant time all the same."""
    if not key:
        return None
    digest = key_hash(key)
    client = Open311Client.objects.filter(key_hash=digest, active=True).first()
    if client is None or not hmac.compare_digest(client.key_hash, digest):
        return None
    return client


def services() -> QuerySet[Category]:
    """Active leaf categories offered to the public, under an active parent if any."""
    return leaf_categories().filter(Q(parent__isnull=True) | Q(parent__active=True), public=True)


def service(code: str) -> Category | None:
    return services().filter(code=code).first()


def _public_cases() -> QuerySet[Case]:
    return Case.objects.filter(category__public=True).select_related(
        "category__parent", "area", "lead_unit"
    )


def request_list(filters: RequestFilters) -> list[Case]:
    cases = _public_cases()
    if filters.ids is not None:
        cases = cases.filter(code__in=filters.ids)
    else:
        if filters.codes:
            cases = cases.filter(category__code__in=filters.codes)
        if filters.start is not None:
            cases = cases.filter(created_at__gte=filters.start)
        if filters.end is not None:
            cases = cases.filter(created_at__lte=filters.end)
        if len(filters.statuses) == 1:
            closed = Q(status__in=list(CLOSED))
            cases = cases.filter(closed if filters.statuses == ["closed"] else ~closed)
    return list(cases.order_by("-created_at", "-id")[:MAX_RESULTS])


def request_by_code(code: str) -> Case | None:
    return _public_cases().filter(code=code).first()


def area_names(cases: list[Case]) -> dict[str, str]:
    """Names of the areas the cases lie in and of every area above them, by path."""
    paths = {p for case in cases for p in case.area.ancestor_paths}
    return dict(Area.objects.filter(path__in=paths).values_list("path", "name"))


def reject_reasons(cases: list[Case]) -> dict[int, str]:
    """The reason each not-accepted case was given (the latest, if it was given twice)."""
    ids = [case.pk for case in cases if case.status == Status.REJECTED]
    if not ids:
        return {}
    events = CaseEvent.objects.filter(case_id__in=ids, kind="reject").order_by("at", "id")
    return {case_id: note for case_id, note in events.values_list("case_id", "note")}


def merge_targets(cases: list[Case]) -> dict[int, str]:
    """The case number each merged case went into, by the target's id."""
    ids = {case.merged_into_id for case in cases if case.merged_into_id}
    if not ids:
        return {}
    return dict(Case.objects.filter(pk__in=ids).values_list("pk", "code"))
