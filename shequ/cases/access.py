"""Fetch a case for a user: 404 for missing and for not-visible alike."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q

from shequ.accounts.scoping import scope_q
from shequ.cases.models import Case, CaseTask, Category, Unit
from shequ.core.errors import NotFound

CODE_RE = re.compile(r"^SJ\d{8}-\d{6}$")


def visible_cases_q(actor: Any) -> Q:
    """Staff see the cases of their areas; anyone sees the cases they reported."""
    q = scope_q(actor, "area", perm="cases.view")
    if getattr(actor, "is_authenticated", False):
        q |= Q(reporter=actor)
    return q


def visible_cases(actor: Any) -> Any:
    if not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    return Case.objects.filter(visible_cases_q(actor))


def access_case(actor: Any, ref: Any, *, to_move: bool = False) -> Case:
    """By case number (SJ20261122-000001) or by id. `to_move`: only what a move needs before
    the service locks and reads the case itself (its id, number and district)."""
    text = str(ref)
    if CODE_RE.match(text):
        lookup = Q(code=text)
    elif text.isascii() and text.isdigit() and len(text) <= 18:
        lookup = Q(pk=int(text))
    else:
        raise NotFound()
    cases = visible_cases(actor).filter(lookup)
    if to_move:
        cases = cases.select_related("district").only("code", "district", "district__path")
    else:
        cases = cases.select_related(
            "category__parent", "area", "district", "lead_unit", "reporter", "merged_into"
        )
    case = cases.first()
    if case is None:
        raise NotFound()
    return case


def access_task(actor: Any, case: Case, task_id: Any) -> CaseTask:
    text = str(task_id)
    if not text.isdigit():
        raise NotFound()
    task = case.tasks.select_related("unit").filter(pk=int(text)).first()
    if task is None:
        raise NotFound()
    return task


def access_unit(actor: Any, ref: Any, *, district_path: str) -> Unit:
    """A unit a case of this district may go to (units are not secret inside a district)."""
    text = str(ref)
    unit = (
        Unit.objects.filter(Q(code=text) | Q(pk=int(text)) if text.isdigit() else Q(code=text))
        .filter(active=True, area__path__startswith=district_path)
        .select_related("area")
        .first()
    )
    if unit is None:
        raise NotFound()
    return unit


def access_category(ref: Any) -> Category:
    text = str(ref)
    category = Category.objects.filter(code=text, active=True).first()
    if category is None and text.isdigit():
        category = Category.objects.filter(pk=int(text), active=True).first()
    if category is None:
        raise NotFound()
    return category
