"""The demo city: its shape, its documented accounts, idempotence, reset and determinism.

The personas world also lives in the test database, so everything here is counted under the
demo district only.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from shequ.accounts.models import Membership, User
from shequ.areas.models import Area, Level
from shequ.core import audit, testing
from shequ.core.models import AuditEntry
from shequ.demo import city
from shequ.lib import geo

DOCUMENTED = [
    "admin",
    "minzheng",
    "jiedao",
    "shequ",
    "wangge1",
    "wangge2",
    "bumen",
    "jumin",
    "shenji",
]


def _demo(*args: str, cases: int = 0) -> str:
    out = io.StringIO()
    call_command("demo", "--residents", "200", "--cases", str(cases), *args, stdout=out)
    return out.getvalue()


def _district() -> Area:
    return Area.objects.get(code=city.DISTRICT_CODE)


def _demo_areas(level: str | None = None) -> Any:
    qs = Area.objects.subtree_of(_district())
    return qs.filter(level=level) if level else qs


def _geometries() -> dict[str, Any]:
    return {a.code: a.geometry for a in _demo_areas().order_by("code")}


@pytest.fixture
def demo(world: Any) -> str:
    return _demo()


@pytest.fixture
def demo_cases(world: Any) -> str:
    return _demo(cases=40)


def test_it_builds_one_district_two_streets_and_six_communities(demo: str) -> None:
    assert "demo city loaded" in demo
    assert _demo_areas(Level.DISTRICT).count() == 1
    assert _demo_areas(Level.STREET).count() == 2
    communities = _demo_areas(Level.COMMUNITY)
    assert communities.count() == 6
    assert communities.filter(kind="rural").count() == 1


def test_it_builds_about_forty_grids_each_with_estates(demo: str) -> None:
    grids = _demo_areas(Level.GRID)
    assert 36 <= grids.count() <= 44
    for grid in grids:
        assert 1 <= grid.children.filter(level=Level.ESTATE).count() <= 3, grid.code


def test_the_grids_of_the_rural_community_are_rural(demo: str) -> None:
    village = _demo_areas(Level.COMMUNITY).get(kind="rural")
    grids = Area.objects.subtree_of(village).filter(level=Level.GRID)
    assert grids.exists()
    assert set(grids.values_list("kind", flat=True)) == {"rural"}


def test_every_demo_area_has_a_valid_closed_polygon(demo: str) -> None:
    for area in _demo_areas():
        assert area.geometry is not None, area.code
        geo.validate_polygon(area.geometry)
        ring = area.geometry["coordinates"][0]
        assert ring[0] == ring[-1]
        assert len(ring) == 5
        assert area.centroid_lng is not None and area.centroid_lat is not None


def test_every_grid_lies_inside_the_district(demo: str) -> None:
    boundary: Any = _district().geometry
    ring = boundary["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    for grid in _demo_areas(Level.GRID):
        for x, y in grid.geometry["coordinates"][0]:
            assert min(xs) - 1e-6 <= x <= max(xs) + 1e-6
            assert min(ys) - 1e-6 <= y <= max(ys) + 1e-6


def test_the_grid_codes_extend_their_community_codes(demo: str) -> None:
    for grid in _demo_areas(Level.GRID).select_related("parent"):
        assert grid.code.startswith(grid.parent.code)
        assert len(grid.code) == 15


def test_the_documented_accounts_exist_and_sign_in_with_the_demo_password(demo: str) -> None:
    request = RequestFactory().post("/accounts/login/")
    for username in DOCUMENTED:
        user = authenticate(request, username=username, password="shequ-demo-2026")
        assert user is not None, username
        assert user.username == username
    assert User.objects.get(username="admin").is_superuser


def test_every_documented_account_has_its_role(demo: str) -> None:
    roles = {
        m.user.username: m.role
        for m in Membership.objects.filter(user__username__in=DOCUMENTED).select_related("user")
    }
    assert roles == {
        "admin": "sysadmin",
        "minzheng": "district_admin",
        "jiedao": "street",
        "shequ": "community_worker",
        "wangge1": "grid_worker",
        "wangge2": "grid_worker",
        "bumen": "department",
        "jumin": "resident",
        "shenji": "auditor",
    }


def test_the_demo_resident_lives_in_the_grid_of_wangge1(demo: str) -> None:
    home = Membership.objects.get(user__username="jumin").area
    worker = Membership.objects.get(user__username="wangge1").area
    assert home == worker
    assert home.level == Level.GRID
    community = Membership.objects.get(user__username="shequ").area
    assert home.parent == community


def test_most_grids_have_a_grid_worker(demo: str) -> None:
    grids = _demo_areas(Level.GRID)
    staffed = (
        Membership.objects.filter(role="grid_worker", area__in=grids)
        .values("area")
        .distinct()
        .count()
    )
    assert staffed == grids.count() - 3  # three grids are left vacant on purpose


def test_every_community_has_a_head(demo: str) -> None:
    heads = Membership.objects.filter(role="community_head", area__in=_demo_areas(Level.COMMUNITY))
    assert heads.count() == 6


def test_building_the_demo_is_audited_and_keeps_the_chain_intact(demo: str) -> None:
    assert AuditEntry.objects.filter(action="demo.loaded").count() == 1
    assert AuditEntry.objects.filter(action="area.created", actor_name="demo").count() == (
        _demo_areas().count()
    )
    assert audit.verify()[1] == []


def test_running_it_twice_without_reset_changes_nothing(demo: str) -> None:
    areas, users, entries = Area.objects.count(), User.objects.count(), AuditEntry.objects.count()
    geometries = _geometries()
    output = _demo()
    assert "already loaded" in output
    assert (Area.objects.count(), User.objects.count(), AuditEntry.objects.count()) == (
        areas,
        users,
        entries,
    )
    assert _geometries() == geometries


def test_reset_rebuilds_the_demo_city(demo: str) -> None:
    old_pk = _district().pk
    grids = _demo_areas(Level.GRID).count()
    output = _demo("--reset")
    assert "demo city loaded" in output
    assert _district().pk != old_pk
    assert _demo_areas(Level.GRID).count() == grids
    assert User.objects.filter(username__in=DOCUMENTED).count() == len(DOCUMENTED)
    assert AuditEntry.objects.filter(action="demo.reset").count() == 1
    assert audit.verify()[1] == []


def test_reset_leaves_areas_and_accounts_outside_the_demo_alone(demo: str) -> None:
    """`reset` says it removes what the demo created; anything else in the database stays."""
    _demo("--reset")
    assert Area.objects.filter(code=testing.CODES["D"]).exists()
    assert Area.objects.filter(code=testing.FOREIGN_DISTRICT).exists()
    assert User.objects.filter(username="community_worker").exists()


def test_the_same_seed_gives_the_same_city(demo: str) -> None:
    first = _geometries()
    _demo("--reset")
    assert _geometries() == first


def test_another_seed_gives_another_city(demo: str) -> None:
    first = _geometries()
    _demo("--reset", "--seed", "7")
    second = _geometries()
    assert second != first
    assert 36 <= _demo_areas(Level.GRID).count() <= 44


def test_the_split_tiles_the_quad_without_losing_any_cell() -> None:
    import random

    quad = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    for count in range(1, 10):
        cells = city.split(quad, count, random.Random(count))
        assert len(cells) == count
        area = sum(abs(_signed_area(cell)) for cell in cells)
        assert area == pytest.approx(1.0)


def _signed_area(quad: Any) -> float:
    points = [*quad, quad[0]]
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(points)) / 2


def test_the_demo_refuses_a_production_configuration(db: Any) -> None:
    from django.core.management.base import CommandError
    from django.test import override_settings

    with override_settings(HTTPS=True), pytest.raises(CommandError, match="production"):
        call_command("demo")
    assert not Area.objects.filter(code=city.DISTRICT_CODE).exists()


def test_the_demo_has_cases_in_many_states_some_overdue(demo_cases: str) -> None:
    from shequ.cases.models import Case

    cases = Case.objects.filter(district=_district())
    statuses = set(cases.values_list("status", flat=True))
    assert {"closed", "reported", "dispatched"} <= statuses
    assert len(statuses) >= 6
    assert cases.filter(light="red").exists()
    # Every case has its history, and the case number tells the day it was reported.
    for case in cases[:10]:
        assert case.events.filter(kind="reported").exists()
        assert case.code[2:10] == timezone.localtime(case.created_at).strftime("%Y%m%d")


def test_demo_cases_take_the_time_real_cases_take_and_the_analysis_counts_them(
    demo_cases: str,
) -> None:
    from django.db.models import Sum

    from shequ.cases.models import Case, CaseStat, StatGrain

    cases = Case.objects.filter(district=_district())
    resolved = cases.filter(resolved_at__isnull=False)
    assert resolved.exists()
    for case in resolved:
        # Hours or days from report to resolution, not the moment the demo took to make it.
        assert case.resolved_at - case.created_at >= dt.timedelta(hours=1)
        times = list(case.events.values_list("at", flat=True))
        assert abs(times[0] - case.created_at) < dt.timedelta(seconds=1)
        assert times == sorted(times) and times[-1] <= timezone.now()
    # Steps that came after their stage's deadline made some cases overdue, not all.
    assert {True, False} <= set(resolved.values_list("overdue_ever", flat=True))
    # A case still at work has the deadline of its stage, counted from when the stage began.
    from shequ.cases import sla

    staged = cases.filter(stage_started_at__isnull=False).exclude(stage="")
    assert staged.exists()
    for case in staged:
        _warn, due = sla.stage_deadlines(case.category, case.stage, case.stage_started_at)
        assert case.due_at == due
    # Every demo case is in the pre-counted figures the analysis pages read.
    counted = CaseStat.objects.filter(grain=StatGrain.OWN).aggregate(n=Sum("reported"))["n"]
    assert counted == cases.count()


def test_every_demo_unit_has_someone_to_answer_it(demo_cases: str) -> None:
    from shequ.cases.models import Unit

    units = Unit.objects.filter(area__path__startswith=_district().path)
    assert units.count() >= 10
    assert not units.filter(members__isnull=True).exists()


def test_the_demo_open311_key_is_the_documented_one(demo_cases: str) -> None:
    import hashlib

    from shequ.cases.models import Open311Client
    from shequ.demo import cases

    digest = hashlib.sha256(cases.OPEN311_KEY.encode()).hexdigest()
    assert Open311Client.objects.filter(key_hash=digest, active=True).exists()


def test_reset_removes_the_demo_cases(demo_cases: str) -> None:
    from shequ.cases.models import Case

    before = Case.objects.count()
    _demo("--reset", cases=40)
    assert Case.objects.count() == before  # rebuilt, not added to
