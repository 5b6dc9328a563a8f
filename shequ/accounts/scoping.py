"""The one mechanism behind `visible_to(user)` and `access_*`: area subtrees by materialised path.

A user sees the subtrees of the areas they hold a role in. Area paths are fixed-width digit
strings, so a subtree is one indexed range ``path >= P AND path < P+1`` on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q

from shequ.accounts.roles import PERMISSIONS, Role

if TYPE_CHECKING:
    from shequ.accounts.models import Membership

_CACHE_ATTR = "_shequ_memberships"


def subtree_bounds(path: str) -> tuple[str, str]:
    """Lower (inclusive) and upper (exclusive) bounds of the paths in the subtree of `path`."""
    return path, str(int(path) + 1).zfill(len(path))


def subtree_q(path: str, field: str = "path") -> Q:
    low, high = subtree_bounds(path)
    return Q(**{f"{field}__gte": low, f"{field}__lt": high})


def collapse(paths: Iterable[str]) -> list[str]:
    """Drop paths inside another path of the set (a community membership covers its grids)."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return kept


def memberships(user: Any) -> list[Membership]:
    """The user's memberships with their areas, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(user.memberships.select_related("area").order_by("area__path", "role"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def roles_of(user: Any) -> set[Role]:
    return {Role(m.role) for m in memberships(user)}


def is_unrestricted(user: Any) -> bool:
    """Only superusers see every district; a system administrator's role is scoped too."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser)


def has_perm(user: Any, perm: str) -> bool:
    """Whether any of the user's roles grants `perm` (somewhere in their areas)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(roles_of(user) & PERMISSIONS.get(perm, frozenset()))


def visible_paths(user: Any, *, perm: str | None = None) -> list[str] | None:
    """Area paths whose subtrees the user may see (for `perm` if given); None means everything."""
    if is_unrestricted(user):
        return None
    allowed = PERMISSIONS.get(perm, frozenset(Role)) if perm else frozenset(Role)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return collapse(m.area.path for m in memberships(user) if m.role in allowed)


def scope_q(user: Any, field: str, *, perm: str | None = None) -> Q:
    """A filter for rows whose area (reached through `field`, "" for Area itself) is visible."""
    paths = visible_paths(user, perm=perm)
    if paths is None:
        return Q()
    return scope_q_for_paths(paths, f"{field}__path" if field else "path")


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows where its rows' area is (`scope_field`) and how to scope itself."""

    scope_field: str = "area"
    scope_perm: str | None = None

    def visible_to(self, user: Any) -> Self:
        return self.filter(scope_q(user, self.scope_field, perm=self.scope_perm))


def scope_q_for_paths(paths: Iterable[str], field: str = "path") -> Q:
    """OR of the subtrees of several paths."""
    combined = Q(pk__in=[])
    for path in paths:
        combined |= subtree_q(path, field)
    return combined
