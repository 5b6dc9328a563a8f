"""Stable error codes of the areas app."""

from enum import StrEnum


class AreaError(StrEnum):
    BAD_LEVEL = "area_bad_level"
    BAD_CODE = "area_bad_code"
    DUPLICATE_CODE = "area_duplicate_code"
    BAD_GEOMETRY = "area_bad_geometry"
