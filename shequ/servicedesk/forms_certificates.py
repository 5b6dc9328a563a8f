"""Inputs of the certificate pages: issuing, revoking, typing a code to verify, and the filter
set the desk list and the list API share. Forms parse; `certificates` decides."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shequ.accounts.scoping import scope_q, subtree_q
from shequ.areas.models import Area, Level
from shequ.servicedesk.certificates import CONSENT_DEFAULTS, CONSENT_LABELS
from shequ.servicedesk.models import Certificate, CertificateType


class IssueForm(forms.Form):
    type = forms.ChoiceField(
        label=_("Certificate"), widget=forms.RadioSelect(attrs={"class": "form-check-input"})
    )
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
        help_text=_(
            "What the resident needs it for, as the receiving office asked (e.g. 子女入学)."
        ),
    )
    full_id = forms.BooleanField(
        label=_("Print the full ID number"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        help_text=_("Only when the receiving office must identify the holder; otherwise masked."),
    )

    def __init__(self, *args: Any, types: Iterable[CertificateType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(t.code, t.name) for t in types]
        for key, default in CONSENT_DEFAULTS.items():
            self.fields[f"consent_{key}"] = forms.BooleanField(
                label=str(CONSENT_LABELS[key]),
                required=False,
                initial=default,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    def consent(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(f"consent_{key}")) for key in CONSENT_DEFAULTS}

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[f"consent_{key}"] for key in CONSENT_DEFAULTS]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revoking"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg",
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXX-XXXX-XXXX",
            }
        ),
    )


STATUS_CHOICES = [
    ("valid", _("Valid")),
    ("revoked", _("Revoked")),
    ("expired", _("Expired")),
]


class CertificateFilter(django_filters.FilterSet):
    """The desk's certificate list and `/api/v1/certificates/` filter alike."""

    q = django_filters.CharFilter(method="search", label=_("Serial or holder"))
    type = django_filters.CharFilter(field_name="type__code", label=_("Type"))
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES, method="by_status", label=_("Status")
    )
    community = django_filters.ModelChoiceFilter(
        queryset=Area.objects.none(), method="in_community", label=_("Community")
    )

    class Meta:
        model = Certificate
        fields: list[str] = []

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is None and self.request is not None:
            user = self.request.user  # the list API's filter backend passes the request
        self.filters["community"].queryset = Area.objects.filter(
            scope_q(user, "", perm="desk.view"), level=Level.COMMUNITY
        ).order_by("path")

    def search(self, queryset: QuerySet[Certificate], name: str, value: str) -> Any:
        value = value.strip()[:40]
        if not value:
            return queryset
        return queryset.filter(Q(serial__startswith=value) | Q(person__name__startswith=value))

    def by_status(self, queryset: QuerySet[Certificate], name: str, value: str) -> Any:
        today = timezone.localdate()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, valid_until__lt=today)
        if value == "valid":
            return queryset.filter(revoked_at__isnull=True, valid_until__gte=today)
        return queryset

    def in_community(self, queryset: QuerySet[Certificate], name: str, value: Area) -> Any:
        return queryset.filter(subtree_q(value.path, "area__path")) if value else queryset
