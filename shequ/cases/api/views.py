"""Cases API: the same access, policy and services as the pages.

A case is addressed by its number (SJ20261122-000001) or its id; one the caller may not see
answers 404, exactly like one that does not exist. Every move of the loop is
``POST /api/v1/cases/{id}/actions/{name}/`` with the names of `states.MOVES`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from shequ.accounts.scoping import has_perm, memberships, scope_q_for_paths
from shequ.areas.models import Area
from shequ.cases import policy, selectors, services, services_config
from shequ.cases.access import CODE_RE, access_case, access_category, access_task, access_unit
from shequ.cases.api import render
from shequ.cases.api.serializers import (
    CaseCreateSerializer,
    CaseDetailSerializer,
    CaseMoveSerializer,
    CaseSerializer,
    CategoryCreateSerializer,
    CategorySerializer,
    CategoryWriteSerializer,
    TaskAnswerSerializer,
    UnitSerializer,
)
from shequ.cases.errors import CaseError
from shequ.cases.filters import CaseFilter
from shequ.cases.models import Case, Category, Unit
from shequ.cases.states import MOVES
from shequ.core.api import HasPerm
from shequ.core.errors import DomainError, NotFound

CASE_REF = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="case number (SJ20261122-000001) or numeric id",
)
MOVE_NAME = OpenApiParameter(
    "name",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=list(MOVES),
    description="the move: " + ", ".join(MOVES),
)
TASK_ID = OpenApiParameter("task_id", OpenApiTypes.INT, OpenApiParameter.PATH)
_MULTIPART = "multipart/form-data"


def _invalid(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


@extend_schema_view(retrieve=extend_schema(parameters=[CASE_REF]))
class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Cases the caller may see: staff those of their areas, everyone the cases they reported."""

    permission_classes = [HasPerm.of("cases.report")]
    filterset_class = CaseFilter
    serializer_class = CaseSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    lookup_url_kwarg = "id"
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.case_list(self.request.user)

    def get_serializer_class(self) -> Any:
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    def get_object(self) -> Case:
        return access_case(self.request.user, self.kwargs["id"])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The cases the caller may see, newest first, filtered with the shared filter set."""
        cases = selectors.case_rows(request.user)
        if request.query_params:  # without any, the filter set has nothing to do
            cases = self.filter_queryset(cases)
        page = self.paginate_queryset(cases)
        rows = render.case_rows(page if page is not None else cases)
        return self.get_paginated_response(rows) if page is not None else Response(rows)

    def _detail(
        self, case: Case, *, status_code: int = status.HTTP_200_OK, known_empty: bool = False
    ) -> Response:
        """The case as services and `access_case` return it (not fetched again), with its
        timeline, tasks and photos read in one query each (`known_empty`: no tasks or photos,
        so not read)."""
        user = self.request.user
        # Internal steps (supervision, escalation) are for staff; a reporter sees the rest.
        staff = policy.in_scope(user, "cases.view", case.area.path)
        body = render.case_detail(
            case,
            request=self.request,
            events=selectors.timeline(case, public=not staff).prefetch_related(None),
            tasks=[] if known_empty else case.tasks.select_related("unit"),
            photos=[] if known_empty else case.photos.order_by("id"),
        )
        return Response(body, status=status_code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object())

    @extend_schema(
        request={
            "application/json": CaseCreateSerializer,
            _MULTIPART: CaseCreateSerializer,
        },
        responses={201: CaseDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Report a problem (multipart with `photos` to attach them)."""
        staff = has_perm(request.user, "cases.view")
        data = CaseCreateSerializer(data=request.data, context={"staff": staff})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            category = access_category(values.pop("category"))
        except NotFound as exc:
            raise _invalid("category", _("Choose a specific, active category.")) from exc
        code = values.pop("area", "") or ""
        area = None
        if code:
            area = Area.objects.filter(code=code).first() if code.isascii() else None
            if area is None:
                # The same answer as for an area one may not report in: codes are not probed.
                raise DomainError(
                    CaseError.BAD_AREA,
                    _("You may not report cases in this area."),
                    {"field": "area"},
                )
        case = services.case_create(actor=request.user, category=category, area=area, **values)
        # A report without photos, not resolved on the spot, has no photos and no tasks yet.
        known_empty = not values.get("photos") and not values.get("on_spot_answer", "").strip()
        return self._detail(case, status_code=status.HTTP_201_CREATED, known_empty=known_empty)

    def _unit(self, case: Case, code: str) -> Unit:
        try:
            return access_unit(None, code, district_path=case.district.path)
        except NotFound as exc:
            raise _invalid("unit", _("Choose an active unit of this district.")) from exc

    def _target(self, code: str) -> Case | None:
        code = code.strip().upper()
        if not code:
            return None
        if not CODE_RE.match(code):
            raise _invalid("target", _("Enter a case number like SJ20261122-000001."))
        try:
            return access_case(self.request.user, code)
        except NotFound as exc:
            raise _invalid("target", NotFound().message) from exc

    @extend_schema(
        parameters=[CASE_REF, MOVE_NAME],
        request={"application/json": CaseMoveSerializer, _MULTIPART: CaseMoveSerializer},
        responses={200: CaseDetailSerializer},
        description=(
            "Make one move of the case loop; `allowed_actions` on the case lists the moves the "
            "caller may make now. A move not allowed from the case's status answers 409 "
            "`invalid_transition`, a move that is not the caller's 409 `case_not_your_move`. "
            "Inputs per move: reject/return/redo/shelve/reopen/supervise/escalate need `note`; "
            "dispatch takes `unit` (default: the routing rule) and `helpers`; merge `target`; "
            "resolve `answer` and `photos`; rate `rating` (1–5) and `note`; extend_request "
            "`days`. Send `version` to refuse the move if someone changed the case since."
        ),
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<name>[^/.]+)")
    def actions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = access_case(request.user, self.kwargs["id"], to_move=True)
        name = str(kwargs["name"])
        if name not in MOVES:
            raise NotFound(_("There is no such action."))
        data = CaseMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        case = services.case_move(
            actor=request.user,
            case=case,
            move=name,
            note=values["note"],
            answer=values["answer"],
            unit=self._unit(case, values["unit"]) if values["unit"] else None,
            helpers=[self._unit(case, code) for code in values["helpers"] if code.strip()],
            target=self._target(values["target"]),
            rating=values.get("rating"),
            days=values.get("days"),
            photos=values["photos"],
            expected_version=values.get("version"),
        )
        return self._detail(case)

    @extend_schema(
        parameters=[CASE_REF, TASK_ID],
        request=TaskAnswerSerializer,
        responses={200: CaseDetailSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"tasks/(?P<task_id>[0-9]+)/answer",
        parser_classes=[JSONParser, FormParser],
    )
    def answer_task(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A helping unit answers its share of the case (协同处置)."""
        case = self.get_object()
        task = access_task(request.user, case, kwargs["task_id"])
        data = TaskAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_task_answer(
            actor=request.user, task=task, answer=data.validated_data["answer"]
        )
        return self._detail(case)


class CategoryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The category tree with deadlines per stage. Anyone signed in reads it; changes need
    `cases.configure` and are audited."""

    permission_classes = [HasPerm.of("cases.report")]
    serializer_class = CategorySerializer
    lookup_field = "code"
    lookup_value_regex = "[0-9A-Za-z]+"
    pagination_class = None
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _configurer(self) -> bool:
        return has_perm(self.request.user, "cases.configure")

    def get_queryset(self) -> QuerySet[Category]:
        categories = Category.objects.select_related("parent").order_by("sort", "code")
        if not self._configurer():
            categories = categories.filter(active=True)
        return categories

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Top-level categories, each with its children (inactive ones for configurers only)."""
        children = self.get_queryset().exclude(parent=None)
        roots = (
            self.get_queryset()
            .filter(parent=None)
            .prefetch_related(Prefetch("children", queryset=children, to_attr="listed_children"))
        )
        return Response(CategorySerializer(roots, many=True).data)

    def get_object(self) -> Category:
        category = self.get_queryset().filter(code=str(self.kwargs["code"])).first()
        if category is None:
            raise NotFound()
        return category

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        category = self.get_object()
        category.listed_children = list(self.get_queryset().filter(parent=category))  # type: ignore[attr-defined]
        return Response(CategorySerializer(category).data)

    def _require_configure(self) -> None:
        if not self._configurer():
            self.permission_denied(self.request)

    def _parent(self, code: str | None) -> Category | None:
        if not code:
            return None
        parent = Category.objects.filter(code=code).first()
        if parent is None:
            raise _invalid("parent", NotFound().message)
        return parent

    @extend_schema(request=CategoryCreateSerializer, responses={201: CategorySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_configure()
        data = CategoryCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        parent = self._parent(fields.pop("parent", None))
        category = services_config.category_create(actor=request.user, parent=parent, **fields)
        return Response(CategorySerializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CategoryWriteSerializer, responses={200: CategorySerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_configure()
        category = self.get_object()
        data = CategoryWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "code" in fields and fields.pop("code") != category.code:
            raise _invalid("code", _("A category's code cannot change: cases cite it."))
        if "parent" in fields:
            fields["parent"] = self._parent(fields["parent"])
        category = services_config.category_update(actor=request.user, category=category, **fields)
        return Response(CategorySerializer(category).data)


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Handling units of the caller's district(s): the ones a case may be dispatched to."""

    permission_classes = [HasPerm.of("cases.view")]
    serializer_class = UnitSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Unit]:
        units = Unit.objects.select_related("area").order_by("area__path", "kind", "name")
        user = self.request.user
        if user.is_superuser:
            return units
        # Units are not secret inside a district: any staff member may dispatch to any of them.
        districts = {m.area.path[:8] for m in memberships(user)}
        return units.filter(scope_q_for_paths(districts, "area__path"))

    def get_object(self) -> Unit:
        unit = self.get_queryset().filter(code=str(self.kwargs["code"])).first()
        if unit is None:
            raise NotFound()
        return unit
