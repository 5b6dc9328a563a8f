"""The front desk (全科受理): find the resident, see everything about them on one screen,
start any service in two clicks; the desk's queues and an application with its moves."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shequ.accounts.scoping import has_perm
from shequ.core.errors import DomainError, NotFound
from shequ.core.views import render_page, require_perm
from shequ.registry import selectors as registry_selectors
from shequ.registry.access import can_see_sensitive
from shequ.registry.filters import PersonFilter
from shequ.registry.pii import mask_id, mask_phone
from shequ.servicedesk import certificates, policy, selectors, services
from shequ.servicedesk.access import access_applicant, access_application, access_item
from shequ.servicedesk.filters import ApplicationFilter
from shequ.servicedesk.forms import ApplyForm
from shequ.servicedesk.models import Application
from shequ.servicedesk.states import CLOCK_RUNS, MOVES, Channel
from shequ.servicedesk.views import (
    act,
    extra_rows,
    hx_redirect,
    items_for_picker,
    labelled,
    material_rows,
    move_list,
    register_rows,
)

QUEUE_LABELS = {
    "to_accept": gettext_lazy("To accept"),
    "under_review": gettext_lazy("Under review"),
    "needs_materials": gettext_lazy("Waiting for materials"),
    "overdue": gettext_lazy("Overdue"),
    "all": gettext_lazy("All"),
}


def _people(request: HttpRequest) -> tuple[PersonFilter, Any]:
    """The register's person search, the same filter set as the people page."""
    filterset = PersonFilter(
        request.GET, queryset=registry_selectors.person_list(visible_to=request.user)
    )
    if not request.GET.get("q", "").strip() or not filterset.is_valid():
        return filterset, []
    people = list(filterset.qs.select_related("household")[:12])
    for p in people:
        p.masked_id = mask_id(p.id_number)
    return filterset, people


def _panel_context(request: HttpRequest, person: Any) -> dict[str, Any]:
    return {
        "person": person,
        "masked_id": mask_id(person.id_number),
        "masked_phone": mask_phone(person.phone),
        "tags": [
            t
            for t in registry_selectors.tags_of(person, viewer=request.user)
            if t.valid_to is None or t.valid_to >= timezone.localdate()
        ],
        "panel": selectors.person_panel(request.user, person),
        "groups": items_for_picker(),
        "can_apply": policy.staff_in(request.user, "desk.apply", person.area.path),
        "can_open_register": has_perm(request.user, "registry.view"),
        # Certificates are asked for at the same desk: one click from the resident's panel.
        "can_issue_certificate": certificates.can_issue_for(request.user, person),
    }


@require_perm("desk.view")
def desk_index(request: HttpRequest) -> HttpResponse:
    """One screen: search, the selected resident's panel, today's and the month's figures."""
    filterset, people = _people(request)
    context: dict[str, Any] = {
        "filter": filterset,
        "people": people,
        "q": request.GET.get("q", ""),
        "stats": selectors.desk_stats(request.user),
        "areas": selectors.desk_areas(request.user),
        "counts": selectors.queue_counts(request.user),
    }
    person_id = request.GET.get("person")
    if person_id:
        try:
            person = access_applicant(request.user, person_id)
        except NotFound as exc:
            raise Http404 from exc
        context.update(_panel_context(request, person))
    return render_page(request, "servicedesk/desk.html", context, partial="people")


@require_perm("desk.view")
def desk_person(request: HttpRequest, person_id: str) -> HttpResponse:
    """The resident's panel (an htmx swap on the desk; the whole desk page otherwise)."""
    try:
        person = access_applicant(request.user, person_id)
    except NotFound as exc:
        raise Http404 from exc
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        response = render(request, "servicedesk/desk.html#panel", _panel_context(request, person))
        patch_vary_headers(response, ["HX-Request"])
        return response
    return redirect(f"{reverse('desk:index')}?person={person.pk}")


@require_perm("desk.apply")
def desk_apply(request: HttpRequest, person_id: str, code: str) -> HttpResponseBase:
    """Apply for a resident present at the desk, or on their behalf (代办)."""
    try:
        person = access_applicant(request.user, person_id)
        item = access_item(code)
    except NotFound as exc:
        raise Http404 from exc
    channels = [
        c
        for c in policy.channels_open(request.user, item, person)
        if c in (Channel.DESK, Channel.PROXY)
    ]
    if not channels:
        messages.error(request, _("You cannot apply for this service for this resident."))
        return redirect(f"{reverse('desk:index')}?person={person.pk}")
    form = ApplyForm(
        request.POST or None, request.FILES or None, item=item, channels=channels, staff=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(
                actor=request.user,
                item=item,
                person=person,
                channel=form.cleaned_data["channel"],
                proxy_authorisation=form.cleaned_data.get("proxy_authorisation", ""),
                form=form.extra_values(),
                files=form.files_by_code(),
                seen=form.seen_codes(),
            )
        except DomainError as exc:
            form.show_error(exc)
        else:
            messages.success(
                request, _("Application %(code)s is recorded.") % {"code": application.code}
            )
            return hx_redirect(request, reverse("desk:application", args=[application.code]))
    register = services.register_form(item, person)
    context = {
        "item": item,
        "person": person,
        "form": form,
        "register": register_rows({"register": register}),
        "register_tags": [
            t for t in register["tags"] if not t["sensitive"] or can_see_sensitive(request.user)
        ],
    }
    return render_page(request, "servicedesk/desk_apply.html", context, partial="form")


@require_perm("desk.view")
def desk_queue(request: HttpRequest) -> HttpResponse:
    """The desk's work: to accept, under review, waiting for materials, overdue first."""
    counts = selectors.queue_counts(request.user)
    name = request.GET.get("queue") or next(
        (n for n in ("overdue", "to_accept", "under_review", "needs_materials") if counts[n]),
        "all",
    )
    if name not in counts:
        name = "all"
    filterset = ApplicationFilter(request.GET, queryset=selectors.queue(request.user, name))
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    context = {
        "tabs": [{"name": n, "label": QUEUE_LABELS[n], "count": counts[n]} for n in counts],
        "current": name,
        "filter": filterset,
        "page": page,
        "now": timezone.now(),
    }
    return render_page(request, "servicedesk/desk_queue.html", context, partial="queue")


@require_perm("desk.view")
def desk_application(request: HttpRequest, code: str) -> HttpResponse:
    application = access_application(request.user, code)
    if not policy.in_scope(request.user, "desk.view", application.area.path):
        raise Http404
    context = {
        "application": application,
        "timeline": labelled(selectors.timeline(application)),
        "register": register_rows(application.form),
        "register_tags": selectors.register_tags(application, request.user),
        "extra": extra_rows(application),
        "materials": material_rows(application),
        "missing": services.missing_materials(application),
        "moves": move_list(request.user, application, "desk:act"),
        "can_mark_seen": policy.can_mark_seen(request.user, application.area.path),
        "overdue": _is_overdue(application),
        "progress_url": request.build_absolute_uri(
            reverse("services:progress", args=[application.public_token])
        ),
    }
    return render_page(request, "servicedesk/desk_application.html", context, partial="body")


def _is_overdue(application: Application) -> bool:
    return bool(
        application.status in CLOCK_RUNS
        and application.due_at
        and application.due_at < timezone.now()
    )


@require_perm("desk.view")
@require_POST
def desk_act(request: HttpRequest, code: str, move: str) -> HttpResponseBase:
    application = access_application(request.user, code)
    if move not in MOVES:
        raise Http404
    act(request, application, move)
    return hx_redirect(request, reverse("desk:application", args=[application.code]))
