"""The catalogue and applications as the API shows them, and the inputs it accepts.
Serializers parse; services decide. Identity numbers and phones are masked, always."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from shequ.cases.api.serializers import EnumField
from shequ.servicedesk import policy, selectors, services
from shequ.servicedesk.models import Application, ApplicationEvent, ServiceItem
from shequ.servicedesk.states import Channel, ItemCategory, Status
from shequ.servicedesk.views import event_label


def _url(context: dict[str, Any], path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class MaterialSpecSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    required: Any = serializers.BooleanField()


class ExtraFieldSpecSerializer(serializers.Serializer):
    code = serializers.CharField()
    label: Any = serializers.CharField()
    type = serializers.ChoiceField(choices=["text", "textarea", "number", "date", "choice"])
    required: Any = serializers.BooleanField()
    choices = serializers.ListField(child=serializers.CharField(), required=False)


class ServiceItemSerializer(serializers.ModelSerializer):
    """One public service: who may apply, what to bring, the legal basis and time limit."""

    category = EnumField(enum_name="ServiceCategoryEnum", choices=ItemCategory.choices)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    materials = MaterialSpecSerializer(many=True, read_only=True)
    extra_fields = ExtraFieldSpecSerializer(
        many=True,
        read_only=True,
        help_text="what the applicant fills in; everything else comes from the register",
    )
    time_limit_days = serializers.IntegerField(
        read_only=True, help_text="working days after submission; 0 = on the spot"
    )

    class Meta:
        model = ServiceItem
        fields = [
            "id",
            "code",
            "name",
            "category",
            "category_label",
            "department",
            "description",
            "conditions",
            "materials",
            "legal_basis",
            "time_limit_days",
            "fee",
            "proxy_allowed",
            "online",
            "desk",
            "extra_fields",
        ]
        read_only_fields = fields


class ApplicationSerializer(serializers.ModelSerializer):
    """A row of the application list: where it is in the loop and its deadline."""

    item: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    area: Any = serializers.SlugRelatedField(slug_field="code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)
    person = serializers.IntegerField(source="person_id", read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True)
    status = EnumField(enum_name="ApplicationStatusEnum", choices=Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    channel = EnumField(enum_name="ApplicationChannelEnum", choices=Channel.choices, read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "code",
            "item",
            "item_name",
            "person",
            "person_name",
            "area",
            "area_name",
            "channel",
            "status",
            "status_label",
            "due_at",
            "paused_at",
            "accepted_at",
            "finished_at",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class ApplicationEventSerializer(serializers.ModelSerializer):
    label: Any = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField(help_text="who took the step (blank: the system)")

    class Meta:
        model = ApplicationEvent
        fields = ["id", "at", "kind", "label", "from_status", "to_status", "actor", "note", "data"]

    def get_label(self, event: ApplicationEvent) -> str:
        return event_label(event.kind)

    def get_actor(self, event: ApplicationEvent) -> str:
        actor: Any = event.actor
        return str(actor.display_name) if actor is not None else ""


class MaterialStateSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    required: Any = serializers.BooleanField()
    uploaded = serializers.BooleanField()
    seen = serializers.BooleanField(help_text="the original was seen at the desk")


class ApplicationDetailSerializer(ApplicationSerializer):
    """One application with the register's data (masked), the applicant's fields, materials,
    the timeline and the moves the caller may make now."""

    register = serializers.SerializerMethodField(
        help_text="what the register held when the application was made (ID and phone masked)"
    )
    extra = serializers.SerializerMethodField(help_text="the item's extra fields, as filled in")
    materials = serializers.SerializerMethodField()
    missing_materials = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField(
        help_text="the names of the moves the caller may make now (POST …/actions/{name}/)"
    )
    timeline = serializers.SerializerMethodField()
    progress_url = serializers.SerializerMethodField(
        help_text="the public progress page (no personal data)"
    )

    class Meta(ApplicationSerializer.Meta):
        fields = [
            *ApplicationSerializer.Meta.fields,
            "proxy_authorisation",
            "forwarded_to",
            "answer",
            "rating",
            "rating_comment",
            "register",
            "extra",
            "materials",
            "missing_materials",
            "allowed_actions",
            "timeline",
            "progress_url",
        ]
        read_only_fields = fields

    def _user(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_register(self, application: Application) -> dict[str, Any]:
        register = dict(application.form.get("register", {}))
        register["tags"] = selectors.register_tags(application, self._user())
        return register

    def get_extra(self, application: Application) -> dict[str, Any]:
        return dict(application.form.get("extra", {}))

    def get_materials(self, application: Application) -> list[dict[str, Any]]:
        rows = {r.code: r for r in application.material_rows.all()}
        out = []
        for m in application.item.materials:
            row = rows.get(m["code"])
            out.append(
                {
                    "code": m["code"],
                    "name": m["name"],
                    "required": bool(m.get("required")),
                    "uploaded": bool(row and row.file and row.file.name),
                    "seen": bool(row and row.seen_by_id),
                }
            )
        return MaterialStateSerializer(out, many=True).data  # type: ignore[return-value]

    def get_missing_materials(self, application: Application) -> list[str]:
        return services.missing_materials(application)

    def get_allowed_actions(self, application: Application) -> list[str]:
        return policy.allowed(self._user(), application)

    def get_timeline(self, application: Application) -> list[dict[str, Any]]:
        events = selectors.timeline(application)
        return ApplicationEventSerializer(events, many=True).data  # type: ignore[return-value]

    def get_progress_url(self, application: Application) -> str:
        return _url(self.context, reverse("services:progress", args=[application.public_token]))


class ApplicationCreateSerializer(serializers.Serializer):
    """A new application. Residents apply for themselves (`person` may be left out); desk staff
    give the person's id and `desk` (resident present) or `proxy` (代办, with authorisation)."""

    item = serializers.CharField(max_length=40, help_text="service code, e.g. gaoling-jintie")
    person = serializers.IntegerField(
        required=False, allow_null=True, help_text="register id; default: your own record"
    )
    channel: Any = serializers.ChoiceField(
        choices=Channel.choices, required=False, help_text="default: online"
    )
    proxy_authorisation = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    form = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        default=dict,
        help_text="the item's extra fields by code; the register's fields are never taken",
    )
    seen = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        default=list,
        max_length=30,
        help_text="material codes whose originals desk staff have seen",
    )


class ApplicationMoveSerializer(serializers.Serializer):
    """Every move's inputs; each move reads the ones it needs (see the action's description)."""

    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    forwarded_to = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    seen = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=30
    )
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="the version you saw; 409 desk_stale if someone moved it since",
    )
