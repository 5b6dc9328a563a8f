"""Parse what people type into the service desk pages; the services decide what is allowed.

Required marks here are for the browser only: the service checks the extra fields and the
materials, and its refusal is shown on the field it names.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shequ.core.errors import DomainError
from shequ.servicedesk.models import ServiceItem
from shequ.servicedesk.states import Channel

ACCEPT = ".pdf,.jpg,.jpeg,.png,.heic,.webp,image/*,application/pdf"


def _material_field(code: str) -> str:
    return f"material_{code}"


def _seen_field(code: str) -> str:
    return f"seen_{code}"


class ApplyForm(forms.Form):
    """The item's extra fields, one upload per material, and for desk staff: the channel, the
    authorisation for 代办 and "original seen" ticks."""

    def __init__(
        self,
        *args: Any,
        item: ServiceItem,
        channels: list[str],
        staff: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.item, self.staff = item, staff
        for spec in item.extra_fields:
            self.fields[f"extra_{spec['code']}"] = self._extra_field(spec)
        for m in item.materials:
            self.fields[_material_field(m["code"])] = forms.FileField(
                label=m["name"],
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT, "class": "form-control"}),
            )
            self.fields[_material_field(m["code"])].material_required = bool(m.get("required"))  # type: ignore[attr-defined]
            if staff:
                self.fields[_seen_field(m["code"])] = forms.BooleanField(
                    label=_("Original seen"),
                    required=False,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
        if staff:
            self.fields["channel"] = forms.ChoiceField(
                label=_("How"),
                choices=[(c, label) for c, label in Channel.choices if c in channels],
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                initial=channels[0] if channels else None,
            )
            self.fields["proxy_authorisation"] = forms.CharField(
                label=_("Authorisation for 代办"),
                help_text=_("Who authorised it and how, e.g. a signed authorisation form."),
                max_length=200,
                required=False,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )

    @staticmethod
    def _extra_field(spec: dict[str, Any]) -> forms.Field:
        kind = spec.get("type", "text")
        attrs: dict[str, Any] = {"class": "form-control"}
        if spec.get("required"):
            attrs["required"] = True
        widget: forms.Widget
        if kind == "textarea":
            widget = forms.Textarea(attrs={**attrs, "rows": 3})
        elif kind == "choice":
            choices = [("", "—"), *[(c, c) for c in spec.get("choices", [])]]
            widget = forms.Select(attrs={**attrs, "class": "form-select"}, choices=choices)
            return forms.ChoiceField(
                label=spec["label"], choices=choices, required=False, widget=widget
            )
        elif kind == "number":
            widget = forms.NumberInput(attrs={**attrs, "step": "any", "inputmode": "decimal"})
        elif kind == "date":
            widget = forms.DateInput(attrs={**attrs, "type": "date"})
        else:
            widget = forms.TextInput(attrs=attrs)
        return forms.CharField(label=spec["label"], required=False, max_length=2000, widget=widget)

    def extra_values(self) -> dict[str, Any]:
        return {
            name.removeprefix("extra_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("extra_")
        }

    def files_by_code(self) -> dict[str, Any]:
        return {
            str(m["code"]): self.cleaned_data[_material_field(m["code"])]
            for m in self.item.materials
            if self.cleaned_data.get(_material_field(m["code"]))
        }

    def seen_codes(self) -> list[str]:
        if not self.staff:
            return []
        return [
            str(m["code"])
            for m in self.item.materials
            if self.cleaned_data.get(_seen_field(m["code"]))
        ]

    def material_rows(self) -> list[dict[str, Any]]:
        """Each material's upload (and tick) for the template, in the item's order."""
        return [
            {
                "material": m,
                "upload": self[_material_field(m["code"])],
                "seen": self[_seen_field(m["code"])] if self.staff else None,
            }
            for m in self.item.materials
        ]

    def extra_rows(self) -> list[Any]:
        return [self[f"extra_{spec['code']}"] for spec in self.item.extra_fields]

    def show_error(self, exc: DomainError) -> None:
        """Put a service's refusal on the fields it names (several for the extra fields)."""
        fields = exc.extra.get("fields")
        if isinstance(fields, dict):
            for code, message in fields.items():
                self.add_error(f"extra_{code}" if f"extra_{code}" in self.fields else None, message)
            return
        missing = exc.extra.get("missing")
        if isinstance(missing, list):
            for m in self.item.materials:
                if m["name"] in missing:
                    self.add_error(
                        _material_field(m["code"]), _("Required: upload it or tick seen.")
                    )
            self.add_error(None, exc.message)
            return
        material = exc.extra.get("material")
        if material and _material_field(material) in self.fields:
            self.add_error(_material_field(material), exc.message)
            return
        field = exc.extra.get("field")
        self.add_error(field if field in self.fields else None, exc.message)


class MoveForm(forms.Form):
    """Every move's inputs; each move reads the ones it needs."""

    note = forms.CharField(max_length=4000, required=False)
    forwarded_to = forms.CharField(max_length=100, required=False)
    rating = forms.IntegerField(min_value=1, max_value=5, required=False)
    version = forms.IntegerField(required=False)


def move_materials(request: Any, item: ServiceItem) -> tuple[dict[str, Any], list[str]]:
    """Uploads (`material_<code>`) and ticks (`seen_<code>`) sent with a move."""
    codes = [str(m["code"]) for m in item.materials] + ["other"]
    files = {
        c: request.FILES[_material_field(c)] for c in codes if _material_field(c) in request.FILES
    }
    seen = [c for c in codes if request.POST.get(_seen_field(c))]
    return files, seen
