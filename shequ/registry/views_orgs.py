"""Organisation pages (实有单位): list with filters, an organisation, register and correct."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from shequ.accounts.scoping import has_perm
from shequ.areas.models import Area, Level
from shequ.core.errors import DomainError
from shequ.core.views import add_domain_error, render_page, require_perm
from shequ.registry import selectors, services
from shequ.registry.filters import OrganisationFilter
from shequ.registry.forms import OrganisationForm
from shequ.registry.pii import mask_phone

FILTER_LEVELS = (Level.COMMUNITY, Level.GRID, Level.ESTATE)


def can_edit_organisation(actor: Any) -> bool:
    """The same permission as every other write to the register."""
    return has_perm(actor, "registry.edit")


def filter_areas(request: HttpRequest) -> QuerySet[Area]:
    """The areas a register list may be narrowed to (by code)."""
    return Area.objects.visible_to(request.user).filter(level__in=FILTER_LEVELS).order_by("path")


@require_perm("registry.view")
def organisation_index(request: HttpRequest) -> HttpResponse:
    filterset = OrganisationFilter(
        request.GET, queryset=selectors.organisation_list(visible_to=request.user)
    )
    organisations = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(organisations, 25).get_page(request.GET.get("page"))
    for organisation in page.object_list:
        organisation.masked_phone = mask_phone(organisation.phone)
    context = {
        "filter": filterset,
        "page": page,
        "areas": filter_areas(request),
        "can_edit": can_edit_organisation(request.user),
    }
    return render_page(request, "registry/organisation_index.html", context, partial="results")


@require_perm("registry.view")
def organisation_detail(request: HttpRequest, organisation_id: str) -> HttpResponse:
    organisation = selectors.access_organisation(request.user, organisation_id)
    context = {
        "organisation": organisation,
        "masked_phone": mask_phone(organisation.phone),
        "history": selectors.audit_history(organisation),
        "can_edit": can_edit_organisation(request.user),
    }
    return render(request, "registry/organisation_detail.html", context)


def _form_areas(request: HttpRequest) -> QuerySet[Area]:
    return Area.objects.visible_to(request.user).order_by("path")


@require_perm("registry.edit")
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None, areas=_form_areas(request))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "area"}
        try:
            organisation = services.organisation_create(
                actor=request.user, area=form.cleaned_data["area"], **data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": organisation.name})
            return redirect("registry:organisation", organisation_id=organisation.pk)
    return render(request, "registry/organisation_form.html", {"form": form, "organisation": None})


@require_perm("registry.edit")
def organisation_edit(request: HttpRequest, organisation_id: str) -> HttpResponse:
    organisation = selectors.access_organisation(request.user, organisation_id)
    initial = {f: getattr(organisation, f) for f in services.ORGANISATION_FIELDS}
    initial.update(area=organisation.area, phone="")
    form = OrganisationForm(request.POST or None, initial=initial, areas=_form_areas(request))
    form.fields["phone"].help_text = _("Leave empty to keep %(masked)s") % {
        "masked": mask_phone(organisation.phone) or "—"
    }
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "area"}
        if not data["phone"]:
            data.pop("phone")  # an empty box keeps the number: it is never shown in a form
        try:
            services.organisation_update(
                actor=request.user,
                organisation=organisation,
                area=form.cleaned_data["area"],
                **data,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:organisation", organisation_id=organisation.pk)
    context = {"form": form, "organisation": organisation}
    return render(request, "registry/organisation_form.html", context)
