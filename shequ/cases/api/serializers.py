"""Cases as the API shows them, and the inputs it accepts. Serializers parse; services decide.

Callers' names and phones are masked, always: the API never returns them in full.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shequ.cases import policy, selectors
from shequ.cases.models import Case, CaseEvent, CasePhoto, CaseTask, Category, SlaUnit, Unit
from shequ.cases.states import Source, Status, Urgency
from shequ.cases.views import event_label
from shequ.registry import pii


def mask_name(name: str) -> str:
    """`张*` / `欧阳**`: the first character and a star for each other one."""
    name = (name or "").strip()
    if len(name) < 2:
        return "*" if name else ""
    return name[0] + "*" * (len(name) - 1)


class EnumField(serializers.ChoiceField):
    """A choice field documented once, as the enum component `enum_name`: `status` and
    `source` are also names of other apps' fields with other choices."""

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


class EnumFieldSchema(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def get_name(self) -> str:
        return str(self.target.enum_name)

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        return schema


def _url(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class CaseSerializer(serializers.ModelSerializer):
    """A row of the case list: where it is in the loop and its deadline (SLA)."""

    category: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    lead_unit: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = EnumField(enum_name="CaseStatusEnum", choices=Status.choices, read_only=True)
    source: Any = EnumField(enum_name="CaseSourceEnum", choices=Source.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    escalation_level = serializers.IntegerField(
        source="level", read_only=True, help_text="0 grid, 1 community, 2 street, 3 district"
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "code",
            "category",
            "category_name",
            "status",
            "status_label",
            "source",
            "urgency",
            "area",
            "area_name",
            "address",
            "lead_unit",
            "stage",
            "light",
            "due_at",
            "escalation_level",
            "supervised",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class CasePhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="served only to who may see the case")

    class Meta:
        model = CasePhoto
        fields = ["id", "kind", "url", "width", "height", "created_at"]

    def get_url(self, photo: CasePhoto) -> str:
        code = self.context["case_code"]
        return _url(self.context, reverse("cases:photo", args=[code, photo.pk]))


class CaseEventSerializer(serializers.ModelSerializer):
    """One step of the timeline."""

    label: Any = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField(help_text="who took the step (blank: the system)")
    unit: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    photos = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "at",
            "kind",
            "label",
            "from_status",
            "to_status",
            "actor",
            "unit",
            "note",
            "data",
            "photos",
        ]

    def get_label(self, event: CaseEvent) -> str:
        return event_label(event.kind)

    def get_actor(self, event: CaseEvent) -> str:
        actor: Any = event.actor
        return str(actor.display_name) if actor is not None else ""

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_photos(self, event: CaseEvent) -> list[int]:
        return [p.pk for p in event.photos.all()]


class CaseTaskSerializer(serializers.ModelSerializer):
    unit: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = CaseTask
        fields = ["id", "unit", "unit_name", "role", "state", "answer", "answered_at"]


class CaseDetailSerializer(CaseSerializer):
    """One case with its timeline, units' tasks, photos and the moves the caller may make."""

    district: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    merged_into: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reporter_name = serializers.SerializerMethodField(help_text="masked, e.g. 张*")
    reporter_phone = serializers.SerializerMethodField(help_text="masked, e.g. 138****5678")
    reported_by_me = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="the names of the moves the caller may make now (POST …/actions/{name}/)"
    )
    timeline = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()
    track_url = serializers.SerializerMethodField(
        help_text="the public page where the reporter follows the case without signing in"
    )

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "description",
            "lat",
            "lng",
            "district",
            "reporter_name",
            "reporter_phone",
            "reported_by_me",
            "answer",
            "rating",
            "rating_comment",
            "on_spot",
            "merged_into",
            "stage_started_at",
            "yellow_at",
            "next_escalation_at",
            "overdue_ever",
            "extension_requested_days",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "allowed_actions",
            "timeline",
            "tasks",
            "photos",
            "track_url",
        ]
        read_only_fields = fields

    def _user(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_reporter_name(self, case: Case) -> str:
        reporter: Any = case.reporter
        name = case.reporter_name or (reporter.full_name if reporter is not None else "")
        return mask_name(name)

    def get_reporter_phone(self, case: Case) -> str:
        return pii.mask_phone(case.reporter_phone)

    def get_reported_by_me(self, case: Case) -> bool:
        return policy.is_reporter(self._user(), case)

    def get_allowed_actions(self, case: Case) -> list[str]:
        return policy.allowed(self._user(), case)

    @extend_schema_field(CaseEventSerializer(many=True))
    def get_timeline(self, case: Case) -> list[dict[str, Any]]:
        # Internal steps (supervision, escalation) are for staff; a reporter sees the rest.
        staff = policy.in_scope(self._user(), "cases.view", case.area.path)
        events = selectors.timeline(case, public=not staff)
        return CaseEventSerializer(events, many=True).data  # type: ignore[return-value]

    @extend_schema_field(CaseTaskSerializer(many=True))
    def get_tasks(self, case: Case) -> list[dict[str, Any]]:
        tasks = case.tasks.select_related("unit")
        return CaseTaskSerializer(tasks, many=True).data  # type: ignore[return-value]

    @extend_schema_field(CasePhotoSerializer(many=True))
    def get_photos(self, case: Case) -> list[dict[str, Any]]:
        context = {**self.context, "case_code": case.code}
        return CasePhotoSerializer(case.photos.all(), many=True, context=context).data  # type: ignore[return-value]

    def get_track_url(self, case: Case) -> str:
        return _url(self.context, reverse("track_case", args=[case.public_token]))


class CaseCreateSerializer(serializers.Serializer):
    """A new report. Give `area` (a grid or community code) or `lat` + `lng` (WGS84)."""

    category = serializers.CharField(max_length=20, help_text="category code, e.g. 0102")
    description = serializers.CharField(max_length=4000)
    area = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="grid or community code"
    )
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    source: Any = serializers.ChoiceField(
        choices=[Source.GRID, Source.DESK, Source.HOTLINE, Source.RESIDENT],
        required=False,
        help_text="staff: grid (default), desk or hotline; everyone else reports as resident",
    )
    reporter_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default="", help_text="staff only"
    )
    reporter_phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text="staff only"
    )
    on_spot_answer = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="resolve on the spot (grid workers, categories that allow it; needs a photo)",
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="multipart only"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        staff = bool(self.context.get("staff"))
        source = attrs.get("source")
        if staff:
            if source == Source.RESIDENT:
                raise serializers.ValidationError(
                    {"source": [_("Staff record a report as grid patrol, desk or hotline.")]}
                )
            attrs["source"] = source or Source.GRID
        else:
            if source not in (None, Source.RESIDENT):
                raise serializers.ValidationError(
                    {"source": [_("Only staff record reports from the desk or the hotline.")]}
                )
            for name in ("reporter_name", "reporter_phone"):
                if attrs.get(name):
                    raise serializers.ValidationError(
                        {name: [_("Only staff record a caller's name and phone.")]}
                    )
            attrs["source"] = Source.RESIDENT
        return attrs


class CaseMoveSerializer(serializers.Serializer):
    """Every move's inputs; each move reads the ones it needs (see the move's description)."""

    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    answer = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    unit = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="", help_text="lead unit code"
    )
    helpers = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        max_length=20,
        help_text="helping unit codes",
    )
    target = serializers.CharField(
        max_length=24,
        required=False,
        allow_blank=True,
        default="",
        help_text="merge: the case number to merge into",
    )
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    days = serializers.IntegerField(min_value=1, max_value=60, required=False, allow_null=True)
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="the version you saw; a 409 case_stale if someone moved the case since",
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="multipart only"
    )


class TaskAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=4000)


class CategoryChildSerializer(serializers.ModelSerializer):
    parent: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "code",
            "name",
            "parent",
            "urgency",
            "sla_unit",
            "accept_sla",
            "dispatch_sla",
            "handle_sla",
            "verify_sla",
            "yellow_percent",
            "escalate_after",
            "on_spot",
            "public",
            "active",
            "sort",
        ]
        read_only_fields = fields


class CategorySerializer(CategoryChildSerializer):
    """A category with its deadlines per stage (in `sla_unit`) and its children."""

    children = serializers.SerializerMethodField()

    class Meta(CategoryChildSerializer.Meta):
        fields = [*CategoryChildSerializer.Meta.fields, "children"]
        read_only_fields = fields

    @extend_schema_field(CategoryChildSerializer(many=True))
    def get_children(self, category: Category) -> list[dict[str, Any]]:
        # The view lists the children the caller may see (inactive ones for configurers only).
        children = getattr(category, "listed_children", None)
        if children is None:
            children = category.children.order_by("sort", "code")
        return CategoryChildSerializer(children, many=True).data  # type: ignore[return-value]


class CategoryWriteSerializer(serializers.Serializer):
    """A category's fields on update (any of them; the code cannot change)."""

    code = serializers.RegexField(r"^[0-9A-Za-z]{1,20}$", max_length=20, required=False)
    name = serializers.CharField(max_length=60, required=False)
    parent: Any = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True, help_text="parent code"
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    sla_unit = serializers.ChoiceField(choices=SlaUnit.choices, required=False)
    accept_sla = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    dispatch_sla = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    handle_sla = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    verify_sla = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    yellow_percent = serializers.IntegerField(min_value=1, max_value=99, required=False)
    escalate_after = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    on_spot = serializers.BooleanField(required=False)
    public = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)
    sort = serializers.IntegerField(min_value=0, max_value=32_767, required=False)


class CategoryCreateSerializer(CategoryWriteSerializer):
    code = serializers.RegexField(r"^[0-9A-Za-z]{1,20}$", max_length=20)
    name = serializers.CharField(max_length=60)


class UnitSerializer(serializers.ModelSerializer):
    """A handling unit (居委会, 街道办, 城管 …) with the area it serves."""

    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "code", "name", "kind", "area", "area_name", "active"]
        read_only_fields = fields
