"""Every write to the area tree: validated, audited, one transaction each."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from shequ.areas.errors import AreaError
from shequ.areas.models import CHILD_LEVELS, SEGMENT, Area, Kind, Level
from shequ.core import audit
from shequ.core.errors import DomainError
from shequ.lib import geo

_STAT_CODE = re.compile(r"^\d{12}$")
_SUB_CODE = re.compile(r"^\d{2,6}$")


def _check_code(*, code: str, level: str, parent: Area | None) -> None:
    if level == Level.DISTRICT:
        if not re.fullmatch(r"\d{6}(\d{6})?", code):
            raise DomainError(AreaError.BAD_CODE, _("A district code has 6 or 12 digits."))
        return
    assert parent is not None
    if level in (Level.STREET, Level.COMMUNITY):
        prefix = parent.code[: 6 if level == Level.STREET else 9]
        if not _STAT_CODE.match(code) or not code.startswith(prefix):
            raise DomainError(
                AreaError.BAD_CODE,
                _("A %(level)s code is a 12-digit statistical code starting with %(prefix)s.")
                % {"level": Level(level).label, "prefix": prefix},
            )
        return
    if not code.startswith(parent.code) or not _SUB_CODE.match(code[len(parent.code) :]):
        raise DomainError(
            AreaError.BAD_CODE,
            _("A %(level)s code is its parent's code %(parent)s followed by 2 to 6 digits.")
            % {"level": Level(level).label, "parent": parent.code},
        )


def _check_geometry(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    if geometry is None:
        return None
    try:
        geo.validate_polygon(geometry)
        return geo.centroid(geometry)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise DomainError(
            AreaError.BAD_GEOMETRY,
            _("The boundary is not a valid GeoJSON polygon in WGS84: %(reason)s") % {"reason": exc},
        ) from exc


def area_validate(
    *, code: str, level: str, parent: Area | None, geometry: dict[str, Any] | None
) -> tuple[float, float] | None:
    """Check a new node's level, code and boundary; return the boundary's centre."""
    if level not in Level.values:
        raise DomainError(AreaError.BAD_LEVEL, _("Unknown area level."))
    if parent is None and level != Level.DISTRICT:
        raise DomainError(AreaError.BAD_LEVEL, _("Only a district may be a root of the tree."))
    if parent is not None and level not in CHILD_LEVELS[parent.level]:
        raise DomainError(
            AreaError.BAD_LEVEL,
            _("A %(child)s cannot be placed under a %(parent)s.")
            % {"child": Level(level).label, "parent": Level(parent.level).label},
        )
    _check_code(code=code, level=level, parent=parent)
    return _check_geometry(geometry)


@transaction.atomic
def area_create(
    *,
    actor: Any,
    code: str,
    name: str,
    level: str,
    parent: Area | None = None,
    kind: str | None = None,
    geometry: dict[str, Any] | None = None,
    sort_order: int = 0,
) -> Area:
    """Add a node under `parent` (none for a district), checking level, code and boundary."""
    centre = area_validate(code=code, level=level, parent=parent, geometry=geometry)
    area = Area(
        code=code,
        name=name.strip(),
        level=level,
        parent=parent,
        kind=kind or (parent.kind if parent else Kind.URBAN),
        geometry=geometry,
        centroid_lng=centre[0] if centre else None,
        centroid_lat=centre[1] if centre else None,
        sort_order=sort_order,
        depth=(parent.depth + 1) if parent else 1,
        path="",
    )
    try:
        with transaction.atomic():
            # The path holds the primary key, so it is set just after the row exists; a
            # temporary unique placeholder keeps the unique index satisfied meanwhile.
            area.path = f"~{code}"[: SEGMENT * 8]
            area.save(force_insert=True)
    except IntegrityError as exc:
        raise DomainError(
            AreaError.DUPLICATE_CODE, _("The code %(code)s is already in use.") % {"code": code}
        ) from exc
    area.path = (parent.path if parent else "") + str(area.pk).zfill(SEGMENT)
    area.save(update_fields=["path"])
    audit.record(
        actor=actor,
        action="area.created",
        obj=area,
        changes={"code": code, "name": area.name, "level": level, "parent": parent and parent.code},
    )
    return area


@transaction.atomic
def area_update(
    *,
    actor: Any,
    area: Area,
    name: str | None = None,
    kind: str | None = None,
    geometry: dict[str, Any] | None = None,
    sort_order: int | None = None,
) -> Area:
    """Rename a node, change its type, order or boundary (its place in the tree is fixed)."""
    area = Area.objects.select_for_update().get(pk=area.pk)
    before = {"name": area.name, "kind": area.kind, "sort_order": area.sort_order}
    if name is not None:
        area.name = name.strip()
    if kind is not None:
        if kind not in Kind.values:
            raise DomainError(AreaError.BAD_LEVEL, _("Unknown area type."))
        area.kind = kind
    if sort_order is not None:
        area.sort_order = sort_order
    changes = audit.diff(
        before, {"name": area.name, "kind": area.kind, "sort_order": area.sort_order}
    )
    if geometry is not None:
        centre = _check_geometry(geometry)
        area.geometry = geometry
        area.centroid_lng, area.centroid_lat = centre if centre else (None, None)
        changes["geometry"] = ["…", "…"]
    area.save()
    audit.record(actor=actor, action="area.updated", obj=area, changes=changes)
    return area
