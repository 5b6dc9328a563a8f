"""Forms parse input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.areas.models import Area, Level
from shequ.registry.models import Building
from shequ.registry.states import Gender, OrganisationKind, Relation, ResidenceType


class UnmaskForm(forms.Form):
    field = forms.ChoiceField(choices=[("id_number", _("ID number")), ("phone", _("phone"))])
    reason = forms.CharField(label=_("Reason"), max_length=200, min_length=2)


class PersonForm(forms.Form):
    """What the front desk types for a new or corrected record."""

    name = forms.CharField(label=_("name"), max_length=100)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)
    gender = forms.ChoiceField(label=_("gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    birth_date = forms.DateField(
        label=_("birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    ethnicity = forms.CharField(label=_("ethnicity"), max_length=20, required=False)
    residence_type = forms.ChoiceField(label=_("residence"), choices=ResidenceType.choices)
    relation_to_head = forms.ChoiceField(
        label=_("relation to head"), choices=[("", "—"), *Relation.choices], required=False
    )
    political_status = forms.CharField(label=_("political status"), max_length=20, required=False)
    work = forms.CharField(label=_("work or school"), max_length=200, required=False)
    hukou_address = forms.CharField(label=_("hukou address"), max_length=200, required=False)
    address_raw = forms.CharField(label=_("address as reported"), max_length=255, required=False)
    area = forms.ModelChoiceField(label=_("grid or estate"), queryset=Area.objects.none())
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, areas: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if areas is not None:
            area_field: Any = self.fields["area"]
            area_field.queryset = areas.filter(level__in=[Level.GRID, Level.ESTATE])
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Spreadsheet (.xlsx, .xls, .ods, .csv)"))
    source = forms.CharField(label=_("From which department"), max_length=100)
    area = forms.ModelChoiceField(label=_("Into which area"), queryset=Area.objects.none())
    sheet = forms.CharField(label=_("Sheet (optional)"), max_length=100, required=False)

    def __init__(self, *args: Any, areas: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if areas is not None:
            area_field: Any = self.fields["area"]
            area_field.queryset = areas.filter(
                level__in=[Level.COMMUNITY, Level.GRID, Level.ESTATE]
            )
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class ExportForm(forms.Form):
    template = forms.ChoiceField(label=_("Template"), choices=[])
    area = forms.ModelChoiceField(label=_("Area"), queryset=Area.objects.none())
    unmasked = forms.BooleanField(label=_("Full ID and phone numbers"), required=False)
    reason = forms.CharField(label=_("Reason (for full numbers)"), max_length=200, required=False)

    def __init__(self, *args: Any, areas: Any = None, templates: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template_field: Any = self.fields["template"]
        template_field.choices = [(name, name) for name in templates]
        if areas is not None:
            area_field: Any = self.fields["area"]
            area_field.queryset = areas
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            else:
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class OrganisationForm(forms.Form):
    """An organisation as the desk registers or corrects it."""

    kind = forms.ChoiceField(label=_("kind"), choices=OrganisationKind.choices)
    name = forms.CharField(label=_("name"), max_length=200)
    credit_code = forms.CharField(
        label=_("unified social credit code"), max_length=30, required=False
    )
    contact_name = forms.CharField(label=_("contact"), max_length=50, required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    address = forms.CharField(label=_("address"), max_length=200, required=False)
    area = forms.ModelChoiceField(label=_("Area"), queryset=Area.objects.none())

    def __init__(self, *args: Any, areas: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if areas is not None:
            area_field: Any = self.fields["area"]
            area_field.queryset = areas.filter(
                level__in=[Level.COMMUNITY, Level.GRID, Level.ESTATE]
            )
        _style(self)


class ResolvePickForm(forms.Form):
    """Link the people waiting on `raw` to a registered standard address."""

    raw = forms.CharField(widget=forms.HiddenInput, max_length=255)
    dwelling = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ResolveNewForm(forms.Form):
    """Register the room (unit + room) in a building and link the people waiting on `raw`."""

    raw = forms.CharField(widget=forms.HiddenInput, max_length=255)
    building = forms.ModelChoiceField(label=_("building"), queryset=Building.objects.none())
    unit = forms.CharField(label=_("unit"), max_length=10, required=False)
    room = forms.CharField(label=_("room"), max_length=20)

    def __init__(self, *args: Any, buildings: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if buildings is not None:
            building_field: Any = self.fields["building"]
            building_field.queryset = buildings
        _style(self)
