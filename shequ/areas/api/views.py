from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from shequ.areas import selectors
from shequ.areas.access import access_area
from shequ.areas.api.serializers import AreaDetailSerializer, AreaSerializer
from shequ.areas.filters import AreaFilter
from shequ.areas.models import Area
from shequ.core.api import HasPerm


class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    """Areas the caller may see; `/areas/{code}/` answers 404 for any other code."""

    permission_classes = [HasPerm.of("areas.browse")]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = AreaFilter
    serializer_class = AreaSerializer

    def get_queryset(self) -> QuerySet[Area]:
        return selectors.area_list(visible_to=self.request.user)

    def get_serializer_class(self) -> Any:
        return AreaDetailSerializer if self.action == "retrieve" else AreaSerializer

    def get_object(self) -> Area:
        area = access_area(self.request.user, self.kwargs["code"])
        area = Area.objects.select_related("parent").prefetch_related("children").get(pk=area.pk)
        self.check_object_permissions(self.request, area)
        return area
