"""Registry fixtures: a few residents placed in the personas world through the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shequ.core import testing
from shequ.lib.idcard import check_digit
from shequ.registry import services
from shequ.registry.models import Person, TagType


def make_id(region: str = "330106", birth: str = "19400302", seq: str = "123") -> str:
    first17 = f"{region}{birth}{seq}"
    return first17 + check_digit(first17)


@dataclass
class Residents:
    zhang: Person  # grid A, 80+, with phone
    li: Person  # grid B
    wang: Person  # grid Z (another street)
    sensitive_tag: TagType
    plain_tag: TagType


@pytest.fixture
def residents(world: Any) -> Residents:
    actor = testing.persona("community_worker")
    zhang = services.person_create(
        actor=actor,
        area=testing.area("A"),
        name="张三",
        id_number=make_id(birth="19400302", seq="131"),
        phone="13812345678",
        residence_type="registered",
    )
    li = services.person_create(
        actor=actor,
        area=testing.area("B"),
        name="李四",
        id_number=make_id(birth="19850610", seq="242"),
        phone="13900001234",
    )
    wang = services.person_create(
        actor="test",
        area=testing.area("Z"),
        name="王五",
        id_number=make_id(birth="19920101", seq="353"),
    )
    sensitive = TagType.objects.create(code="mental", name="严重精神障碍患者", sensitive=True)
    plain = TagType.objects.create(code="elderly80", name="高龄老人")
    services.tag_assign(actor=actor, person=zhang, tag=plain, source="民政局")
    services.tag_assign(actor=actor, person=zhang, tag=sensitive, source="卫健局")
    return Residents(zhang, li, wang, sensitive, plain)
