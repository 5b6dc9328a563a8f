"""Eligibility API: the outreach results (`/api/v1/eligibility/`) and the rules
(`/api/v1/eligibility-rules/`), through the same selectors, policy and services as the pages.

Results are scoped by area like every resident's data; one the caller may not see answers 404.
A rule's expressions are checked exactly as in the editor: an invalid one answers 400
``{"code": "invalid", "fields": {"expression": ["… at line 1, column 12"]}}``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from shequ.cases.api.serializers import EnumField, mask_name
from shequ.core.api import HasPerm
from shequ.servicedesk import eligibility
from shequ.servicedesk.forms_eligibility import EXPRESSION_HELP, EntitlementFilter
from shequ.servicedesk.models import EligibilityRule, Entitlement, OutreachState, ServiceItem
from shequ.servicedesk.rules import RuleError

ENTITLEMENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class EntitlementSerializer(serializers.ModelSerializer):
    """A resident a rule found entitled, and where reaching them stands. Names are masked."""

    rule: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    item = serializers.SerializerMethodField()
    person_name = serializers.SerializerMethodField(help_text="masked: 张*")
    age = serializers.IntegerField(source="person.age", read_only=True, allow_null=True)
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    state = EnumField(
        enum_name="EntitlementStateEnum", choices=OutreachState.choices, read_only=True
    )
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    assignee: Any = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text="the grid worker (null: none)"
    )
    allowed_states = serializers.SerializerMethodField(
        help_text="states the caller may move the task to now"
    )

    class Meta:
        model = Entitlement
        fields = [
            "id",
            "rule",
            "rule_name",
            "item",
            "person",
            "person_name",
            "age",
            "area",
            "area_name",
            "state",
            "state_label",
            "assignee",
            "still_entitled",
            "note",
            "contacted_at",
            "created_at",
            "updated_at",
            "allowed_states",
        ]
        read_only_fields = fields

    def get_item(self, obj: Entitlement) -> str | None:
        return obj.rule.item.code if obj.rule.item is not None else None

    def get_person_name(self, obj: Entitlement) -> str:
        return mask_name(obj.person.name)

    def get_allowed_states(self, obj: Entitlement) -> list[str]:
        request = self.context.get("request")
        return eligibility.outreach_moves(request.user, obj) if request is not None else []


class OutreachSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[(s, OutreachState(s).label) for s in eligibility.OUTREACH_MOVES]
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class _ExpressionField(serializers.CharField):
    def __init__(self, *, allow_empty: bool, **kwargs: Any) -> None:
        self.allow_empty = allow_empty
        super().__init__(max_length=2000, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = str(super().to_internal_value(data))
        error = eligibility.expression_error(value, allow_empty=self.allow_empty)
        if error:
            raise serializers.ValidationError(error)
        return value


class RuleSerializer(serializers.ModelSerializer):
    """A rule: who is entitled and who already receives the service, as expressions."""

    expression = _ExpressionField(allow_empty=False, help_text=str(EXPRESSION_HELP))
    receiving = _ExpressionField(allow_empty=True, required=False, allow_blank=True, default="")
    item: Any = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ServiceItem.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )

    class Meta:
        model = EligibilityRule
        fields = [
            "code",
            "name",
            "expression",
            "receiving",
            "item",
            "outreach",
            "notice",
            "active",
            "last_run_at",
        ]
        read_only_fields = ["last_run_at"]
        extra_kwargs = {
            "code": {"validators": []},  # the service says when a code is taken (409)
            "outreach": {"required": False},
            "notice": {"required": False},
            "active": {"required": False},
        }

    def validate_code(self, value: str) -> str:
        if self.instance is not None and value != self.instance.code:
            raise serializers.ValidationError(_("The code of a rule cannot change."))
        return value


class CheckSerializer(serializers.Serializer):
    expression = _ExpressionField(allow_empty=False)
    receiving = _ExpressionField(allow_empty=True, required=False, allow_blank=True, default="")
    item: Any = serializers.SlugRelatedField(
        slug_field="code", queryset=ServiceItem.objects.all(), required=False, allow_null=True
    )


class CheckResultSerializer(serializers.Serializer):
    entitled = serializers.IntegerField(help_text="active residents in your areas matching now")
    receiving = serializers.IntegerField(help_text="of them, already receiving the service")


@extend_schema_view(retrieve=extend_schema(parameters=[ENTITLEMENT_ID]))
class EntitlementViewSet(viewsets.ReadOnlyModelViewSet):
    """Outreach results in the caller's areas: filter by `rule`, `state`, `area`, `mine`;
    by default only residents the last run still found entitled (`still_entitled=false` for
    the others)."""

    permission_classes = [HasPerm.of("eligibility.view")]
    serializer_class = EntitlementSerializer
    filterset_class = EntitlementFilter
    lookup_url_kwarg = "id"

    def get_queryset(self) -> QuerySet[Entitlement]:
        return eligibility.entitlement_list(self.request.user).order_by("rule__code", "pk")

    def get_object(self) -> Entitlement:
        return eligibility.access_entitlement(self.request.user, self.kwargs["id"])

    @extend_schema(
        parameters=[ENTITLEMENT_ID],
        request=OutreachSerializer,
        responses={200: EntitlementSerializer},
        description=(
            "Record what came of reaching the resident: `contacted`, `declined` or `applied` "
            "(grid workers for their grid, community staff for their community). A move not "
            "allowed from the current state answers 409 `invalid_transition`; one that is not "
            "the caller's 409 `eligibility_not_yours`."
        ),
    )
    @action(detail=True, methods=["post"], url_path="state")
    def state(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entitlement = self.get_object()
        data = OutreachSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        eligibility.entitlement_update(
            actor=request.user,
            entitlement=entitlement,
            state=data.validated_data["state"],
            note=data.validated_data["note"],
        )
        fresh = self.get_object()
        return Response(self.get_serializer(fresh).data)


class MayConfigure(HasPerm):
    """Reading rules needs eligibility.view; writing them eligibility.configure."""

    def has_permission(self, request: Request, view: Any) -> bool:
        write = request.method not in ("GET", "HEAD", "OPTIONS")
        self.perm = "eligibility.configure" if write else "eligibility.view"
        return super().has_permission(request, view)


class RuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The eligibility rules, by code. District civil affairs create and change them; a rule is
    switched off with `active: false`, never deleted (its results stay)."""

    permission_classes = [MayConfigure]
    serializer_class = RuleSerializer
    lookup_field = "code"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[EligibilityRule]:
        return EligibilityRule.objects.select_related("item").order_by("code")

    def get_object(self) -> EligibilityRule:
        return eligibility.access_rule(self.request.user, self.kwargs["code"])

    def perform_create(self, serializer: Any) -> None:
        values = serializer.validated_data
        serializer.instance = eligibility.rule_create(
            actor=self.request.user,
            code=values["code"],
            name=values["name"],
            expression=values["expression"],
            receiving=values.get("receiving", ""),
            item=values.get("item"),
            outreach=values.get("outreach", ""),
            notice=values.get("notice", ""),
            active=values.get("active", True),
        )

    def perform_update(self, serializer: Any) -> None:
        values = {
            k: v for k, v in serializer.validated_data.items() if k in eligibility.RULE_FIELDS
        }
        serializer.instance = eligibility.rule_update(
            actor=self.request.user, rule=serializer.instance, **values
        )

    @extend_schema(
        request=CheckSerializer,
        responses={200: CheckResultSerializer},
        description="Check expressions without saving: 400 with the error and its position, "
        "or how many active residents in your areas match now.",
    )
    @action(detail=False, methods=["post"])
    def check(self, request: Request) -> Response:
        data = CheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            entitled, receiving = eligibility.matching_count(
                actor=request.user,
                expression=values["expression"],
                receiving=values["receiving"],
                item=values.get("item"),
            )
        except RuleError as exc:  # a tag removed between the two checks
            raise serializers.ValidationError({"expression": [eligibility.message(exc)]}) from exc
        return Response({"entitled": entitled, "receiving": receiving})
