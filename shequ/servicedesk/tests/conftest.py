"""Service desk fixtures: residents in the register (through the registry's services), one of
them linked to the persona `resident_a`, and helpers to apply and move."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from shequ.core import testing
from shequ.lib.idcard import check_digit
from shequ.registry import services as registry
from shequ.registry.models import Person, TagType
from shequ.registry.tags import tags_ensure_defaults
from shequ.servicedesk import services
from shequ.servicedesk.models import Application, ResidentLink, ServiceItem

P = testing.persona


def make_id(region: str = "330106", birth: str = "19400302", seq: str = "131") -> str:
    first17 = f"{region}{birth}{seq}"
    return first17 + check_digit(first17)


def scan(name: str = "scan.pdf", size: int = 2048) -> SimpleUploadedFile:
    """A small upload as a phone or scanner would send it (the first bytes of its type)."""
    jpeg = name.lower().endswith((".jpg", ".jpeg"))
    head = b"\xff\xd8\xff\xe0" if jpeg else b"%PDF-1.4\n"
    body = head + b"0" * max(size - len(head), 0)
    kind = "image/jpeg" if jpeg else "application/pdf"
    return SimpleUploadedFile(name, io.BytesIO(body).read(), content_type=kind)


@dataclass
class Desk:
    zhang: Person  # grid A, born 1940, 80+, linked to resident_a; tags 高龄老人 and 残疾人
    li: Person  # grid B, no account
    wang: Person  # grid Z (another street)
    gaoling: ServiceItem  # 高龄津贴: idcard + hukou required, bank account asked
    tiaojie: ServiceItem  # 人民调解申请: no materials, no 代办


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def desk(world: Any, media: Any) -> Desk:
    actor = P("community_worker")
    tags_ensure_defaults(actor=actor)
    building = registry.building_create(
        actor=actor,
        area=testing.area("A"),
        code="A-7",
        name="7号楼",
        road="翠苑路",
        road_number="7号",
    )
    dwelling = registry.dwelling_create(actor=actor, building=building, room="301", unit="1")
    household = registry.household_create(
        actor=actor, area=testing.area("A"), number="330106-0001", dwelling=dwelling
    )
    zhang = registry.person_create(
        actor=actor,
        area=testing.area("A"),
        dwelling=dwelling,
        household=household,
        name="张三",
        id_number=make_id(birth="19400302", seq="131"),
        phone="13812345678",
        residence_type="registered",
        relation_to_head="head",
    )
    registry.tag_assign(
        actor=actor, person=zhang, tag=TagType.objects.get(code="elderly-80"), source="民政局"
    )
    registry.tag_assign(
        actor=actor,
        person=zhang,
        tag=TagType.objects.get(code="disabled"),
        source="残联",
        details={"category": "肢体", "level": "二级"},
    )
    li = registry.person_create(
        actor=actor,
        area=testing.area("B"),
        name="李四",
        id_number=make_id(birth="19850610", seq="242"),
        phone="13900001234",
    )
    wang = registry.person_create(
        actor="test",
        area=testing.area("Z"),
        name="王五",
        id_number=make_id(birth="19920101", seq="353"),
    )
    ResidentLink.objects.create(user=P("resident_a"), person=zhang)
    return Desk(
        zhang=zhang,
        li=li,
        wang=wang,
        gaoling=ServiceItem.objects.get(code="gaoling-jintie"),
        tiaojie=ServiceItem.objects.get(code="renmin-tiaojie"),
    )


GAOLING_FORM = {"bank_account": "6217000000001234"}


def apply_online(desk: Desk, **kw: Any) -> Application:
    """resident_a applies online for 高龄津贴 with both required materials uploaded."""
    kw.setdefault("form", GAOLING_FORM)
    kw.setdefault("files", {"idcard": scan("id.pdf"), "hukou": scan("hukou.jpg")})
    return services.application_create(
        actor=P("resident_a"), item=desk.gaoling, person=desk.zhang, channel="online", **kw
    )


def apply_at_desk(
    desk: Desk, person: Person | None = None, *, by: str = "community_worker", **kw: Any
) -> Application:
    """Desk staff record a 高龄津贴 application, the originals seen."""
    kw.setdefault("form", GAOLING_FORM)
    kw.setdefault("seen", ["idcard", "hukou"])
    kw.setdefault("channel", "desk")
    return services.application_create(
        actor=P(by),
        item=desk.gaoling,
        person=person or desk.zhang,
        **kw,
    )


def move(application: Application, name: str, by: str = "community_worker", **kw: Any) -> Any:
    return services.application_move(actor=P(by), application=application, move=name, **kw)
