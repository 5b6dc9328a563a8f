"""Register API: the same scoping, services and masking as the pages."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from shequ.areas.access import access_area
from shequ.core.api import HasPerm, Pagination
from shequ.core.errors import NotFound
from shequ.registry import selectors, services
from shequ.registry.access import access_building, access_person
from shequ.registry.api.serializers import (
    AddressResolutionSerializer,
    AddressResolveSerializer,
    BuildingSerializer,
    DwellingSerializer,
    HouseholdSerializer,
    ImportBatchSerializer,
    ImportUploadSerializer,
    OrganisationSerializer,
    OrganisationWriteSerializer,
    PersonDetailSerializer,
    PersonSerializer,
    PersonWriteSerializer,
    UnmaskSerializer,
    UnresolvedAddressSerializer,
)
from shequ.registry.filters import (
    DwellingFilter,
    OrganisationFilter,
    PersonFilter,
    UnresolvedAddressFilter,
)
from shequ.registry.imports import import_people
from shequ.registry.models import (
    Building,
    Dwelling,
    Household,
    ImportBatch,
    Organisation,
    Person,
)


class PeoplePagination(Pagination):
    """Pages of a person search, whose count stops past `SEARCH_COUNT_CAP` (1,000) people.

    `count_capped` is true when more than 1,000 people match: `count` is then 1,001, a lower
    bound and not the number of matches (show it as "1000+"); the pages reach that far. An
    integer `count` keeps every client that pages by it working.
    """

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        paginator = self.page.paginator if self.page is not None else None
        people = paginator.object_list if paginator is not None else None
        capped = bool(
            paginator is not None
            and isinstance(people, selectors.PersonResults)
            and people.count_is_capped(paginator.count)
        )
        response.data["count_capped"] = capped
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = [*paged["required"], "count_capped"]
        cap = selectors.SEARCH_COUNT_CAP
        paged["properties"]["count"]["description"] = (
            f"People found, counted up to {cap + 1}: with count_capped, a lower bound."
        )
        paged["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f'More than {cap} people match: show the count as "{cap}+".',
        }
        return paged


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
    pagination_class = PeoplePagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Person]:
        people = selectors.person_list(visible_to=self.request.user).select_related("household")
        return people.prefetch_related(selectors.active_tags_prefetch(self.request.user))

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

    def _require(self, perm: str) -> None:
        if not HasPerm.of(perm)().has_permission(self.request, self):
            self.permission_denied(self.request)

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
    """Standard addresses down to the room (dwellings); `q` searches them."""

    model = Dwelling
    serializer_class = DwellingSerializer

    @property
    def filterset_class(self) -> Any:
        unresolved = getattr(self, "action", None) == "unresolved"
        return UnresolvedAddressFilter if unresolved else DwellingFilter

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "action", None) == "unresolved":
            return selectors.unresolved_people(visible_to=self.request.user)
        return super().get_queryset()

    @extend_schema(responses={200: UnresolvedAddressSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def unresolved(self, request: Request) -> Response:
        """Address texts from imports that match no standard address, with the number of
        people waiting on each (needs `registry.edit`)."""
        self._require("registry.edit")
        people = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(selectors.unresolved_addresses(people))
        return self.get_paginated_response(UnresolvedAddressSerializer(page, many=True).data)

    @extend_schema(request=AddressResolveSerializer, responses={200: AddressResolutionSerializer})
    @action(detail=False, methods=["post"], filter_backends=[])
    def resolve(self, request: Request) -> Response:
        """Link everybody waiting on `raw` to a registered standard address (`dwelling`) or to
        a room registered now (`building` + `room`, optional `unit`); audited per person."""
        self._require("registry.edit")
        data = AddressResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if bool(values.get("dwelling")) == bool(values.get("building")):
            message = _(
                "Give either dwelling (a registered standard address) or building and room."
            )
            raise serializers.ValidationError({"dwelling": [message]})
        target: dict[str, Any]
        if values.get("dwelling"):
            target = {"dwelling": selectors.access_dwelling(request.user, values["dwelling"])}
        else:
            building = access_building(request.user, values["building"])
            target = {"building": building, "unit": values["unit"], "room": values["room"]}
        result = services.address_resolve(
            actor=request.user, raw=values["raw"], source="api", **target
        )
        body = {
            "raw": result.raw,
            "dwelling": DwellingSerializer(result.dwelling).data,
            "created": result.created,
            "people": [p.pk for p in result.people],
        }
        return Response(body)


class BuildingViewSet(_ScopedReadOnly):
    model = Building
    serializer_class = BuildingSerializer


class HouseholdViewSet(_ScopedReadOnly):
    model = Household
    serializer_class = HouseholdSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("members")


class OrganisationViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, _ScopedReadOnly):
    """Organisations (驻区单位, 社会组织, 物业企业, 商户); phones masked. Writes need
    `registry.edit` and go through the same services as the pages."""

    model = Organisation
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.organisation_list(visible_to=self.request.user)

    def get_serializer_class(self) -> Any:
        if self.action in ("create", "partial_update", "update"):
            return OrganisationWriteSerializer
        return OrganisationSerializer

    def _area(self, code: str) -> Any:
        try:
            return access_area(self.request.user, code)
        except NotFound as exc:
            raise serializers.ValidationError({"area": [exc.message]}) from exc

    @extend_schema(request=OrganisationWriteSerializer, responses={201: OrganisationSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require("registry.edit")
        data = OrganisationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        missing = [k for k in ("area", "kind", "name") if not fields.get(k)]
        if missing:
            raise serializers.ValidationError(
                {k: [_("This field is required for a new organisation.")] for k in missing}
            )
        area = self._area(fields.pop("area"))
        organisation = services.organisation_create(actor=request.user, area=area, **fields)
        body = OrganisationSerializer(self.get_queryset().get(pk=organisation.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=OrganisationWriteSerializer, responses={200: OrganisationSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require("registry.edit")
        organisation = self.get_object()
        data = OrganisationWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        code = fields.pop("area", None)
        services.organisation_update(
            actor=request.user,
            organisation=organisation,
            area=self._area(code) if code else None,
            **fields,
        )
        return Response(OrganisationSerializer(self.get_queryset().get(pk=organisation.pk)).data)


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
