"""Reads of the area tree, always scoped to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import Substr

from shequ.accounts import scoping
from shequ.accounts.models import Membership
from shequ.accounts.roles import Role
from shequ.areas.models import Area, Level


def area_list(*, visible_to: Any) -> QuerySet[Area]:
    return Area.objects.visible_to(visible_to).select_related("parent").order_by("path")


def roots_for(user: Any) -> list[Area]:
    """The top nodes a user sees: their membership areas, or the districts when unrestricted."""
    paths = scoping.visible_paths(user, perm="areas.view")
    if paths is None:
        return list(Area.objects.filter(parent__isnull=True).order_by("sort_order", "code"))
    return list(Area.objects.filter(path__in=paths).order_by("path"))


def ancestors(area: Area) -> list[Area]:
    """From the root down to the parent, in one query."""
    paths = area.ancestor_paths[:-1]
    return list(Area.objects.filter(path__in=paths).order_by("depth")) if paths else []


@dataclass
class Counts:
    """How many nodes of each level, and grid workers, lie in a subtree."""

    by_level: dict[str, int] = field(default_factory=dict)
    grid_workers: int = 0
    staffed_grids: int = 0

    def level(self, level: str) -> int:
        return self.by_level.get(level, 0)

    # Attributes (not item access) so templates can read `counts.grid` unambiguously.
    street = property(lambda self: self.level(Level.STREET))
    community = property(lambda self: self.level(Level.COMMUNITY))
    grid = property(lambda self: self.level(Level.GRID))
    estate = property(lambda self: self.level(Level.ESTATE))
    building = property(lambda self: self.level(Level.BUILDING))

    @property
    def grid_coverage(self) -> int:
        """Per cent of grids with at least one grid worker (一格一员)."""
        grids = self.by_level.get(Level.GRID, 0)
        return round(100 * self.staffed_grids / grids) if grids else 0


def _counts_by_prefix(
    paths: list[str], prefix_len: int, *, within: str | None = None
) -> dict[str, Counts]:
    """Counts for sibling subtrees (same path length) in two grouped queries.

    `within`, the siblings' common parent path, turns the OR of many ranges into one range.
    """
    result: dict[str, Counts] = defaultdict(Counts)
    if not paths:
        return result
    cover = scoping.subtree_q(within) if within else scoping.scope_q_for_paths(paths)
    rows = (
        Area.objects.filter(cover)
        .annotate(prefix=Substr("path", 1, prefix_len))
        .values("prefix", "level")
        .annotate(n=Count("id"))
    )
    for row in rows:
        result[row["prefix"]].by_level[row["level"]] = row["n"]
    member_cover = (
        scoping.subtree_q(within, "area__path")
        if within
        else scoping.scope_q_for_paths(paths, "area__path")
    )
    workers = (
        Membership.objects.filter(member_cover)
        .filter(role=Role.GRID_WORKER, user__is_active=True)
        .annotate(prefix=Substr("area__path", 1, prefix_len))
        .values("prefix")
        .annotate(n=Count("user", distinct=True), grids=Count("area", distinct=True))
    )
    for row in workers:
        result[row["prefix"]].grid_workers = row["n"]
        result[row["prefix"]].staffed_grids = row["grids"]
    return result


def subtree_counts(area: Area) -> Counts:
    return _counts_by_prefix([area.path], len(area.path)).get(area.path, Counts())


def counts_for(areas: list[Area]) -> Counts:
    """Summed counts over several areas the user holds (subtrees never overlap once collapsed)."""
    total = Counts()
    if not areas:
        return total
    for area in areas:
        c = subtree_counts(area)
        for level, n in c.by_level.items():
            total.by_level[level] = total.by_level.get(level, 0) + n
        total.grid_workers += c.grid_workers
        total.staffed_grids += c.staffed_grids
    return total


@dataclass
class ChildRow:
    area: Area
    counts: Counts


def children_with_counts(area: Area) -> list[ChildRow]:
    """The direct children of `area`, each with the counts of its own subtree."""
    children = list(area.children.order_by("sort_order", "code"))
    if not children:
        return []
    counts = _counts_by_prefix([c.path for c in children], len(children[0].path), within=area.path)
    return [ChildRow(child, counts.get(child.path, Counts())) for child in children]


def grid_workers_in(area: Area) -> list[Membership]:
    return list(
        Membership.objects.filter(scoping.subtree_q(area.path, "area__path"))
        .filter(role=Role.GRID_WORKER, user__is_active=True)
        .select_related("user", "area")
        .order_by("area__path", "user__username")
    )


def grids_geojson(area: Area) -> dict[str, Any]:
    """The grids (or, at grid level, the estates) below `area` as a GeoJSON FeatureCollection."""
    target = Level.ESTATE if area.level in (Level.GRID, Level.ESTATE) else Level.GRID
    nodes = Area.objects.subtree_of(area).filter(level=target, geometry__isnull=False)
    if area.level == Level.GRID:
        nodes = Area.objects.filter(pk=area.pk, geometry__isnull=False) | nodes
    workers: dict[int, list[str]] = defaultdict(list)
    for m in grid_workers_in(area):
        workers[m.area_id].append(m.user.display_name)
    features = [
        {
            "type": "Feature",
            "geometry": node.geometry,
            "properties": {
                "code": node.code,
                "name": node.name,
                "level": node.level,
                "workers": workers.get(node.pk, []),
            },
        }
        for node in nodes.order_by("path")
    ]
    return {"type": "FeatureCollection", "features": features}
