"""Register pages: people search, a person, a building walk-list, a household."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from shequ.areas.models import Area
from shequ.core.errors import DomainError
from shequ.core.views import add_domain_error, permission_denied, render_page, require_perm
from shequ.registry import exports, selectors, services
from shequ.registry.access import (
    access_building,
    access_household,
    access_person,
    can_edit_person,
    can_unmask,
)
from shequ.registry.filters import PersonFilter
from shequ.registry.forms import ExportForm, PersonForm, UnmaskForm
from shequ.registry.pii import mask_id, mask_phone


@require_perm("registry.view")
def person_index(request: HttpRequest) -> HttpResponse:
    filterset = PersonFilter(
        request.GET or None, queryset=selectors.person_list(visible_to=request.user)
    )
    people = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    people = people.prefetch_related(selectors.active_tags_prefetch(request.user))
    page = Paginator(people, 25).get_page(request.GET.get("page"))
    for person in page.object_list:
        person.masked_id = mask_id(person.id_number)
        person.masked_phone = mask_phone(person.phone)
        # Here rather than per row in the template: half the rows' rendering time.
        person.url = reverse("registry:person", args=[person.pk])
        age = person.age
        person.age_label = "" if age is None else _("%(n)s years old") % {"n": age}
    # More than `count_cap` people match: the page says "1000+", not the count's cap + 1.
    count_cap = None
    if isinstance(people, selectors.PersonResults) and people.count_is_capped(page.paginator.count):
        count_cap = people.count_cap
    context = {
        "filter": filterset,
        "page": page,
        "can_edit": can_edit_person(request.user),
        "count_cap": count_cap,
    }
    return render_page(request, "registry/person_index.html", context, partial="results")


@require_perm("registry.view")
def person_detail(request: HttpRequest, person_id: str) -> HttpResponse:
    person = access_person(request.user, person_id)
    context = {
        "person": person,
        "masked_id": mask_id(person.id_number),
        "masked_phone": mask_phone(person.phone),
        "tags": selectors.tags_of(person, viewer=request.user),
        "members": selectors.household_members(person.household) if person.household else [],
        "history": selectors.person_history(person),
        "provenance": selectors.provenance_rows(person),
        "can_unmask": can_unmask(request.user),
        "can_edit": can_edit_person(request.user),
        "unmask_form": UnmaskForm(),
    }
    return render(request, "registry/person_detail.html", context)


@require_perm("registry.unmask")
def person_unmask(request: HttpRequest, person_id: str) -> HttpResponse:
    person = access_person(request.user, person_id)
    form = UnmaskForm(request.POST or None)
    value, error = "", ""
    if request.method == "POST" and form.is_valid():
        try:
            value = services.person_unmask(
                actor=request.user,
                person=person,
                field=form.cleaned_data["field"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            error = exc.message
    elif request.method == "POST":
        error = _("Say why you need to see the full number (for example: 代办高龄津贴).")
    context = {"person": person, "form": form, "value": value, "error": error}
    return render(request, "registry/_unmask.html", context)


def _areas_for(request: HttpRequest) -> object:
    return Area.objects.visible_to(request.user).order_by("path")


@require_perm("registry.edit")
def person_create(request: HttpRequest) -> HttpResponse:
    form = PersonForm(request.POST or None, areas=_areas_for(request))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("area", "version")}
        try:
            person = services.person_create(
                actor=request.user, area=form.cleaned_data["area"], source="desk", **data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": person.name})
            return redirect("registry:person", person_id=person.pk)
    return render(request, "registry/person_form.html", {"form": form, "person": None})


@require_perm("registry.edit")
def person_edit(request: HttpRequest, person_id: str) -> HttpResponse:
    person = access_person(request.user, person_id)
    if not can_edit_person(request.user):
        return permission_denied(request)
    initial = {f: getattr(person, f) for f in services.PERSON_FIELDS}
    initial.update(area=person.area, version=person.version, id_number="", phone="")
    form = PersonForm(request.POST or None, initial=initial, areas=_areas_for(request))
    form.fields["id_number"].help_text = _("Leave empty to keep %(masked)s") % {
        "masked": mask_id(person.id_number) or "—"
    }
    form.fields["phone"].help_text = _("Leave empty to keep %(masked)s") % {
        "masked": mask_phone(person.phone) or "—"
    }
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("area", "version")}
        for secret in ("id_number", "phone"):
            if not data[secret]:
                data.pop(secret)  # an empty box keeps the number: it is never shown in a form
        try:
            services.person_update(
                actor=request.user,
                person=person,
                expected_version=form.cleaned_data.get("version") or person.version,
                source="desk",
                **data,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:person", person_id=person.pk)
    return render(request, "registry/person_form.html", {"form": form, "person": person})


@require_perm("registry.view")
def building_detail(request: HttpRequest, building_id: str) -> HttpResponse:
    building = access_building(request.user, building_id)
    dwellings = selectors.building_dwellings(building)
    for dwelling in dwellings:
        for resident in dwelling.residents.all():
            resident.masked_phone = mask_phone(resident.phone)
    context = {"building": building, "dwellings": dwellings}
    return render(request, "registry/building_detail.html", context)


@require_perm("registry.view")
def household_detail(request: HttpRequest, household_id: str) -> HttpResponse:
    household = access_household(request.user, household_id)
    context = {"household": household, "members": selectors.household_members(household)}
    return render(request, "registry/household_detail.html", context)


def _download(result: Any) -> HttpResponse:
    response = HttpResponse(
        result.content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(result.filename)}"
    return response


@require_perm("registry.export")
def export_index(request: HttpRequest) -> HttpResponse:
    """Department rosters out of the register: pick a template and an area, get a workbook."""
    areas = Area.objects.visible_to(request.user).order_by("path")
    form = ExportForm(request.POST or None, areas=areas, templates=list(exports.TEMPLATES))
    if request.method == "POST" and form.is_valid():
        try:
            result = exports.people_export(
                actor=request.user,
                template=form.cleaned_data["template"],
                area=form.cleaned_data["area"],
                unmasked=form.cleaned_data["unmasked"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _download(result)
    return render(request, "registry/export.html", {"form": form})


@require_perm("registry.export")
def building_export(request: HttpRequest, building_id: str) -> HttpResponse:
    """The walk-list of one building (楼栋住户表) for the grid worker."""
    building = access_building(request.user, building_id)
    try:
        result = exports.people_export(
            actor=request.user, template="楼栋住户表", area=None, building=building
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("registry:building", building_id=building.pk)
    return _download(result)
