"""Addresses an import could not resolve: the list by address text, and resolving one."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from shequ.core.errors import DomainError, NotFound
from shequ.core.views import add_domain_error, render_page, require_perm
from shequ.registry import selectors, services
from shequ.registry.filters import DwellingFilter, UnresolvedAddressFilter
from shequ.registry.forms import ResolveNewForm, ResolvePickForm
from shequ.registry.views_orgs import filter_areas

CANDIDATES = 20


@require_perm("registry.edit")
def address_unresolved(request: HttpRequest) -> HttpResponse:
    filterset = UnresolvedAddressFilter(
        request.GET, queryset=selectors.unresolved_people(visible_to=request.user)
    )
    people = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(selectors.unresolved_addresses(people), 25).get_page(request.GET.get("page"))
    for row in page.object_list:
        row["url"] = (
            reverse("registry:address_resolve") + "?" + urlencode({"raw": row["address_raw"]})
        )
    context = {"filter": filterset, "page": page, "areas": filter_areas(request)}
    return render_page(request, "registry/address_unresolved.html", context, partial="results")


def _done(request: HttpRequest, url: str) -> HttpResponse:
    """Back to the list: a redirect, or HX-Location when htmx sent the form."""
    if getattr(request, "htmx", None):
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)


@require_perm("registry.edit")
def address_resolve(request: HttpRequest) -> HttpResponse:
    """One address text: who waits on it, registered rooms to pick, or a new room to enter."""
    data = request.POST if request.method == "POST" else request.GET
    raw = str(data.get("raw", ""))[:255]
    action = str(request.POST.get("action", ""))
    waiting = selectors.waiting_on(visible_to=request.user, raw=raw) if raw else []
    suggestion = selectors.address_suggestion(visible_to=request.user, raw=raw)
    buildings = selectors.resolution_buildings(visible_to=request.user, people=waiting)
    pick = ResolvePickForm(request.POST if action == "pick" else None, initial={"raw": raw})
    new = ResolveNewForm(
        request.POST if action == "new" else None,
        initial={
            "raw": raw,
            "building": suggestion.building,
            "unit": suggestion.unit,
            "room": suggestion.room,
        },
        buildings=buildings,
    )
    back = reverse("registry:addresses_unresolved")
    form = pick if action == "pick" else new if action == "new" else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            if form is pick:
                result = services.address_resolve(
                    actor=request.user,
                    raw=raw,
                    dwelling=selectors.access_dwelling(request.user, form.cleaned_data["dwelling"]),
                    source="desk",
                )
            else:
                result = services.address_resolve(
                    actor=request.user,
                    raw=raw,
                    building=form.cleaned_data["building"],
                    unit=form.cleaned_data["unit"],
                    room=form.cleaned_data["room"],
                    source="desk",
                )
        except DomainError as exc:
            if exc.code == "address_nothing_waiting":
                messages.error(request, exc.message)
                return _done(request, back)
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("%(count)s people now live at %(address)s.")
                % {"count": len(result.people), "address": result.dwelling.standard_address},
            )
            return _done(request, back)
    if not waiting:
        raise NotFound()
    # What the worker typed; else the narrowest reading of the address that finds something.
    typed = "q" in request.GET
    queries = [str(request.GET["q"])[:50]] if typed else suggestion.queries
    query, candidates = (queries[0] if queries else ""), []
    for attempt in queries:
        found = DwellingFilter(
            {"q": attempt}, queryset=selectors.dwelling_list(visible_to=request.user)
        )
        candidates = list(found.qs[:CANDIDATES]) if attempt and found.is_valid() else []
        if candidates:
            query = attempt
            break
    if suggestion.dwelling is not None and not typed:
        candidates = [suggestion.dwelling] + [d for d in candidates if d != suggestion.dwelling]
    for dwelling in candidates:
        dwelling.pick_query = urlencode({"raw": raw, "q": query, "dwelling": dwelling.pk})
    # A pick is confirmed on a second page (no scripts): it shows what will be linked where.
    chosen = data.get("dwelling")
    context = {
        "raw": raw,
        "chosen": selectors.access_dwelling(request.user, chosen) if chosen else None,
        "back_query": urlencode({"raw": raw, "q": query}),
        "waiting": waiting,
        "suggestion": suggestion,
        "query": query,
        "candidates": candidates,
        "more": len(candidates) >= CANDIDATES,
        "pick": pick,
        "new": new,
        "has_buildings": buildings.exists(),
    }
    return render_page(request, "registry/address_resolve.html", context, partial="candidates")
