"""Small geometry helpers on GeoJSON polygons (WGS84 lng/lat)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon" and isinstance(coords, list):
        return [coords[0]] if coords else []
    if kind == "MultiPolygon" and isinstance(coords, list):
        return [polygon[0] for polygon in coords if polygon]
    raise ValueError("geometry must be a GeoJSON Polygon or MultiPolygon")


def validate_polygon(geometry: dict[str, Any]) -> None:
    """Raise ValueError unless `geometry` is a closed WGS84 (Multi)Polygon."""
    for ring in _rings(geometry):
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise ValueError("each ring needs at least four points and must be closed")
        for point in ring:
            if not (isinstance(point, list | tuple) and len(point) >= 2):
                raise ValueError("each point must be [longitude, latitude]")
            lng, lat = float(point[0]), float(point[1])
            if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                raise ValueError("coordinates must be WGS84 longitude/latitude")


def centroid(geometry: dict[str, Any]) -> tuple[float, float]:
    """Area-weighted centroid (lng, lat) of the outer rings (planar; fine at city scale).

    Coordinates are taken relative to the first point so small polygons far from (0, 0) —
    a building at lng 120 — keep their precision.
    """
    rings = _rings(geometry)
    ox, oy = float(rings[0][0][0]), float(rings[0][0][1])
    total_area = cx = cy = 0.0
    for ring in rings:
        shifted = [(float(p[0]) - ox, float(p[1]) - oy) for p in ring]
        for (x0, y0), (x1, y1) in pairwise(shifted):
            cross = x0 * y1 - x1 * y0
            total_area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
    if abs(total_area) < 1e-15:
        points = [p for ring in _rings(geometry) for p in ring]
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    return ox + cx / (3 * total_area), oy + cy / (3 * total_area)


def contains(geometry: dict[str, Any], lng: float, lat: float) -> bool:
    """Whether the point lies inside the (Multi)Polygon's outer rings (ray casting)."""
    for ring in _rings(geometry):
        inside = False
        for (x0, y0), (x1, y1) in pairwise((float(p[0]), float(p[1])) for p in ring):
            if (y0 > lat) != (y1 > lat) and lng < (x1 - x0) * (lat - y0) / (y1 - y0) + x0:
                inside = not inside
        if inside:
            return True
    return False


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    from math import asin, cos, radians, sin, sqrt

    dlat, dlng = radians(lat2 - lat1), radians(lng2 - lng1)
    a = sin(dlat / 2) ** 2 + cos(radians(lat1)) * cos(radians(lat2)) * sin(dlng / 2) ** 2
    return 2 * 6_371_000 * asin(sqrt(a))
