"""Who may make which move on which case. Pure predicates: pages use them to decide which
buttons to show, services use them to refuse; one answer for both."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from shequ.accounts.scoping import has_perm, visible_paths
from shequ.cases.models import Case
from shequ.cases.states import MOVES, Status, Who


def in_scope(actor: Any, perm: str, path: str) -> bool:
    """Whether `actor` holds `perm` in an area containing `path`."""
    if not has_perm(actor, perm):
        return False
    paths = visible_paths(actor, perm=perm)
    return paths is None or any(path.startswith(p) for p in paths)


def unit_ids(actor: Any) -> set[int]:
    """The handling units the actor belongs to (cached on the user for the request)."""
    cached = getattr(actor, "_shequ_case_units", None)
    if cached is None:
        if not getattr(actor, "is_authenticated", False):
            cached = set()
        else:
            cached = set(actor.case_units.filter(active=True).values_list("pk", flat=True))
        actor._shequ_case_units = cached
    return set(cached)


def is_handler(actor: Any, case: Case) -> bool:
    return case.lead_unit_id is not None and case.lead_unit_id in unit_ids(actor)


def is_reporter(actor: Any, case: Case) -> bool:
    return bool(case.reporter_id) and case.reporter_id == getattr(actor, "pk", None)


def can_see(actor: Any, case: Case) -> bool:
    return is_reporter(actor, case) or in_scope(actor, "cases.view", case.area.path)


def _who_ok(actor: Any, case: Case, who: Who, move: str) -> bool:
    path = case.area.path
    if who is Who.MANAGER:
        return in_scope(actor, "cases.manage", path)
    if who is Who.HANDLER:
        if move == "resolve" and case.status == Status.REPORTED:
            # 就地办结: the grid worker who found it fixes it there and then.
            return case.category.on_spot and in_scope(actor, "cases.handle", path)
        return is_handler(actor, case) and has_perm(actor, "cases.handle")
    if who is Who.VERIFIER:
        return in_scope(actor, "cases.verify", path)
    if who is Who.REPORTER:
        if is_reporter(actor, case):
            return True
        # A caller at the desk or on the hotline has no account: staff record their answer.
        return case.reporter_id is None and in_scope(actor, "cases.manage", path)
    return in_scope(actor, "cases.supervise", path)


def can_move(actor: Any, case: Case, name: str) -> bool:
    """Whether `actor` may make move `name` on `case` now (status and person both right)."""
    move = MOVES.get(name)
    if move is None or case.status not in move.sources:
        return False
    if name == "extend_approve" and not case.extension_requested_days:
        return False
    if name == "extend_request" and case.extension_requested_days:
        return False
    if name == "escalate" and case.level >= 3:
        return False
    if name == "reopen" and not reopen_window_open(case):
        return False
    return _who_ok(actor, case, move.who, name)


def reopen_window_open(case: Case) -> bool:
    finished = case.closed_at or case.resolved_at
    if finished is None:
        return False
    return (timezone.now() - finished).days < settings.CASE_REOPEN_DAYS


def allowed(actor: Any, case: Case) -> list[str]:
    """The moves `actor` may make on `case` now, in the order of the state machine."""
    return [name for name in MOVES if can_move(actor, case, name)]
