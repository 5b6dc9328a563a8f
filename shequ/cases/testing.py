"""Case fixtures for tests, benchmarks and the demo: handling units and routing rules in the
personas world (or any district), built through the ORM once per test."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shequ.areas.models import Area
from shequ.cases.models import Category, RoutingRule, Unit, UnitKind


@dataclass
class CaseWorld:
    community: Unit  # 甲社区居委会, members: community_worker
    street: Unit  # 一街道办事处, members: street_supervisor
    chengguan: Unit  # 区城管局, members: department
    category: Category  # 0102 乱堆乱放 (on the spot allowed) → 城管
    dispute: Category  # 0501 邻里纠纷 → the community (fallback rule of C1)


def build_case_world(*, users: dict[str, Any], areas: dict[str, Area]) -> CaseWorld:
    community = Unit.objects.create(
        code="c1-committee", name="甲社区居委会", kind=UnitKind.COMMUNITY, area=areas["C1"]
    )
    community.members.add(users["community_worker"])
    street = Unit.objects.create(
        code="s1-office", name="一街道办事处", kind=UnitKind.STREET, area=areas["S1"]
    )
    street.members.add(users["street_supervisor"])
    chengguan = Unit.objects.create(
        code="d-chengguan", name="区城管局", kind=UnitKind.DEPARTMENT, area=areas["D"]
    )
    chengguan.members.add(users["department"])
    city = Category.objects.get(code="01")
    RoutingRule.objects.create(category=city, area=areas["D"], unit=chengguan)
    RoutingRule.objects.create(category=None, area=areas["D"], unit=street)
    RoutingRule.objects.create(category=None, area=areas["C1"], unit=community)
    return CaseWorld(
        community=community,
        street=street,
        chengguan=chengguan,
        category=Category.objects.get(code="0102"),
        dispute=Category.objects.get(code="0501"),
    )


def photo(name: str = "photo.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    """A small real PNG, as a phone would upload it."""
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")
