"""Parse what people type into the case pages; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.areas.models import Area, Level
from shequ.cases.models import Category
from shequ.cases.selectors import leaf_categories
from shequ.cases.states import Source


class MultiFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one field (the services check each is an image under the limit)."""

    widget = MultiFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(f, initial) for f in files]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return str(obj)


class ReportForm(forms.Form):
    category = CategoryChoiceField(label=_("Category"), queryset=Category.objects.none())
    description = forms.CharField(
        label=_("What is wrong"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    area = forms.ModelChoiceField(
        label=_("Grid"),
        queryset=Area.objects.none(),
        required=False,
        help_text=_("Or let the phone's location find the grid."),
    )
    address = forms.CharField(label=_("Address or landmark"), max_length=200, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    photos = PhotosField(
        label=_("Photos"),
        required=False,
        widget=MultiFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, required=False)
    reporter_name = forms.CharField(label=_("Caller's name"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("Caller's phone"), max_length=20, required=False)
    on_spot_answer = forms.CharField(
        label=_("Resolved on the spot: what was done"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, areas: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = leaf_categories()  # type: ignore[attr-defined]
        self.fields["area"].queryset = areas.filter(  # type: ignore[attr-defined]
            level__in=[Level.GRID, Level.COMMUNITY]
        ).order_by("path")
        self.staff = staff
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control")
        if staff:
            self.fields["source"].choices = [  # type: ignore[attr-defined]
                (s, label)
                for s, label in Source.choices
                if s in (Source.GRID, Source.DESK, Source.HOTLINE)
            ]
        else:
            for name in ("source", "reporter_name", "reporter_phone", "on_spot_answer"):
                del self.fields[name]


class MoveForm(forms.Form):
    """Every move's inputs; each move reads the ones it needs."""

    note = forms.CharField(max_length=2000, required=False)
    answer = forms.CharField(max_length=4000, required=False)
    unit = forms.CharField(max_length=40, required=False)
    helpers = forms.CharField(max_length=400, required=False)
    target = forms.CharField(max_length=24, required=False)
    rating = forms.IntegerField(min_value=1, max_value=5, required=False)
    days = forms.IntegerField(min_value=1, max_value=60, required=False)
    version = forms.IntegerField(required=False)
    photos = PhotosField(required=False)
