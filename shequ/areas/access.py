"""Fetch one area for a user: 404 for missing and for not-visible alike."""

from __future__ import annotations

from typing import Any

from shequ.areas.models import Area
from shequ.core.errors import NotFound


def can_view_area(actor: Any, area: Area) -> bool:
    return Area.objects.visible_to(actor).filter(pk=area.pk).exists()


def access_area(actor: Any, code: str) -> Area:
    if not code.isascii() or not code.isdigit() or len(code) > 32:
        raise NotFound()  # not a code at all (and never a NUL byte sent to the database)
    area = Area.objects.visible_to(actor).filter(code=code).first()
    if area is None:
        raise NotFound()
    return area
