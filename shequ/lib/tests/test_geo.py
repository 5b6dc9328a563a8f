"""GeoJSON polygon checks and centroids (WGS84 lng/lat)."""

from __future__ import annotations

from typing import Any

import pytest

from shequ.lib import geo


def _polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


SQUARE = _polygon([[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]])


def test_the_centroid_of_a_square_is_its_middle() -> None:
    assert geo.centroid(SQUARE) == pytest.approx((1.0, 1.0))


def test_the_centroid_does_not_depend_on_the_winding_order() -> None:
    clockwise = _polygon([[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]])
    assert geo.centroid(clockwise) == pytest.approx((1.0, 1.0))


@pytest.mark.parametrize("size", [0.01, 0.001, 0.0001])
def test_the_centroid_of_a_small_square_far_from_the_origin_stays_precise(size: float) -> None:
    """Grids are ~0.001° and buildings ~0.0001° wide, at lng 120 / lat 30: the centroid must
    still lie in the middle (to 1% of the size), not be lost to floating-point cancellation."""
    x, y = 120.1, 30.2
    square = _polygon([[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]])
    lng, lat = geo.centroid(square)
    assert lng == pytest.approx(x + size / 2, abs=size / 100)
    assert lat == pytest.approx(y + size / 2, abs=size / 100)


def test_the_centroid_of_an_l_shape_is_weighted_by_area() -> None:
    # Two unit squares side by side plus one on top of the left one: (3 squares).
    ell = _polygon([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]])
    lng, lat = geo.centroid(ell)
    assert lng == pytest.approx(5 / 6)
    assert lat == pytest.approx(5 / 6)


def test_the_centroid_of_a_multipolygon_covers_all_its_parts() -> None:
    multi = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
            [[[3, 0], [4, 0], [4, 1], [3, 1], [3, 0]]],
        ],
    }
    assert geo.centroid(multi) == pytest.approx((2.0, 0.5))


def test_a_degenerate_ring_falls_back_to_the_mean_of_its_points() -> None:
    line = _polygon([[0, 0], [2, 0], [4, 0], [0, 0]])
    lng, lat = geo.centroid(line)
    assert lat == pytest.approx(0.0)
    assert 0 <= lng <= 4


def test_a_closed_square_is_valid() -> None:
    geo.validate_polygon(SQUARE)


def test_it_rejects_an_open_ring() -> None:
    with pytest.raises(ValueError, match="closed"):
        geo.validate_polygon(_polygon([[0, 0], [2, 0], [2, 2], [0, 2]]))


def test_it_rejects_a_ring_of_fewer_than_four_points() -> None:
    with pytest.raises(ValueError):
        geo.validate_polygon(_polygon([[0, 0], [2, 0], [0, 0]]))


@pytest.mark.parametrize(
    "point",
    [[181, 0], [-181, 0], [0, 91], [0, -90.5], [3_500_000, 400_000]],
)
def test_it_rejects_coordinates_outside_wgs84(point: list[float]) -> None:
    ring: list[list[float]] = [[0, 0], point, [1, 1], [0, 0]]
    with pytest.raises(ValueError, match="WGS84"):
        geo.validate_polygon(_polygon(ring))


def test_it_rejects_points_that_are_not_pairs() -> None:
    with pytest.raises(ValueError):
        geo.validate_polygon(_polygon([[0, 0], [1], [1, 1], [0, 0]]))


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [0, 0]},
        {"type": "Polygon"},
        {"type": "Polygon", "coordinates": "nope"},
        {},
    ],
)
def test_it_rejects_what_is_not_a_polygon(geometry: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        geo.validate_polygon(geometry)
