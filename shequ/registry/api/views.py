"""Register API: the same scoping, services and masking as the pages."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from shequ.areas.access import access_area
from shequ.core.api import HasPerm
from shequ.core.errors import NotFound
from shequ.registry import selectors, services
from shequ.registry.access import access_person
from shequ.registry.api.serializers import (
    BuildingSerializer,
    DwellingSerializer,
    HouseholdSerializer,
    ImportBatchSerializer,
    ImportUploadSerializer,
    OrganisationSerializer,
    PersonDetailSerializer,
    PersonSerializer,
    PersonWriteSerializer,
    UnmaskSerializer,
)
from shequ.registry.filters import PersonFilter
from shequ.registry.imports import import_people
from shequ.registry.models import (
    Building,
    Dwelling,
    Household,
    ImportBatch,
    Organisation,
    Person,
)


class PersonViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """People in the caller's areas; ID numbers and phones are masked (see `unmask`)."""

    permission_classes = [HasPerm.of("registry.view")]
    filterset_class = PersonFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Person]:
        return selectors.person_list(visible_to=self.request.user).prefetch_related(
            selectors.active_tags_prefetch(self.request.user)
        )

    def get_serializer_class(self) -> Any:
        if self.action in ("create", "partial_update", "update"):
            return PersonWriteSerializer
        return PersonDetailSerializer if self.action == "retrieve" else PersonSerializer

    def get_object(self) -> Person:
        person = access_person(self.request.user, self.kwargs["pk"])
        return self.get_queryset().get(pk=person.pk)

    def _require(self, perm: str) -> None:
        if not HasPerm.of(perm)().has_permission(self.request, self):
            self.permission_denied(self.request)

    @extend_schema(request=PersonWriteSerializer, responses={201: PersonDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require("registry.edit")
        data = PersonWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("version", None)
        code = fields.pop("area", None)
        if not code:
            raise serializers.ValidationError({"area": ["请指定网格或小区编码。"]})
        try:
            area = access_area(request.user, code)
        except NotFound as exc:
            raise serializers.ValidationError({"area": [exc.message]}) from exc
        person = services.person_create(actor=request.user, area=area, source="api", **fields)
        body = PersonDetailSerializer(self.get_queryset().get(pk=person.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=PersonWriteSerializer, responses={200: PersonDetailSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require("registry.edit")
        person = self.get_object()
        data = PersonWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("area", None)
        version = fields.pop("version", None)
        if version is None:
            raise serializers.ValidationError({"version": ["更新时须提供当前版本号 version。"]})
        services.person_update(
            actor=request.user, person=person, expected_version=version, source="api", **fields
        )
        return Response(PersonDetailSerializer(self.get_queryset().get(pk=person.pk)).data)

    @extend_schema(
        request=UnmaskSerializer,
        responses={
            200: inline_serializer(
                "Unmasked", {"field": serializers.CharField(), "value": serializers.CharField()}
            )
        },
    )
    @action(detail=True, methods=["post"])
    def unmask(self, request: Request, pk: str | None = None) -> Response:
        """Show one personal number in full; needs `registry.unmask` and a reason (audited)."""
        person = self.get_object()
        self._require("registry.unmask")
        data = UnmaskSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        value = services.person_unmask(
            actor=request.user,
            person=person,
            field=data.validated_data["field"],
            reason=data.validated_data["reason"],
        )
        return Response({"field": data.validated_data["field"], "value": value})


class _ScopedReadOnly(viewsets.ReadOnlyModelViewSet):
    permission_classes = [HasPerm.of("registry.view")]
    model: Any = None
    related: tuple[str, ...] = ("area",)

    def get_queryset(self) -> QuerySet[Any]:
        return (
            self.model.objects.visible_to(self.request.user)
            .select_related(*self.related)
            .order_by("pk")
        )

    def get_object(self) -> Any:
        pk = str(self.kwargs["pk"])
        if not pk.isascii() or not pk.isdigit():
            raise NotFound()
        obj = self.get_queryset().filter(pk=int(pk)).first()
        if obj is None:
            raise NotFound()
        return obj


class AddressViewSet(_ScopedReadOnly):
    """Standard addresses down to the room (dwellings)."""

    model = Dwelling
    serializer_class = DwellingSerializer
    filterset_fields = ["building", "use"]


class BuildingViewSet(_ScopedReadOnly):
    model = Building
    serializer_class = BuildingSerializer


class HouseholdViewSet(_ScopedReadOnly):
    model = Household
    serializer_class = HouseholdSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("members")


class OrganisationViewSet(_ScopedReadOnly):
    model = Organisation
    serializer_class = OrganisationSerializer
    filterset_fields = ["kind"]


class ImportViewSet(_ScopedReadOnly):
    """Imports of department lists. POST a file (multipart) to check it, or with `commit=true`
    to write it; the answer is the import report (`rows, new, matched, …, errors`)."""

    permission_classes = [HasPerm.of("registry.import")]
    model = ImportBatch
    related = ("area", "source")
    serializer_class = ImportBatchSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={200: inline_serializer("ImportReport", {"rows": serializers.IntegerField()})},
    )
    def create(self, request: Request) -> Response:
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            area = access_area(request.user, data.validated_data["area"])
        except NotFound as exc:
            raise serializers.ValidationError({"area": [exc.message]}) from exc
        upload = data.validated_data["file"]
        suffix = Path(upload.name or "").suffix.lower() or ".xlsx"
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
            tmp.flush()
            report = import_people(
                actor=request.user,
                path=tmp.name,
                source_name=data.validated_data["source"],
                area=area,
                sheet=data.validated_data.get("sheet") or None,
                commit=data.validated_data["commit"],
            )
        body = report.as_json()
        body["file_name"] = upload.name
        return Response(body, status=status.HTTP_201_CREATED if report.committed else 200)
