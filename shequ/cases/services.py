"""Every change to a case. One function per operation, called by pages, the API and Open311."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.accounts.roles import PERMISSIONS
from shequ.areas.models import Area, Level
from shequ.cases import policy, sla
from shequ.cases.errors import CaseError
from shequ.cases.models import (
    Case,
    CaseCounter,
    CaseEvent,
    CasePhoto,
    CaseTask,
    Category,
    Open311Client,
    RoutingRule,
    Unit,
)
from shequ.cases.photos import CleanPhoto, clean_photos
from shequ.cases.states import MOVES, STAGE_OF, Light, Source, Stage, Status
from shequ.cases.states import Level as EscLevel
from shequ.core import audit
from shequ.core.errors import DomainError
from shequ.inbox.services import notify_after_commit
from shequ.lib import geo

User = get_user_model()

# Areas a case may be filed under: below the street, where someone walks the ground.
CASE_LEVELS = {Level.COMMUNITY, Level.GRID, Level.ESTATE, Level.BUILDING}


def case_number(now: dt.datetime) -> str:
    """SJ20261122-000123: the day's next number, from a locked per-day counter row."""
    day = timezone.localdate(now)
    counter, _created = CaseCounter.objects.select_for_update().get_or_create(day=day)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SJ{day:%Y%m%d}-{counter.last:06d}"


def _district(area: Area) -> Area:
    path = area.ancestor_paths[0]
    return area if area.path == path else Area.objects.get(path=path)


def grid_at(lng: float, lat: float, *, within: Area | None = None) -> Area | None:
    """The grid whose boundary contains the point (the smallest, if boundaries overlap)."""
    grids = Area.objects.filter(level=Level.GRID, geometry__isnull=False)
    if within is not None:
        grids = grids.filter(path__startswith=within.path)
    # Cheap box test on the centroid first: grids are small, a few km at most.
    near = grids.filter(
        centroid_lng__range=(lng - 0.05, lng + 0.05), centroid_lat__range=(lat - 0.05, lat + 0.05)
    )
    for area in near.order_by("-depth", "path"):
        if area.geometry and geo.contains(area.geometry, lng, lat):
            return area
    return None


def _check_location(lat: float | None, lng: float | None) -> None:
    if (lat is None) != (lng is None):
        raise DomainError(
            CaseError.BAD_LOCATION,
            _("Give both latitude and longitude, or neither."),
            {"field": "lat"},
        )
    if lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError(
            CaseError.BAD_LOCATION,
            _("The location is not a valid WGS84 latitude and longitude."),
            {"field": "lat"},
        )


def _place(
    *, actor: Any, area: Area | None, lat: float | None, lng: float | None, trusted: bool
) -> Area:
    """Where the case is filed: the area given, else the grid at the location."""
    _check_location(lat, lng)
    if area is None and lat is not None and lng is not None:
        area = grid_at(lng, lat)
        if area is None:
            raise DomainError(
                CaseError.BAD_LOCATION,
                _("The location is outside every grid this platform serves."),
                {"field": "lat"},
            )
    if area is None:
        raise DomainError(
            CaseError.BAD_AREA, _("Choose the grid or give the location."), {"field": "area"}
        )
    if area.level not in CASE_LEVELS:
        raise DomainError(
            CaseError.BAD_AREA,
            _("Cases are filed under a community, grid, estate or building."),
            {"field": "area"},
        )
    if not trusted and not _may_report_in(actor, area):
        raise DomainError(
            CaseError.BAD_AREA, _("You may not report cases in this area."), {"field": "area"}
        )
    return area


def _may_report_in(actor: Any, area: Area) -> bool:
    """Staff report in their areas; a resident anywhere in the district they live in."""
    if policy.in_scope(actor, "cases.view", area.path):
        return True
    from shequ.accounts.scoping import memberships

    return any(area.path.startswith(m.area.path[:8]) for m in memberships(actor))


def route(category: Category, area: Area) -> RoutingRule | None:
    """The most specific routing rule for the category (or its ancestors, or any) at `area`."""
    categories: list[int | None] = []
    node: Category | None = category
    while node is not None:
        categories.append(node.pk)
        node = node.parent
    rules = list(
        RoutingRule.objects.filter(
            Q(category_id__in=[c for c in categories if c]) | Q(category__isnull=True),
            area__path__in=area.ancestor_paths,
            unit__active=True,
        ).select_related("area", "unit")
    )
    if not rules:
        return None

    def rank(rule: RoutingRule) -> tuple[int, int]:
        specificity = (
            len(categories) - categories.index(rule.category_id) if rule.category_id else 0
        )
        # A rule for the category beats a fallback, however deep the fallback's area.
        return (specificity, len(rule.area.path))

    return max(rules, key=rank)


def _start_stage(case: Case, now: dt.datetime) -> None:
    case.stage = STAGE_OF.get(case.status, Stage.NONE)
    case.stage_started_at = now if case.stage else None
    case.yellow_at, case.due_at = sla.stage_deadlines(case.category, case.stage, now)
    case.light = Light.GREEN
    case.next_escalation_at = None


def _event(
    case: Case,
    *,
    actor: Any,
    kind: str,
    before: str = "",
    note: str = "",
    unit: Unit | None = None,
    public: bool = True,
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        kind=kind,
        from_status=before,
        to_status=case.status,
        unit=unit,
        note=note,
        public=public,
        data=data or {},
    )


def _attach(case: Case, photos: Iterable[CleanPhoto], kind: str, event: CaseEvent | None) -> int:
    n = 0
    for photo in photos:
        CasePhoto.objects.create(
            case=case,
            event=event,
            kind=kind,
            image=photo.content,
            width=photo.width,
            height=photo.height,
        )
        n += 1
    return n


def staff_for(area: Area, perm: str) -> list[Any]:
    """Active users holding `perm` in `area` or one of its ancestors (who is answerable)."""
    roles = PERMISSIONS.get(perm, frozenset())
    return list(
        User.objects.filter(
            is_active=True,
            memberships__role__in=list(roles),
            memberships__area__path__in=area.ancestor_paths,
        ).distinct()
    )


def _case_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.code])


def case_create(
    *,
    actor: Any,
    category: Category,
    description: str,
    source: str,
    area: Area | None = None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    dwelling: Any = None,
    urgency: str = "",
    photos: list[Any] | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    on_spot_answer: str = "",
    open311_client: Open311Client | None = None,
) -> Case:
    """Report a problem. Staff may record a caller's report (desk, hotline); a grid worker may
    resolve it on the spot when the category allows, with an answer and a photo."""
    description = (description or "").strip()
    if not description:
        raise DomainError(
            CaseError.NOTE_REQUIRED, _("Describe the problem."), {"field": "description"}
        )
    if not category.active or category.children.exists():
        raise DomainError(
            CaseError.BAD_CATEGORY,
            _("Choose a specific, active category."),
            {"field": "category"},
        )
    if dwelling is not None and area is None:
        area = dwelling.area
    cleaned = clean_photos(list(photos or []))
    on_spot = bool(on_spot_answer.strip())
    area = _place(actor=actor, area=area, lat=lat, lng=lng, trusted=open311_client is not None)
    if on_spot and not (category.on_spot and policy.in_scope(actor, "cases.handle", area.path)):
        raise DomainError(
            CaseError.NOT_ON_SPOT,
            _("This category cannot be resolved on the spot, or not by you."),
            {"field": "on_spot_answer"},
        )
    if on_spot and not cleaned:
        raise DomainError(
            CaseError.EVIDENCE_REQUIRED,
            _("Attach a photo of the result to resolve on the spot."),
            {"field": "photos"},
        )
    # Read outside the transaction: every report waits for the day's counter lock (and the
    # audit chain's; on SQLite the database's write lock), so they are held only for writes.
    district = _district(area)
    managers = [] if on_spot else staff_for(area, "cases.manage")
    with transaction.atomic():
        now = timezone.now()
        staff = policy.in_scope(actor, "cases.view", area.path)
        case = Case(
            code=case_number(now),
            category=category,
            area=area,
            district=district,
            description=description[:4000],
            address=address.strip()[:200],
            dwelling=dwelling,
            lat=lat,
            lng=lng,
            source=source,
            urgency=urgency or category.urgency,
            reporter=actor
            if getattr(actor, "is_authenticated", False)
            and not (staff and source in (Source.DESK, Source.HOTLINE))
            else None,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
            reporter_name=reporter_name.strip()[:50],
            reporter_phone=reporter_phone.strip()[:20],
            open311_client=open311_client,
            status=Status.REPORTED,
        )
        _start_stage(case, now)
        case.save()
        event = _event(case, actor=actor, kind="reported", at=now)
        _attach(case, cleaned if not on_spot else [], CasePhoto.Kind.REPORT, event)
        audit.record(
            actor=actor if actor else f"open311:{open311_client}",
            action="case.reported",
            obj=case,
            changes={"category": category.code, "source": source},
        )
        if on_spot:
            case = case_move(
                actor=actor, case=case, move="resolve", answer=on_spot_answer, photos=photos
            )
        else:
            notify_after_commit(
                users=managers,
                kind="case.reported",
                title=_("New case %(code)s: %(category)s")
                % {
                    "code": case.code,
                    "category": category.name,
                },
                url=_case_url(case),
            )
    return case


def _require_note(name: str, note: str) -> None:
    if MOVES[name].needs_note and not note.strip():
        raise DomainError(
            CaseError.NOTE_REQUIRED,
            _("Give a reason or a note for “%(move)s”.") % {"move": MOVES[name].label},
            {"field": "note"},
        )


def case_move(
    *,
    actor: Any,
    case: Case,
    move: str,
    note: str = "",
    unit: Unit | None = None,
    helpers: Iterable[Unit] = (),
    target: Case | None = None,
    rating: int | None = None,
    days: int | None = None,
    answer: str = "",
    photos: list[Any] | None = None,
    expected_version: int | None = None,
    by_link: bool = False,
) -> Case:
    """Make one move of the state machine. The row is locked, so of two identical moves sent at
    once exactly one takes effect and the other finds the case already moved (409)."""
    if move not in MOVES:
        raise DomainError(
            CaseError.INVALID_TRANSITION, _("There is no such action."), {"move": move}
        )
    cleaned = clean_photos(list(photos or []))
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            # Everything the move, its notices and the API's answer read: no query later.
            .select_related(
                "category__parent", "area", "district", "lead_unit", "reporter", "merged_into"
            )
            .get(pk=case.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise DomainError(
                CaseError.STALE,
                _("Someone else changed this case a moment ago; reload it and try again."),
            )
        spec = MOVES[move]
        if locked.status not in spec.sources:
            raise DomainError(
                CaseError.INVALID_TRANSITION,
                _("A case that is “%(status)s” cannot be moved by “%(move)s”.")
                % {"status": Status(locked.status).label, "move": spec.label},
                {"status": locked.status, "move": move},
            )
        # Holding the case's private link stands for being its reporter, for rating only: the
        # link is what a caller who reported by phone, at the desk or to a grid worker gets.
        if by_link and move != "rate":
            raise DomainError(CaseError.NOT_YOURS, _("This action needs you to sign in."))
        if not by_link and not policy.can_move(actor, locked, move):
            raise DomainError(
                CaseError.NOT_YOURS,
                _("This action on this case is not yours to take."),
                {"move": move},
            )
        _require_note(move, note)
        before = locked.status
        now = timezone.now()
        apply = _APPLY[move]
        event_unit, extra = apply(
            locked,
            actor=actor,
            note=note,
            unit=unit,
            helpers=list(helpers),
            target=target,
            rating=rating,
            days=days,
            answer=answer,
            photos=cleaned,
            now=now,
        )
        if spec.target is not None:
            locked.status = spec.target
            if locked.status != before:
                _start_stage(locked, now)
        locked.version += 1
        locked.save()
        event = _event(
            locked,
            actor=actor,
            kind=move,
            before=before,
            note=note.strip(),
            unit=event_unit,
            data=extra,
            at=now,
            public=move not in ("supervise", "escalate"),
        )
        kind = CasePhoto.Kind.EVIDENCE if move == "resolve" else CasePhoto.Kind.REPORT
        _attach(locked, cleaned, kind, event)
        audit.record(
            actor=actor,
            action=f"case.{move}",
            obj=locked,
            changes={"status": [before, locked.status], **extra},
        )
        _notify(locked, move)
    return locked


# Each move's own effect. Returns (the unit the event concerns, details for event and audit).
Effect = tuple[Unit | None, dict[str, Any]]


def _accept(case: Case, *, now: dt.datetime, **_kw: Any) -> Effect:
    case.accepted_at = now
    # Routing runs at once: most cases are dispatched to the unit the rules name.
    rule = route(case.category, case.area)
    return None, {"suggested_unit": rule.unit.code if rule else None}


def _reject(case: Case, **_kw: Any) -> Effect:
    case.closed_at = timezone.now()
    return None, {}


def _merge(case: Case, *, target: Case | None, **_kw: Any) -> Effect:
    if (
        target is None
        or target.pk == case.pk
        or target.status in (Status.MERGED, Status.REJECTED)
        or target.district_id != case.district_id
    ):
        raise DomainError(
            CaseError.BAD_TARGET,
            _("Choose another open case of the same district to merge into."),
            {"field": "target"},
        )
    case.merged_into = target
    case.closed_at = timezone.now()
    return None, {"merged_into": target.code}


def _dispatch(case: Case, *, unit: Unit | None, helpers: list[Unit], **_kw: Any) -> Effect:
    if unit is None:
        rule = route(case.category, case.area)
        if rule is None:
            raise DomainError(
                CaseError.NO_ROUTE,
                _("No routing rule names a unit for this case; choose the unit."),
                {"field": "unit"},
            )
        unit = rule.unit
        helpers = helpers or list(rule.helpers.filter(active=True))
    if not unit.active or not case.area.path.startswith(unit.area.path[:8]):
        raise DomainError(
            CaseError.NO_UNIT, _("Choose an active unit of this district."), {"field": "unit"}
        )
    case.lead_unit = unit
    case.tasks.filter(state=CaseTask.State.OPEN).update(state=CaseTask.State.RETURNED)
    CaseTask.objects.create(case=case, unit=unit, role=CaseTask.Role.LEAD)
    for helper in {h.pk: h for h in helpers if h.pk != unit.pk}.values():
        CaseTask.objects.create(case=case, unit=helper, role=CaseTask.Role.HELPER)
    return unit, {"unit": unit.code, "helpers": sorted(h.code for h in helpers)}


def _return(case: Case, **_kw: Any) -> Effect:
    unit = case.lead_unit
    case.tasks.filter(unit=unit, state=CaseTask.State.OPEN).update(state=CaseTask.State.RETURNED)
    case.lead_unit = None
    case.extension_requested_days = None
    return unit, {"returned_by": unit.code if unit else None}


def _start(case: Case, **_kw: Any) -> Effect:
    return case.lead_unit, {}


def _resolve(
    case: Case, *, answer: str, photos: list[CleanPhoto], now: dt.datetime, **_kw: Any
) -> Effect:
    if not answer.strip():
        raise DomainError(
            CaseError.NOTE_REQUIRED, _("Write how the problem was solved."), {"field": "answer"}
        )
    if not photos and not case.photos.filter(kind=CasePhoto.Kind.EVIDENCE).exists():
        raise DomainError(
            CaseError.EVIDENCE_REQUIRED,
            _("Attach a photo of the result as evidence."),
            {"field": "photos"},
        )
    if case.status == Status.REPORTED:
        case.on_spot = True
        case.accepted_at = now
    case.answer = answer.strip()[:4000]
    case.resolved_at = now
    case.extension_requested_days = None
    case.tasks.filter(unit=case.lead_unit, state=CaseTask.State.OPEN).update(
        state=CaseTask.State.DONE, answer=case.answer, answered_at=now
    )
    return case.lead_unit, {}


def _verify(case: Case, **_kw: Any) -> Effect:
    return None, {}


def _redo(case: Case, **_kw: Any) -> Effect:
    case.resolved_at = None
    return case.lead_unit, {}


def _rate(case: Case, *, rating: int | None, note: str, **_kw: Any) -> Effect:
    if rating is None or not 1 <= int(rating) <= 5:
        raise DomainError(CaseError.BAD_RATING, _("Rate from 1 to 5 stars."), {"field": "rating"})
    case.rating, case.rating_comment = int(rating), note.strip()[:1000]
    return None, {"rating": case.rating}


def _close(case: Case, *, now: dt.datetime, **_kw: Any) -> Effect:
    case.closed_at = now
    return None, {}


def _extend_request(case: Case, *, days: int | None, **_kw: Any) -> Effect:
    if days is None or not 1 <= int(days) <= 60:
        raise DomainError(
            CaseError.BAD_DAYS,
            _("Ask for between 1 and 60 more working days."),
            {"field": "days"},
        )
    case.extension_requested_days = int(days)
    return case.lead_unit, {"days": int(days)}


def _extend_approve(case: Case, *, now: dt.datetime, **_kw: Any) -> Effect:
    days = int(case.extension_requested_days or 0)
    base = max(case.due_at or now, now)
    case.due_at = sla.extend(case.category, base, days)
    case.yellow_at = now + (case.due_at - now) * case.category.yellow_percent / 100
    case.light = Light.GREEN
    case.next_escalation_at = None
    case.extension_requested_days = None
    return case.lead_unit, {"days": days, "due_at": case.due_at.isoformat()}


def _shelve(case: Case, **_kw: Any) -> Effect:
    return case.lead_unit, {}


def _reopen(case: Case, **_kw: Any) -> Effect:
    if case.lead_unit is None:
        case.status = Status.ACCEPTED
    case.closed_at = case.resolved_at = None
    case.rating = None
    case.rating_comment = ""
    if case.lead_unit:
        CaseTask.objects.create(case=case, unit=case.lead_unit, role=CaseTask.Role.LEAD)
    return case.lead_unit, {}


def _supervise(case: Case, **_kw: Any) -> Effect:
    case.supervised = True
    return None, {}


def _escalate(case: Case, **_kw: Any) -> Effect:
    if case.level >= EscLevel.DISTRICT:
        raise DomainError(CaseError.TOP_LEVEL, _("The case is already at the district level."))
    case.level += 1
    return None, {"level": case.level}


_APPLY: dict[str, Any] = {
    "accept": _accept,
    "reject": _reject,
    "merge": _merge,
    "dispatch": _dispatch,
    "return": _return,
    "start": _start,
    "resolve": _resolve,
    "verify": _verify,
    "redo": _redo,
    "rate": _rate,
    "close": _close,
    "extend_request": _extend_request,
    "extend_approve": _extend_approve,
    "shelve": _shelve,
    "reopen": _reopen,
    "supervise": _supervise,
    "escalate": _escalate,
}
assert set(_APPLY) == set(MOVES), "every move needs its effect"


def _notify(case: Case, move: str) -> None:
    """Who hears about a move: the next person whose turn it is, and the reporter."""
    title = _("Case %(code)s: %(status)s") % {
        "code": case.code,
        "status": Status(case.status).label,
    }
    url = _case_url(case)
    users: list[Any] = []
    if move in ("dispatch", "redo", "reopen", "extend_approve", "supervise") and case.lead_unit:
        users += list(case.lead_unit.members.filter(is_active=True))
    if move in ("resolve", "return", "extend_request", "escalate"):
        users += staff_for(case.area, "cases.manage" if move != "resolve" else "cases.verify")
    if move in ("accept", "reject", "merge", "resolve", "verify", "close") and case.reporter:
        users.append(case.reporter)
    if users:
        notify_after_commit(users=users, kind=f"case.{move}", title=title, url=url)


def case_rate_by_link(*, token: Any, rating: int | None, note: str = "") -> Case:
    """The reporter rates through the case's private link, without an account."""
    case = Case.objects.filter(public_token=token).first()
    if case is None:
        from shequ.core.errors import NotFound

        raise NotFound()
    return case_move(
        actor="public-link", case=case, move="rate", rating=rating, note=note, by_link=True
    )


@transaction.atomic
def case_task_answer(*, actor: Any, task: CaseTask, answer: str) -> CaseTask:
    """A helping unit answers its share of a case (协同处置)."""
    task = CaseTask.objects.select_for_update().select_related("case", "unit").get(pk=task.pk)
    if task.unit_id not in policy.unit_ids(actor) or task.state != CaseTask.State.OPEN:
        raise DomainError(CaseError.NOT_YOURS, _("This task is not yours to answer."))
    if not answer.strip():
        raise DomainError(CaseError.NOTE_REQUIRED, _("Write your answer."), {"field": "answer"})
    task.state, task.answer, task.answered_at = CaseTask.State.DONE, answer.strip(), timezone.now()
    task.save(update_fields=["state", "answer", "answered_at", "updated_at"])
    _event(task.case, actor=actor, kind="task_answered", unit=task.unit, note=task.answer)
    audit.record(actor=actor, action="case.task_answered", obj=task.case)
    return task
