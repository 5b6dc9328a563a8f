"""Case analysis pages (分析研判): figures for the user's areas, drill-down, and the workbook."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _

from shequ.areas.models import Area
from shequ.cases import analysis
from shequ.cases.models import Category, Unit
from shequ.core.views import render_page, require_perm

PERIODS = (
    ("7", _("Last 7 days")),
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
    ("custom", _("Custom dates")),
)
MAX_DAYS = 366
UNITS_SHOWN = 20
AREA_CHOICES = 400  # the area drop-down lists at most this many (drill down for the rest)


class AnalysisForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False)
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    area = forms.CharField(label=_("Area"), max_length=32, required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    unit = forms.ChoiceField(label=_("Lead unit"), required=False)

    def __init__(self, *args: Any, categories: list[Category], units: list[Unit], **kw: Any):
        super().__init__(*args, **kw)
        self.category_objects = {c.code: c for c in categories}
        self.unit_objects = {u.code: u for u in units}
        category_field: Any = self.fields["category"]
        category_field.choices = [("", _("All categories"))] + [
            (c.code, c.name) for c in categories
        ]
        unit_field: Any = self.fields["unit"]
        unit_field.choices = [("", _("All units"))] + [(u.code, u.name) for u in units]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        period = data.get("period") or "30"
        data["period"] = period
        if period == "custom":
            first, last = data.get("date_from"), data.get("date_to")
            if first is None or last is None:
                raise forms.ValidationError(_("Give both dates of the period."))
            if last < first:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (last - first).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)s days.") % {"days": MAX_DAYS}
                )
        else:
            last = today
            first = today - dt.timedelta(days=int(period) - 1)
        data["first"], data["last"] = first, last
        return data


def _units(roots: list[Area]) -> list[Unit]:
    """The units that serve the user's areas: those of the areas above and those inside."""
    above = {p for r in roots for p in r.ancestor_paths}
    inside = Q(pk__in=[])
    for r in roots:
        inside |= Q(area__path__startswith=r.path)
    return list(
        Unit.objects.filter(Q(area__path__in=above) | inside, active=True).order_by("kind", "name")
    )


def _area_choices(roots: list[Area], chosen: Area | None) -> list[Area]:
    q = Q(pk__in=[])
    for r in roots:
        q |= Q(path__startswith=r.path, depth__lte=r.depth + 2)
    areas = list(Area.objects.filter(q).order_by("path")[:AREA_CHOICES])
    if chosen is not None and chosen not in areas:
        areas.append(chosen)
        areas.sort(key=lambda a: a.path)
    return areas


def _trail(scope: analysis.Scope) -> list[Area]:
    """The chosen area and its ancestors inside the user's scope, top first (to drill up)."""
    if scope.area is None:
        return []
    top = min((r for r in scope.roots if scope.area.path.startswith(r.path)), key=lambda r: r.depth)
    paths = [p for p in scope.area.ancestor_paths if len(p) >= len(top.path)]
    return list(Area.objects.filter(path__in=paths).order_by("depth"))


def _parse(request: HttpRequest) -> tuple[AnalysisForm, analysis.Scope | None, dict[str, Any]]:
    user = request.user
    roots = analysis.analysis_roots(user)
    categories = analysis.categories_by_id()
    tops = [c for c in categories.values() if c.parent_id is None]
    # Always bound: every field is optional, so no filters at all is the last 30 days.
    form = AnalysisForm(request.GET, categories=tops, units=_units(roots))
    extra: dict[str, Any] = {"categories": categories, "roots": roots}
    if not form.is_valid():
        return form, None, extra
    data = form.cleaned_data
    scope = analysis.scope_for(
        user,
        roots=roots,
        area_code=data.get("area") or "",
        first=data["first"],
        last=data["last"],
        category=form.category_objects.get(data.get("category") or ""),
        unit=form.unit_objects.get(data.get("unit") or ""),
    )
    return form, scope, extra


def _without_area(request: HttpRequest) -> str:
    """The query string without the area, ready for `area=…` to be appended."""
    params = request.GET.copy()
    params.pop("area", None)
    return params.urlencode() + "&" if params else ""


Option = tuple[str, str, bool]  # value, label, selected


def _options(form: AnalysisForm, areas: list[Area], chosen: str) -> dict[str, list[Option]]:
    """The drop-downs' options, each marked once here rather than compared per option in the
    template (a district lists a hundred units and areas)."""

    def marked(choices: Any, current: Any) -> list[Option]:
        return [(str(v), str(label), str(v) == current) for v, label in choices]

    indent = {"district": "", "street": "", "community": "· "}
    return {
        "period_options": marked(PERIODS, form["period"].value() or "30"),
        "area_options": [
            (a.code, indent.get(a.level, "· · ") + a.name, a.code == chosen) for a in areas
        ],
        "category_options": marked(form.fields["category"].choices, form["category"].value()),  # type: ignore[attr-defined]
        "unit_options": marked(form.fields["unit"].choices, form["unit"].value()),  # type: ignore[attr-defined]
    }


@require_perm("cases.analyse")
def analysis_page(request: HttpRequest) -> HttpResponse:
    """Figures, breakdowns, trend and alerts for the user's areas; the map panel loads apart."""
    form, scope, extra = _parse(request)
    chosen = scope.area.code if scope is not None and scope.area else ""
    areas = _area_choices(extra["roots"], scope.area if scope is not None else None)
    context: dict[str, Any] = {"form": form, **_options(form, areas, chosen)}
    if scope is not None:
        report = analysis.analyse(scope, categories=extra["categories"])
        # A district has a hundred units and more: the busiest on the page, all in the export.
        shown, rest = analysis.top_lines(
            [line for line in report.by_unit if line.key], UNITS_SHOWN, str(_("%(n)s more units"))
        )
        context.update(
            report=report,
            unit_lines=[
                *shown,
                *([rest] if rest else []),
                *(u for u in report.by_unit if not u.key),
            ],
            scope=scope,
            trail=_trail(scope),
            query=request.GET.urlencode(),
            drill_query=_without_area(request),
        )
    return render_page(request, "cases/analysis.html", context, partial="body")


@require_perm("cases.analyse")
def analysis_places(request: HttpRequest) -> HttpResponse:
    """The hotspot map and the recurring addresses of the same filters (read from the cases,
    so the page asks for them after it has shown its figures)."""
    if not getattr(request, "htmx", None):
        return redirect(f"{reverse('cases:analysis')}?{request.GET.urlencode()}")
    _form, scope, extra = _parse(request)
    if scope is None:
        return HttpResponse(status=204)
    found = analysis.where(scope, extra["categories"])
    context = {
        "scope": scope,
        "found": found,
        "map_data": {
            "cells": [[c.lat, c.lng, c.count] for c in found.cells],
            "cell": analysis.HOTSPOT_CELL,
        },
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }
    response = render(request, "cases/analysis_places.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_perm("cases.analyse")
def analysis_export(request: HttpRequest) -> HttpResponse:
    """The analysis of the same filters as a workbook (audited)."""
    _form, scope, _extra = _parse(request)
    if scope is None:
        from shequ.core.views import bad_request

        return bad_request(request)
    content, filename = analysis.analysis_export(actor=request.user, scope=scope)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
