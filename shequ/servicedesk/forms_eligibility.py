"""Forms of the eligibility pages and the one filter set of the outreach list (page and API).
They parse input; the rule's expressions are checked by `eligibility.expression_error`, the
same check the services make."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import subtree_q
from shequ.areas.models import Area
from shequ.servicedesk import eligibility
from shequ.servicedesk.models import Entitlement, OutreachState, ServiceItem

EXPRESSION_HELP = _(
    'For example: age >= 80 and residence_type == "registered". Names: age, gender ("M", "F"), '
    'residence_type ("registered", "floating", "foreign"), status, lives_alone; functions: '
    'has_tag("code"), tag_level("code") (1–4 or "一级"…"四级"), tag_attr("code", "attribute"), '
    'in_area("area code"); combine with and, or, not, and compare with ==, !=, <, <=, >, >=, in.'
)


class EntitlementFilter(django_filters.FilterSet):
    rule = django_filters.CharFilter(label=_("Rule code"), field_name="rule__code", max_length=40)
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=OutreachState.choices)
    area = django_filters.CharFilter(label=_("Area code"), method="in_area", max_length=32)
    mine = django_filters.BooleanFilter(label=_("Assigned to me"), method="assigned_to_me")
    still_entitled = django_filters.BooleanFilter(
        label=_("Still entitled"),
        help_text=_("Default: only residents the last run still found entitled."),
    )

    class Meta:
        model = Entitlement
        fields = ["rule", "state", "area", "mine", "still_entitled"]

    def filter_queryset(self, queryset: QuerySet[Entitlement]) -> QuerySet[Entitlement]:
        if self.form.cleaned_data.get("still_entitled") is None:
            queryset = queryset.filter(still_entitled=True)
        return super().filter_queryset(queryset)

    def in_area(self, qs: QuerySet[Entitlement], name: str, value: str) -> QuerySet[Entitlement]:
        area = Area.objects.filter(code=value).only("path").first()
        if area is None:
            return qs.none()
        return qs.filter(subtree_q(area.path, "area__path"))

    def assigned_to_me(
        self, qs: QuerySet[Entitlement], name: str, value: bool | None
    ) -> QuerySet[Entitlement]:
        if value is None or self.request is None:
            return qs
        user = self.request.user
        return qs.filter(assignee=user) if value else qs.exclude(assignee=user)


class RuleForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    expression = forms.CharField(
        label=_("Who is entitled"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        max_length=2000,
        help_text=EXPRESSION_HELP,
    )
    receiving = forms.CharField(
        label=_("Who already receives it"),
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        max_length=2000,
        required=False,
        help_text=_(
            'Optional, in the same language, e.g. has_tag("dibao"). Residents with an approved '
            "application of the service count as receiving it anyway."
        ),
    )
    item = forms.ModelChoiceField(
        label=_("Service"),
        queryset=ServiceItem.objects.filter(active=True).order_by("category", "sort", "code"),
        required=False,
        to_field_name="code",
    )
    outreach = forms.CharField(label=_("What the grid worker should do"), max_length=200)
    notice = forms.CharField(
        label=_("Notice to the resident"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
        for f in self.fields.values():
            if isinstance(f.widget, forms.Select):
                f.widget.attrs.setdefault("class", "form-select")
            elif not isinstance(f.widget, forms.CheckboxInput):
                f.widget.attrs.setdefault("class", "form-control")
        self.fields["expression"].widget.attrs["class"] += " font-monospace"
        self.fields["receiving"].widget.attrs["class"] += " font-monospace"

    def clean_expression(self) -> str:
        value = str(self.cleaned_data["expression"]).strip()
        error = eligibility.expression_error(value)
        if error:
            raise forms.ValidationError(error)
        return value

    def clean_receiving(self) -> str:
        value = str(self.cleaned_data.get("receiving") or "").strip()
        error = eligibility.expression_error(value, allow_empty=True)
        if error:
            raise forms.ValidationError(error)
        return value


class CheckForm(forms.Form):
    """The editor's check button: the expressions as typed (not yet saved)."""

    expression = forms.CharField(max_length=2000, required=False)
    receiving = forms.CharField(max_length=2000, required=False)
    item = forms.ModelChoiceField(
        queryset=ServiceItem.objects.all(), required=False, to_field_name="code"
    )


class OutreachForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
