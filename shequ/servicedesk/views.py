"""Resident-facing pages (phone first): the public catalogue, applying online, my
applications, and the public progress page that shows no personal data."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shequ.accounts.scoping import has_perm
from shequ.core.errors import DomainError, NotFound
from shequ.core.views import render_page
from shequ.registry.models import Person
from shequ.registry.states import Gender, Relation, ResidenceType
from shequ.servicedesk import policy, selectors, services
from shequ.servicedesk.access import access_application, access_item
from shequ.servicedesk.forms import ApplyForm, MoveForm, move_materials
from shequ.servicedesk.models import Application, ServiceItem
from shequ.servicedesk.states import MOVES, Channel, ItemCategory, Status

EVENT_LABELS = {"submitted": gettext_lazy("Submitted")}

# The steps a resident sees on the progress bar, in order.
STEPS = [
    (Status.SUBMITTED, gettext_lazy("Submitted")),
    (Status.ACCEPTED, gettext_lazy("Accepted")),
    (Status.UNDER_REVIEW, gettext_lazy("Under review")),
    (Status.APPROVED, gettext_lazy("Done")),
]
_STEP_OF = {
    Status.SUBMITTED: 0,
    Status.NEEDS_MATERIALS: 0,
    Status.REFUSED: 0,
    Status.ACCEPTED: 1,
    Status.UNDER_REVIEW: 2,
    Status.APPROVED: 3,
    Status.DENIED: 3,
    Status.RATED: 3,
}


def event_label(kind: str) -> str:
    move = MOVES.get(kind)
    return str(move.label) if move else str(EVENT_LABELS.get(kind, kind))


def labelled(events: Any, *, who: bool = True) -> list[Any]:
    rows = list(events)
    for e in rows:
        e.label = event_label(e.kind)
        if who:
            e.who = e.actor.display_name if e.actor_id and e.actor is not None else _("system")
    return rows


def progress_steps(application: Application) -> list[dict[str, Any]]:
    """The progress bar: done, current or to come, for each step."""
    at = _STEP_OF.get(Status(application.status), 0)
    if application.status == Status.NEEDS_MATERIALS and application.accepted_at is not None:
        at = _STEP_OF[Status.ACCEPTED]  # 补正 after acceptance: it stays accepted on the bar
    return [
        {"label": label, "state": "done" if i < at else "current" if i == at else "todo"}
        for i, (_status, label) in enumerate(STEPS)
    ]


def move_list(user: Any, application: Application, url_name: str) -> list[dict[str, Any]]:
    """The moves the user may make now, each with the URL its form posts to."""
    return [
        {"name": n, "move": MOVES[n], "action": reverse(url_name, args=[application.code, n])}
        for n in policy.allowed(user, application)
    ]


def base_template(request: HttpRequest) -> str:
    """The signed-in layout, or a public one that scrolls (the sign-in page's centred layout
    cuts off the top of a page taller than the screen)."""
    return "base.html" if request.user.is_authenticated else "servicedesk/_public.html"


def hx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", None):
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)


def register_rows(form: dict[str, Any]) -> list[tuple[str, str]]:
    """The register's data on an application as (label, value) rows, in a fixed order."""
    reg = form.get("register", {})
    gender = reg.get("gender", "")
    relation = reg.get("relation_to_head", "")
    residence = reg.get("residence_type", "")
    rows = [
        (_("Applicant's name"), reg.get("name", "")),
        (_("Gender"), str(Gender(gender).label) if gender in Gender.values else ""),
        (_("Birth date"), reg.get("birth_date", "")),
        (_("Age"), str(reg["age"]) if reg.get("age") is not None else ""),
        (_("ID number"), reg.get("id_masked", "")),
        (_("Phone"), reg.get("phone_masked", "")),
        (_("Address"), reg.get("address", "")),
        (_("Household number"), reg.get("household", "")),
        (
            _("Relation to head"),
            str(Relation(relation).label) if relation in Relation.values else "",
        ),
        (
            _("Residence"),
            str(ResidenceType(residence).label) if residence in ResidenceType.values else "",
        ),
        (_("Registered in"), reg.get("area", "")),
    ]
    return [(label, value) for label, value in rows if value]


def extra_rows(application: Application) -> list[tuple[str, Any]]:
    values = application.form.get("extra", {})
    return [
        (spec["label"], values[spec["code"]])
        for spec in application.item.extra_fields
        if spec["code"] in values
    ]


def material_rows(application: Application) -> list[dict[str, Any]]:
    rows = {r.code: r for r in application.material_rows.select_related("seen_by")}
    names = {m["code"]: m for m in application.item.materials}
    out = [
        {"code": code, "name": m["name"], "required": m.get("required"), "row": rows.get(code)}
        for code, m in names.items()
    ]
    if services.OTHER in rows:
        out.append(
            {
                "code": services.OTHER,
                "name": _("Other document"),
                "required": False,
                "row": rows[services.OTHER],
            }
        )
    return out


# The public catalogue -------------------------------------------------------------------------


def catalogue(request: HttpRequest) -> HttpResponse:
    """Every active service, by category, with a search box. No sign-in needed."""
    q = request.GET.get("q", "")[:40]
    category = request.GET.get("category", "")
    if category not in ItemCategory.values:
        category = ""
    items = selectors.catalogue(q=q, category=category)
    context = {
        "base": base_template(request),
        "groups": selectors.catalogue_by_category(items),
        "q": q,
        "category": category,
        "categories": ItemCategory.choices,
        "count": len(items),
    }
    return render_page(request, "servicedesk/catalogue.html", context, partial="results")


def item_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        item = access_item(code)
    except NotFound as exc:
        raise Http404 from exc
    person_id = policy.linked_person_id(request.user)
    context = {
        "base": base_template(request),
        "item": item,
        "linked": person_id is not None,
        "staff": has_perm(request.user, "desk.view"),
    }
    return render(request, "servicedesk/item_detail.html", context)


# Applying online ------------------------------------------------------------------------------


@login_required
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """A resident applies for themselves: the register's data shown, only the rest asked."""
    try:
        item = access_item(code)
    except NotFound as exc:
        raise Http404 from exc
    person_id = policy.linked_person_id(request.user)
    if person_id is None:
        return render(request, "servicedesk/apply_unlinked.html", {"item": item}, status=403)
    person = (
        Person.objects.select_related("area", "district", "dwelling", "household")
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise Http404
    if Channel.ONLINE not in policy.channels_open(request.user, item, person):
        return render(request, "servicedesk/apply_unlinked.html", {"item": item, "offline": True})
    form = ApplyForm(
        request.POST or None, request.FILES or None, item=item, channels=[], staff=False
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(
                actor=request.user,
                item=item,
                person=person,
                channel=Channel.ONLINE,
                form=form.extra_values(),
                files=form.files_by_code(),
            )
        except DomainError as exc:
            form.show_error(exc)
        else:
            messages.success(
                request,
                _("Application %(code)s is submitted. We will tell you of every step.")
                % {"code": application.code},
            )
            return redirect("services:my_detail", application.code)
    register = services.register_form(item, person)
    context = {
        "item": item,
        "form": form,
        "register": register_rows({"register": register}),
        "register_tags": register["tags"],
    }
    return render(request, "servicedesk/apply.html", context)


# My applications ------------------------------------------------------------------------------


@login_required
def my_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_applications(request.user), 20).get_page(request.GET.get("page"))
    for application in page.object_list:
        application.steps = progress_steps(application)
    context = {"page": page, "linked": policy.linked_person_id(request.user) is not None}
    return render_page(request, "servicedesk/my_list.html", context, partial="list")


@login_required
def my_detail(request: HttpRequest, code: str) -> HttpResponseBase:
    application = access_application(request.user, code)
    if not policy.is_applicant(request.user, application):
        return redirect("desk:application", application.code)
    context = {
        "application": application,
        "steps": progress_steps(application),
        "timeline": labelled(selectors.timeline(application), who=False),
        "register": register_rows(application.form),
        "register_tags": selectors.register_tags(application, request.user),
        "extra": extra_rows(application),
        "materials": material_rows(application),
        "moves": move_list(request.user, application, "services:my_act"),
        "progress_url": request.build_absolute_uri(
            reverse("services:progress", args=[application.public_token])
        ),
    }
    return render_page(request, "servicedesk/my_detail.html", context, partial="body")


@login_required
@require_POST
def my_act(request: HttpRequest, code: str, move: str) -> HttpResponseBase:
    application = access_application(request.user, code)
    if move not in MOVES:
        raise Http404
    act(request, application, move)
    return hx_redirect(request, reverse("services:my_detail", args=[application.code]))


def act(request: HttpRequest, application: Application, move: str) -> bool:
    """Make a move from a page's form; the outcome goes to the messages."""
    form = MoveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return False
    data = form.cleaned_data
    files, seen = move_materials(request, application.item)
    try:
        services.application_move(
            actor=request.user,
            application=application,
            move=move,
            note=data["note"],
            forwarded_to=data["forwarded_to"],
            rating=data["rating"],
            files=files,
            seen=seen,
            expected_version=data["version"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, _("Done: %(move)s.") % {"move": MOVES[move].label})
    return True


# The public progress page: no sign-in, nothing personal ---------------------------------------


def progress(request: HttpRequest, token: Any) -> HttpResponse:
    application = (
        Application.objects.filter(public_token=token)
        .select_related("item")
        .only(
            "code",
            "status",
            "created_at",
            "accepted_at",
            "finished_at",
            "due_at",
            "paused_at",
            "item__name",
            "item__department",
            "item__time_limit_days",
        )
        .first()
    )
    if application is None:
        raise Http404
    events = labelled(
        application.events.order_by("at", "id").only("at", "kind", "to_status"), who=False
    )
    context = {
        "application": application,
        "steps": progress_steps(application),
        "events": events,
    }
    return render(request, "servicedesk/progress.html", context)


def items_for_picker() -> list[selectors.CategoryGroup]:
    return selectors.catalogue_by_category(ServiceItem.objects.filter(active=True))
