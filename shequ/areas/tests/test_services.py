"""Writes to the area tree: level, code and boundary checks, materialised paths, audit."""

from __future__ import annotations

from typing import Any

import pytest

from shequ.areas import selectors, services
from shequ.areas.models import SEGMENT, Area, Level
from shequ.core import testing
from shequ.core.errors import DomainError
from shequ.core.models import AuditEntry


def _square(x: float = 116.0, y: float = 39.0, size: float = 0.01) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


class _NothingWritten:
    """Asserts that a rejected write left no area and no audit entry behind."""

    def __enter__(self) -> _NothingWritten:
        self.areas = Area.objects.count()
        self.entries = AuditEntry.objects.count()
        return self

    def __exit__(self, *exc: object) -> None:
        assert Area.objects.count() == self.areas
        assert AuditEntry.objects.count() == self.entries


def _rejected(error_code: str, /, **kwargs: Any) -> DomainError:
    with _NothingWritten(), pytest.raises(DomainError) as info:
        services.area_create(actor="test", **kwargs)
    assert info.value.code == error_code
    assert info.value.message
    return info.value


# --- levels ---------------------------------------------------------------------------------


def test_it_rejects_a_grid_under_a_street(world: Any) -> None:
    _rejected(
        "area_bad_level",
        code=f"{testing.CODES['S1']}01",
        name="错位网格",
        level=Level.GRID,
        parent=testing.area("S1"),
    )


def test_it_rejects_a_street_under_a_community(world: Any) -> None:
    _rejected(
        "area_bad_level",
        code="110199001009",
        name="错位街道",
        level=Level.STREET,
        parent=testing.area("C1"),
    )


def test_it_rejects_a_root_that_is_not_a_district(world: Any) -> None:
    _rejected("area_bad_level", code="110199003000", name="孤街道", level=Level.STREET)


def test_it_rejects_an_unknown_level(world: Any) -> None:
    _rejected(
        "area_bad_level",
        code="110199001001009",
        name="?",
        level="hamlet",
        parent=testing.area("C1"),
    )


def test_it_places_a_building_directly_under_a_grid(world: Any) -> None:
    building = services.area_create(
        actor="test",
        code=f"{testing.CODES['B']}0001",
        name="3号楼",
        level=Level.BUILDING,
        parent=testing.area("B"),
    )
    assert building.parent == testing.area("B")


def test_it_rejects_anything_under_a_building(world: Any) -> None:
    building = services.area_create(
        actor="test",
        code=f"{testing.CODES['B']}0001",
        name="3号楼",
        level=Level.BUILDING,
        parent=testing.area("B"),
    )
    _rejected(
        "area_bad_level",
        code=f"{building.code}01",
        name="1单元",
        level=Level.BUILDING,
        parent=building,
    )


# --- codes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "11019900300",  # 11 digits
        "1101990030000",  # 13 digits
        "11019900300a",  # a letter
        "120199003000",  # another district's prefix
        "110198003000",  # differs in the 6th digit
    ],
)
def test_it_rejects_a_street_code_not_12_digits_under_its_district(world: Any, code: str) -> None:
    _rejected(
        "area_bad_code", code=code, name="新街道", level=Level.STREET, parent=testing.area("D")
    )


@pytest.mark.parametrize("code", ["110199002009", "110199001", "110199001 09"])
def test_it_rejects_a_community_code_outside_its_street(world: Any, code: str) -> None:
    _rejected(
        "area_bad_code", code=code, name="新社区", level=Level.COMMUNITY, parent=testing.area("S1")
    )


@pytest.mark.parametrize(
    "code",
    [
        "110199001001",  # the parent's code alone
        "1101990010011",  # only one more digit
        "1101990010011234567",  # seven more digits
        "110199002001009",  # another community's code
        "11019900100100x",  # a letter
    ],
)
def test_it_rejects_a_grid_code_that_is_not_parent_plus_digits(world: Any, code: str) -> None:
    _rejected(
        "area_bad_code", code=code, name="新网格", level=Level.GRID, parent=testing.area("C1")
    )


@pytest.mark.parametrize("code", ["1101", "11019900", "1101990000001"])
def test_it_rejects_a_district_code_of_the_wrong_length(world: Any, code: str) -> None:
    _rejected("area_bad_code", code=code, name="新区", level=Level.DISTRICT)


def test_it_accepts_a_six_digit_district_code(world: Any) -> None:
    district = services.area_create(
        actor="test", code="130100", name="六位区", level=Level.DISTRICT
    )
    assert district.depth == 1
    assert district.path == str(district.pk).zfill(SEGMENT)


def test_it_rejects_a_duplicate_code_and_writes_nothing(world: Any) -> None:
    error = _rejected(
        "area_duplicate_code",
        code=testing.CODES["B"],
        name="重复网格",
        level=Level.GRID,
        parent=testing.area("C1"),
    )
    assert testing.CODES["B"] in error.message
    assert Area.objects.get(code=testing.CODES["B"]).name == "甲社区第2网格"


def test_the_tree_still_accepts_writes_after_a_duplicate_was_rejected(world: Any) -> None:
    _rejected(
        "area_duplicate_code",
        code=testing.CODES["B"],
        name="重复网格",
        level=Level.GRID,
        parent=testing.area("C1"),
    )
    grid = services.area_create(
        actor="test",
        code=f"{testing.CODES['C1']}003",
        name="第3网格",
        level=Level.GRID,
        parent=testing.area("C1"),
    )
    assert grid.path.startswith(testing.area("C1").path)


# --- boundaries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Polygon", "coordinates": [[[116, 39], [116.01, 39], [116.01, 39.01]]]},  # open
        {"type": "Polygon", "coordinates": [[[116, 39], [116.01, 39], [116, 39]]]},  # 3 points
        _square(x=200.0),  # longitude out of range
        _square(y=95.0),  # latitude out of range
        _square(x=500_000.0, y=3_300_000.0),  # projected metres, not WGS84
        {"type": "Point", "coordinates": [116, 39]},
        {"type": "Polygon", "coordinates": [[["a", "b"], [1, 1], [1, 2], ["a", "b"]]]},
        {"type": "Polygon", "coordinates": [[None, None, None, None]]},
        {"coordinates": []},
    ],
)
def test_it_rejects_a_bad_boundary(world: Any, geometry: dict[str, Any]) -> None:
    _rejected(
        "area_bad_geometry",
        code=f"{testing.CODES['C1']}003",
        name="第3网格",
        level=Level.GRID,
        parent=testing.area("C1"),
        geometry=geometry,
    )


def test_a_valid_boundary_sets_the_centre(world: Any) -> None:
    grid = services.area_create(
        actor="test",
        code=f"{testing.CODES['C1']}003",
        name="第3网格",
        level=Level.GRID,
        parent=testing.area("C1"),
        geometry=_square(116.02, 39.0, 0.01),
    )
    assert grid.centroid_lng == pytest.approx(116.025)
    assert grid.centroid_lat == pytest.approx(39.005)


# --- paths and subtrees ---------------------------------------------------------------------


def test_the_path_is_the_parent_path_plus_the_padded_primary_key(world: Any) -> None:
    c1 = testing.area("C1")
    grid = services.area_create(
        actor="test", code=f"{c1.code}003", name=" 第3网格 ", level=Level.GRID, parent=c1
    )
    assert grid.path == c1.path + str(grid.pk).zfill(SEGMENT)
    assert len(grid.path) == SEGMENT * 4
    assert grid.depth == c1.depth + 1 == 4
    assert grid.name == "第3网格"
    assert grid.kind == c1.kind
    grid.refresh_from_db()
    assert grid.path == c1.path + str(grid.pk).zfill(SEGMENT)


def test_a_child_inherits_the_rural_type_of_its_parent(world: Any) -> None:
    grid = services.area_create(
        actor="test",
        code=f"{testing.CODES['C2']}002",
        name="乙村第2网格",
        level=Level.GRID,
        parent=testing.area("C2"),
    )
    assert grid.kind == "rural"


@pytest.mark.parametrize("key", list(testing.CODES))
def test_every_world_path_extends_its_parent_path(world: Any, key: str) -> None:
    area = testing.area(key)
    if area.parent is None:
        assert area.path == str(area.pk).zfill(SEGMENT)
    else:
        assert area.path == area.parent.path + str(area.pk).zfill(SEGMENT)
    assert len(area.path) == SEGMENT * area.depth


@pytest.mark.parametrize(
    ("key", "descendants"),
    [
        ("D", {"S1", "S2", "C1", "C2", "A", "B", "Z", "A1"}),
        ("S1", {"C1", "A", "B", "A1"}),
        ("C1", {"A", "B", "A1"}),
        ("A", {"A1"}),
        ("B", set()),
        ("A1", set()),
    ],
)
def test_subtree_of_returns_exactly_the_descendants(
    world: Any, key: str, descendants: set[str]
) -> None:
    area = testing.area(key)
    below = set(Area.objects.subtree_of(area, include_self=False).values_list("code", flat=True))
    assert below == {testing.CODES[k] for k in descendants}
    with_self = set(Area.objects.subtree_of(area).values_list("code", flat=True))
    assert with_self == below | {area.code}


def test_subtree_of_a_district_never_reaches_another_district(world: Any) -> None:
    codes = set(Area.objects.subtree_of(testing.area("D")).values_list("code", flat=True))
    assert testing.FOREIGN_DISTRICT not in codes


def test_ancestors_run_from_the_root_down_to_the_parent(world: Any) -> None:
    names = [a.code for a in selectors.ancestors(testing.area("A1"))]
    assert names == [testing.CODES[k] for k in ("D", "S1", "C1", "A")]
    assert selectors.ancestors(testing.area("D")) == []


def test_subtree_counts_count_each_level_and_the_grid_workers(world: Any) -> None:
    counts = selectors.subtree_counts(testing.area("D"))
    assert (counts.street, counts.community, counts.grid, counts.estate) == (2, 2, 3, 1)
    assert counts.grid_workers == 2
    assert counts.staffed_grids == 2
    assert counts.grid_coverage == 67  # 2 of 3 grids have a grid worker


def test_children_with_counts_lists_the_children_in_order(world: Any) -> None:
    rows = selectors.children_with_counts(testing.area("C1"))
    assert [r.area.code for r in rows] == [testing.CODES["A"], testing.CODES["B"]]
    assert [r.counts.estate for r in rows] == [1, 0]
    assert [r.counts.grid_workers for r in rows] == [1, 1]


# --- updates --------------------------------------------------------------------------------


def test_area_update_renames_and_records_the_change(world: Any) -> None:
    grid = testing.area("B")
    updated = services.area_update(actor=testing.persona("sysadmin"), area=grid, name=" 新名字 ")
    assert updated.name == "新名字"
    assert Area.objects.get(pk=grid.pk).name == "新名字"
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert entry.action == "area.updated"
    assert entry.actor_name == "sysadmin"
    assert entry.object_id == str(grid.pk)
    assert entry.changes == {"name": ["甲社区第2网格", "新名字"]}


def test_area_update_records_only_what_changed(world: Any) -> None:
    grid = testing.area("B")
    services.area_update(actor="test", area=grid, name=grid.name, sort_order=7)
    entry = AuditEntry.objects.order_by("-seq")[0]
    assert entry.changes == {"sort_order": [0, 7]}


def test_area_update_replaces_the_boundary_and_moves_the_centre(world: Any) -> None:
    grid = services.area_update(actor="test", area=testing.area("Z"), geometry=_square(117, 40))
    assert grid.centroid_lng == pytest.approx(117.005)
    assert "geometry" in AuditEntry.objects.order_by("-seq")[0].changes


def test_area_update_rejects_a_bad_boundary_and_keeps_the_old_one(world: Any) -> None:
    grid = testing.area("A")
    with pytest.raises(DomainError) as info:
        services.area_update(actor="test", area=grid, geometry=_square(x=300))
    assert info.value.code == "area_bad_geometry"
    assert Area.objects.get(pk=grid.pk).geometry == grid.geometry


def test_area_update_rejects_an_unknown_type(world: Any) -> None:
    with pytest.raises(DomainError):
        services.area_update(actor="test", area=testing.area("A"), kind="suburban")
    assert Area.objects.get(code=testing.CODES["A"]).kind == "urban"


def test_every_area_write_keeps_the_audit_chain_intact(world: Any) -> None:
    from shequ.core import audit

    grid = services.area_create(
        actor="test",
        code=f"{testing.CODES['C1']}003",
        name="第3网格",
        level=Level.GRID,
        parent=testing.area("C1"),
    )
    services.area_update(actor="test", area=grid, name="第三网格")
    assert audit.verify()[1] == []
