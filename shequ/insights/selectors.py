"""The numbers on each role's home page, straight from the database and scoped to the user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from shequ.accounts import scoping
from shequ.accounts.roles import Role
from shequ.areas import selectors as areas
from shequ.areas.models import Level
from shequ.core.selectors import audit_entries

# Which dashboard a user with several roles sees first: the widest responsibility wins.
PRIORITY = [
    Role.SYSADMIN,
    Role.DISTRICT_ADMIN,
    Role.STREET,
    Role.COMMUNITY_HEAD,
    Role.COMMUNITY_WORKER,
    Role.DEPARTMENT,
    Role.AUDITOR,
    Role.GRID_WORKER,
    Role.RESIDENT,
]


def primary_role(user: Any) -> Role | None:
    if user.is_superuser:
        return Role.SYSADMIN
    roles = scoping.roles_of(user)
    return next((role for role in PRIORITY if role in roles), None)


def _chart(rows: list[areas.ChildRow]) -> dict[str, Any]:
    """Grids against staffed grids per child area; below a community, estates per grid."""
    per_grid = all(row.area.level == Level.GRID for row in rows)
    parent_names = {row.area.pk: row.area.parent.name if row.area.parent else "" for row in rows}
    return {
        "per_grid": per_grid,
        # "阳光社区第3网格" reads as "第3网格" under its community's heading.
        "labels": [
            row.area.name.removeprefix(parent_names[row.area.pk]) or row.area.name for row in rows
        ],
        "series": [
            {"key": "estates", "data": [row.counts.estate for row in rows]},
        ]
        if per_grid
        else [
            {"key": "grids", "data": [row.counts.grid for row in rows]},
            {"key": "staffed", "data": [row.counts.staffed_grids for row in rows]},
        ],
    }


def home(user: Any) -> dict[str, Any]:
    role = primary_role(user)
    roots = areas.roots_for(user)
    counts = areas.counts_for(roots)
    context: dict[str, Any] = {"role": role, "roots": roots, "counts": counts}
    if role == Role.RESIDENT:
        grid = roots[0] if roots else None
        context["grid"] = grid
        context["grid_ancestors"] = areas.ancestors(grid) if grid else []
        context["grid_workers"] = areas.grid_workers_in(grid) if grid else []
        return context
    if role == Role.AUDITOR:
        entries = audit_entries(visible_to=user)
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        context["audit_today"] = entries.filter(created_at__gte=today).count()
        context["audit_week"] = entries.filter(created_at__gte=today - timedelta(days=6)).count()
        context["failed_today"] = entries.filter(
            created_at__gte=today, action="accounts.sign_in_failed"
        ).count()
        context["latest"] = list(entries[:10])
        return context
    rows: list[areas.ChildRow] = []
    for root in roots[:5]:
        rows.extend(areas.children_with_counts(root))
    context["rows"] = rows
    # A grid worker's rows are their grid's estates: per-row counts would say nothing.
    context["show_counts"] = role != Role.GRID_WORKER
    context["chart"] = _chart(rows) if rows and role != Role.GRID_WORKER else None
    context["map_area"] = roots[0] if len(roots) == 1 else None
    return context
