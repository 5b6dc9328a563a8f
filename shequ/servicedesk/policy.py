"""Who may apply for what, through which channel, and who may make which move on an
application. Pure predicates: pages use them to decide which buttons to show, services use
them to refuse; one answer for both."""

from __future__ import annotations

from typing import Any

from shequ.accounts.roles import PERMISSIONS, Role
from shequ.accounts.scoping import has_perm, memberships, visible_paths
from shequ.servicedesk.models import Application, ServiceItem
from shequ.servicedesk.states import FINISHED, MOVES, Channel, Who

_LINK_ATTR = "_shequ_linked_person"


def in_scope(actor: Any, perm: str, path: str) -> bool:
    """Whether `actor` holds `perm` in an area containing `path`."""
    if not has_perm(actor, perm):
        return False
    paths = visible_paths(actor, perm=perm)
    return paths is None or any(path.startswith(p) for p in paths)


def staff_in(actor: Any, perm: str, path: str) -> bool:
    """Whether `actor` holds `perm` through a staff role (not as a resident) over `path`.

    `desk.apply` is also a resident's permission (for themselves); applying for someone else
    at the desk needs it as staff.
    """
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    roles = PERMISSIONS.get(perm, frozenset()) - {Role.RESIDENT}
    return any(m.role in roles and path.startswith(m.area.path) for m in memberships(actor))


def linked_person_id(actor: Any) -> int | None:
    """The registered person the actor's account is (ResidentLink), cached for the request."""
    if not getattr(actor, "is_authenticated", False):
        return None
    if not hasattr(actor, _LINK_ATTR):
        from shequ.servicedesk.models import ResidentLink

        link = ResidentLink.objects.filter(user=actor).values_list("person_id", flat=True).first()
        setattr(actor, _LINK_ATTR, link)
    value = getattr(actor, _LINK_ATTR)
    return int(value) if value is not None else None


def forget_link(actor: Any) -> None:
    if hasattr(actor, _LINK_ATTR):
        delattr(actor, _LINK_ATTR)


def is_applicant(actor: Any, application: Application) -> bool:
    """The applicant's own account, or an account linked to the applicant's person."""
    if not getattr(actor, "is_authenticated", False):
        return False
    if application.applicant_user_id is not None and application.applicant_user_id == actor.pk:
        return True
    return linked_person_id(actor) == application.person_id


def can_see(actor: Any, application: Application) -> bool:
    return is_applicant(actor, application) or in_scope(actor, "desk.view", application.area.path)


def channels_open(actor: Any, item: ServiceItem, person: Any) -> list[str]:
    """The channels through which `actor` may apply for `item` for `person` now."""
    if not item.active:
        return []
    out: list[str] = []
    if item.online and linked_person_id(actor) == person.pk:
        out.append(Channel.ONLINE)
    if staff_in(actor, "desk.apply", person.area.path):
        if item.desk:
            out.append(Channel.DESK)
        if item.proxy_allowed:
            out.append(Channel.PROXY)
    return out


def can_apply(actor: Any, item: ServiceItem, person: Any, channel: str) -> bool:
    return channel in channels_open(actor, item, person)


def can_mark_seen(actor: Any, path: str) -> bool:
    """Only desk staff confirm they have seen an original document."""
    return staff_in(actor, "desk.apply", path) or in_scope(actor, "desk.handle", path)


def _who_ok(actor: Any, application: Application, who: Who, name: str) -> bool:
    path = application.area.path
    if who is Who.STAFF:
        return in_scope(actor, "desk.handle", path)
    if is_applicant(actor, application):
        return True
    if name == "supplement":
        # The resident brings the missing papers to the desk; the desk records them.
        return can_mark_seen(actor, path)
    # A resident without an account gives their rating at the desk, which records it.
    return application.applicant_user_id is None and in_scope(actor, "desk.handle", path)


def can_move(actor: Any, application: Application, name: str) -> bool:
    """Whether `actor` may make move `name` on `application` now (status and person right)."""
    move = MOVES.get(name)
    if move is None or application.status not in move.sources:
        return False
    return _who_ok(actor, application, move.who, name)


def allowed(actor: Any, application: Application) -> list[str]:
    """The moves `actor` may make on `application` now, in the order of the state machine."""
    return [name for name in MOVES if can_move(actor, application, name)]


def is_open(application: Application) -> bool:
    return application.status not in FINISHED
