"""Service desk API: the public catalogue and applications, through the same access, policy
and services as the pages.

An application is addressed by its number (BJ20261122-000001) or its id; one the caller may
not see answers 404, exactly like one that does not exist. Every move of the loop is
``POST /api/v1/applications/{id}/actions/{name}/`` with the names of `states.MOVES`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from shequ.accounts.scoping import has_perm
from shequ.core.errors import NotFound
from shequ.servicedesk import policy, selectors, services
from shequ.servicedesk.access import access_applicant, access_application, access_item
from shequ.servicedesk.api.serializers import (
    ApplicationCreateSerializer,
    ApplicationDetailSerializer,
    ApplicationMoveSerializer,
    ApplicationSerializer,
    ServiceItemSerializer,
)
from shequ.servicedesk.filters import ApplicationFilter
from shequ.servicedesk.models import Application, ServiceItem
from shequ.servicedesk.states import MOVES, Channel

APPLICATION_REF = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="application number (BJ20261122-000001) or numeric id",
)
MOVE_NAME = OpenApiParameter(
    "name",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=list(MOVES),
    description="the move: " + ", ".join(MOVES),
)
_MULTIPART = "multipart/form-data"
_FILES = (
    "Upload materials as multipart fields named `material_<code>` (the codes of the item's "
    "`materials`; `material_other` for anything else asked for); PDF, JPG, PNG, HEIC or WebP, "
    "at most 10 MB each."
)


def _invalid(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


def _files(request: Request) -> dict[str, Any]:
    return {
        key.removeprefix("material_"): request.FILES[key]
        for key in request.FILES
        if key.startswith("material_")
    }


class MayApply(BasePermission):
    """Desk staff (`desk.view`) and residents (`desk.apply`)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return has_perm(user, "desk.view") or has_perm(user, "desk.apply")


class ServiceItemViewSet(viewsets.ReadOnlyModelViewSet):
    """The public catalogue of services (no sign-in needed), by code."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = ServiceItemSerializer
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    filter_backends: list[Any] = []

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="search name, department, text"),
            OpenApiParameter("category", OpenApiTypes.STR, description="category code"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ServiceItem]:
        params = self.request.query_params
        return selectors.catalogue(
            q=str(params.get("q", ""))[:40], category=str(params.get("category", ""))[:20]
        )

    def get_object(self) -> ServiceItem:
        return access_item(self.kwargs["code"])


@extend_schema_view(retrieve=extend_schema(parameters=[APPLICATION_REF]))
class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Applications the caller may see: desk staff those of their areas, residents their own."""

    permission_classes = [MayApply]
    filterset_class = ApplicationFilter
    serializer_class = ApplicationSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_url_kwarg = "id"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Application]:
        return selectors.application_list(self.request.user)

    def get_serializer_class(self) -> Any:
        return ApplicationDetailSerializer if self.action == "retrieve" else ApplicationSerializer

    def get_object(self) -> Application:
        return access_application(self.request.user, self.kwargs["id"])

    def _detail(self, application: Application, *, status_code: int = 200) -> Response:
        application = (
            Application.objects.select_related("item", "person", "area")
            .prefetch_related("material_rows")
            .get(pk=application.pk)
        )
        body = ApplicationDetailSerializer(application, context=self.get_serializer_context())
        return Response(body.data, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object())

    @extend_schema(
        request={
            "application/json": ApplicationCreateSerializer,
            _MULTIPART: ApplicationCreateSerializer,
        },
        responses={201: ApplicationDetailSerializer},
        description=(
            "Apply for a service. Missing required materials answer 409 `materials_missing` "
            "with `extra.missing`, the exact list; a channel the caller may not use 409 "
            "`desk_channel_not_allowed`; 代办 without `proxy_authorisation` 409 "
            "`desk_authorisation_required`. " + _FILES
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            item = access_item(values["item"])
        except NotFound as exc:
            raise _invalid("item", _("There is no such service.")) from exc
        person_id = values.get("person") or policy.linked_person_id(request.user)
        if person_id is None:
            raise _invalid("person", _("Give the person's register id."))
        try:
            person = access_applicant(request.user, person_id)
        except NotFound as exc:
            raise _invalid("person", NotFound().message) from exc
        application = services.application_create(
            actor=request.user,
            item=item,
            person=person,
            channel=values.get("channel") or Channel.ONLINE,
            proxy_authorisation=values["proxy_authorisation"],
            form=values["form"],
            files=_files(request),
            seen=values["seen"],
        )
        return self._detail(application, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[APPLICATION_REF, MOVE_NAME],
        request={
            "application/json": ApplicationMoveSerializer,
            _MULTIPART: ApplicationMoveSerializer,
        },
        responses={200: ApplicationDetailSerializer},
        description=(
            "Make one move of the application loop; `allowed_actions` lists the moves the "
            "caller may make now. A move not allowed from the status answers 409 "
            "`invalid_transition`, one that is not the caller's 409 `desk_not_your_move`. "
            "request_materials, refuse and deny need `note` (the reason); forward takes "
            "`forwarded_to` (default: the item's department); rate takes `rating` 1–5; "
            "supplement (the applicant) takes files and/or `note`; staff may send `seen`. " + _FILES
        ),
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<name>[^/.]+)")
    def actions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        application = self.get_object()
        name = str(kwargs["name"])
        if name not in MOVES:
            raise NotFound(_("There is no such action."))
        data = ApplicationMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        application = services.application_move(
            actor=request.user,
            application=application,
            move=name,
            note=values["note"],
            forwarded_to=values["forwarded_to"],
            rating=values.get("rating"),
            files=_files(request),
            seen=values["seen"],
            expected_version=values.get("version"),
        )
        return self._detail(application)
