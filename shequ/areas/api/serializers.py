from __future__ import annotations

from typing import Any

from rest_framework import serializers

from shequ.areas import selectors
from shequ.areas.models import Area, Level


class AreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)  # type: ignore[assignment,var-annotated]
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    centroid = serializers.SerializerMethodField(help_text="[longitude, latitude] in WGS84")

    class Meta:
        model = Area
        fields = [
            "code",
            "name",
            "level",
            "level_label",
            "kind",
            "kind_label",
            "parent",
            "depth",
            "centroid",
        ]

    def get_centroid(self, area: Area) -> list[float] | None:
        if area.centroid_lng is None or area.centroid_lat is None:
            return None
        return [area.centroid_lng, area.centroid_lat]


class AreaChildSerializer(serializers.ModelSerializer):
    class Meta:
        model = Area
        fields = ["code", "name", "level"]


class AreaDetailSerializer(AreaSerializer):
    children = AreaChildSerializer(many=True, read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta(AreaSerializer.Meta):
        fields = [*AreaSerializer.Meta.fields, "geometry", "counts", "children"]

    def get_counts(self, area: Area) -> dict[str, Any]:
        counts = selectors.subtree_counts(area)
        result: dict[str, Any] = {level: counts.level(level) for level in Level.values}
        result["grid_workers"] = counts.grid_workers
        result["grid_coverage_percent"] = counts.grid_coverage
        return result
