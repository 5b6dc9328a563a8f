"""Test personas: one small world built once per test session through the real services.

    district D ─ street S1 ─ community C1 ─ grid A ─ estate A1
                                         └ grid B
               └ street S2 ─ community C2 ─ grid Z

Each persona holds one role; `inside` and `outside` name an area each persona may and may
not see, which is what the scoping matrix of every app is built from.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from shequ.accounts import services as accounts
from shequ.accounts.models import User
from shequ.accounts.roles import Role
from shequ.areas import services as areas
from shequ.areas.models import Area, Level

T = TypeVar("T")

PASSWORD = "Persona-pass-2026"  # noqa: S105

CODES = {
    "D": "110199000000",
    "S1": "110199001000",
    "S2": "110199002000",
    "C1": "110199001001",
    "C2": "110199002001",
    "A": "110199001001001",
    "B": "110199001001002",
    "Z": "110199002001001",
    "A1": "11019900100100101",
    "F": "120199000000",  # a district none of the personas works in
}


def _square(x: float, y: float, size: float = 0.01) -> dict[str, object]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass(frozen=True)
class Persona:
    username: str
    role: Role
    area: str  # key in CODES
    inside: str  # an area this persona sees
    outside: str  # an area this persona must not see


PERSONAS: list[Persona] = [
    Persona("resident_a", Role.RESIDENT, "A", "A", "B"),
    Persona("grid_worker_a", Role.GRID_WORKER, "A", "A1", "B"),
    Persona("grid_worker_b", Role.GRID_WORKER, "B", "B", "A"),
    Persona("community_worker", Role.COMMUNITY_WORKER, "C1", "B", "Z"),
    Persona("street_supervisor", Role.STREET, "S1", "A", "C2"),
    Persona("department", Role.DEPARTMENT, "D", "Z", "F"),
    Persona("district_admin", Role.DISTRICT_ADMIN, "D", "C2", "F"),
    Persona("auditor", Role.AUDITOR, "D", "S2", "F"),
    Persona("community_auditor", Role.AUDITOR, "C1", "A", "C2"),
    Persona("sysadmin", Role.SYSADMIN, "D", "Z", "F"),
]
# An area no persona's membership reaches (only a superuser sees it).
FOREIGN_DISTRICT = CODES["F"]


def build_world() -> None:
    """Create the areas and personas through the services (audited like real use)."""
    actor = "test-setup"
    d = areas.area_create(
        actor=actor,
        code=CODES["D"],
        name="测试区",
        level=Level.DISTRICT,
        geometry=_square(116.0, 39.0, 0.2),
    )
    s1 = areas.area_create(
        actor=actor, code=CODES["S1"], name="一街道", level=Level.STREET, parent=d
    )
    s2 = areas.area_create(
        actor=actor, code=CODES["S2"], name="二街道", level=Level.STREET, parent=d
    )
    c1 = areas.area_create(
        actor=actor,
        code=CODES["C1"],
        name="甲社区",
        level=Level.COMMUNITY,
        parent=s1,
        geometry=_square(116.0, 39.0, 0.05),
    )
    c2 = areas.area_create(
        actor=actor, code=CODES["C2"], name="乙村", level=Level.COMMUNITY, parent=s2, kind="rural"
    )
    a = areas.area_create(
        actor=actor,
        code=CODES["A"],
        name="甲社区第1网格",
        level=Level.GRID,
        parent=c1,
        geometry=_square(116.0, 39.0),
    )
    areas.area_create(
        actor=actor,
        code=CODES["B"],
        name="甲社区第2网格",
        level=Level.GRID,
        parent=c1,
        geometry=_square(116.01, 39.0),
    )
    areas.area_create(actor=actor, code=CODES["Z"], name="乙村第1网格", level=Level.GRID, parent=c2)
    areas.area_create(actor=actor, code=CODES["A1"], name="翠苑一区", level=Level.ESTATE, parent=a)
    areas.area_create(actor=actor, code=FOREIGN_DISTRICT, name="外区", level=Level.DISTRICT)
    for p in PERSONAS:
        accounts.user_create(
            actor=actor,
            username=p.username,
            password=PASSWORD,
            full_name=p.username.replace("_", " ").title(),
            memberships=[(Area.objects.get(code=CODES[p.area]), p.role)],
        )
    accounts.user_create(actor=actor, username="nobody", password=PASSWORD, full_name="No Role")


def superuser() -> User:
    """A superuser (the only account that sees every district), created on first use."""
    user = User.objects.filter(username="root").first()
    if user is None:
        user = accounts.user_create(
            actor="test-setup", username="root", password=PASSWORD, is_superuser=True
        )
    return user


def persona(username: str) -> User:
    return User.objects.get(username=username)


def area(key: str) -> Area:
    return Area.objects.get(code=CODES.get(key, key))


def at_once(work: Callable[[], T], times: int = 2) -> tuple[list[T], list[BaseException]]:
    """`work` in `times` threads released together (each with its own database connection,
    closed after): what each returned, and what any raised."""
    from django.db import connection

    barrier = threading.Barrier(times)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(work())
        except BaseException as exc:  # shown to the test, which asserts there were none
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
