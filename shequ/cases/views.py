"""Case pages: my queues, the list, report (phone-first), a case with its timeline and the
moves I may make, and the public page where a reporter follows a case without signing in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shequ.accounts.scoping import has_perm, scope_q
from shequ.areas.models import Area
from shequ.cases import policy, selectors, services
from shequ.cases.access import CODE_RE, access_case, access_task, access_unit
from shequ.cases.filters import CaseFilter
from shequ.cases.forms import MoveForm, ReportForm
from shequ.cases.models import Case, Unit
from shequ.cases.states import MOVES, Source
from shequ.core.errors import DomainError, NotFound
from shequ.core.views import add_domain_error, render_page, require_perm

# Lazy: these are read at request time, in the language of the request.
EVENT_LABELS = {
    "reported": gettext_lazy("Reported"),
    "task_answered": gettext_lazy("Helping unit answered"),
    "sla_yellow": gettext_lazy("Due soon"),
    "sla_red": gettext_lazy("Overdue"),
    "auto_escalate": gettext_lazy("Escalated automatically"),
    "auto_close": gettext_lazy("Closed automatically"),
    "media_url": gettext_lazy("Media link from an Open311 client (not fetched)"),
}


def event_label(kind: str) -> str:
    move = MOVES.get(kind)
    return str(move.label) if move else str(EVENT_LABELS.get(kind, kind))


QUEUE_LABELS = {
    "to_accept": gettext_lazy("To accept"),
    "to_dispatch": gettext_lazy("To dispatch"),
    "to_handle": gettext_lazy("To handle"),
    "to_verify": gettext_lazy("To verify"),
    "overdue": gettext_lazy("Overdue"),
    "reported_by_me": gettext_lazy("Reported by me"),
}


def _hx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", None):
        response = HttpResponse(status=204)
        response["HX-Location"] = url
        return response
    return redirect(url)


@login_required
def case_index(request: HttpRequest) -> HttpResponse:
    """My work: one tab per queue that is mine, overdue first."""
    counts = selectors.queue_counts(request.user)
    tabs = [
        {"name": n, "label": QUEUE_LABELS[n], "count": counts[n]}
        for n in selectors.QUEUES
        if n == "reported_by_me" or counts[n] or _queue_is_mine(request.user, n)
    ]
    name = request.GET.get("queue") or next(
        (str(t["name"]) for t in tabs if t["count"]),
        str(tabs[0]["name"]) if tabs else "reported_by_me",
    )
    if name not in counts:
        name = "reported_by_me"
    page = Paginator(selectors.queue(request.user, name), 20).get_page(request.GET.get("page"))
    context = {
        "tabs": tabs,
        "current": name,
        "page": page,
        "can_report": has_perm(request.user, "cases.report"),
    }
    return render_page(request, "cases/index.html", context, partial="queue")


def _queue_is_mine(user: Any, name: str) -> bool:
    perm = {
        "to_accept": "cases.manage",
        "to_dispatch": "cases.manage",
        "to_verify": "cases.verify",
        "overdue": "cases.view",
    }.get(name)
    if name == "to_handle":
        return bool(policy.unit_ids(user))
    return bool(perm and has_perm(user, perm))


@require_perm("cases.view")
def case_list(request: HttpRequest) -> HttpResponse:
    # Always bound: an unbound filter set is never valid, which would list nothing at all.
    filterset = CaseFilter(request.GET, queryset=selectors.case_list(request.user))
    cases = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(cases, 25).get_page(request.GET.get("page"))
    return render_page(
        request, "cases/list.html", {"filter": filterset, "page": page}, partial="results"
    )


def _report_areas(user: Any) -> Any:
    if has_perm(user, "cases.view"):
        return Area.objects.filter(scope_q(user, "", perm="cases.view"))
    # A resident picks among the grids of the community they live in.
    from shequ.accounts.scoping import memberships

    paths = [m.area.path[: 8 * 3] for m in memberships(user)]
    q = Area.objects.none()
    for p in paths:
        q = q | Area.objects.filter(path__startswith=p)
    return q


@require_perm("cases.report")
def case_report(request: HttpRequest) -> HttpResponse:
    staff = has_perm(request.user, "cases.view")
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        areas=_report_areas(request.user),
        staff=staff,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = data.get("source") or (Source.GRID if staff else Source.RESIDENT)
        try:
            case = services.case_create(
                actor=request.user,
                category=data["category"],
                description=data["description"],
                area=data["area"],
                lat=data["lat"],
                lng=data["lng"],
                address=data["address"],
                source=source,
                photos=data["photos"],
                reporter_name=data.get("reporter_name", ""),
                reporter_phone=data.get("reporter_phone", ""),
                on_spot_answer=data.get("on_spot_answer", ""),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Case %(code)s is reported. You can follow it at any time.")
                % {"code": case.code},
            )
            return redirect("cases:detail", case.code)
    return render(
        request,
        "cases/report.html",
        {"form": form, "staff": staff, "tile_url": settings.MAP_TILE_URL},
    )


@login_required
def case_duplicates(request: HttpRequest) -> HttpResponse:
    """Open cases like the one being reported: same category, within 100 m, last 72 hours."""
    rows: list[Case] = []
    try:
        category_id = int(request.GET.get("category", ""))
        lat, lng = float(request.GET.get("lat", "")), float(request.GET.get("lng", ""))
    except ValueError:
        category_id = 0
        lat = lng = 0.0
    if category_id and has_perm(request.user, "cases.view"):
        from shequ.cases.models import Category

        category = Category.objects.filter(pk=category_id).first()
        if category is not None:
            rows = [
                c
                for c in selectors.duplicates_near(category=category, lat=lat, lng=lng)
                if policy.can_see(request.user, c)
            ]
    return render(request, "cases/_duplicates.html", {"rows": rows})


def _move_forms(user: Any, case: Case) -> list[dict[str, Any]]:
    return [{"name": n, "move": MOVES[n]} for n in policy.allowed(user, case)]


@login_required
def case_detail(request: HttpRequest, ref: str) -> HttpResponse:
    case = access_case(request.user, ref)
    photos = list(case.photos.all())
    district_path = case.district.path
    moves = _move_forms(request.user, case)
    names = {m["name"] for m in moves}
    context = {
        "case": case,
        # Internal steps (supervision, escalation) are for staff; a reporter sees the rest.
        "timeline": _labelled(
            selectors.timeline(
                case, public=not policy.in_scope(request.user, "cases.view", case.area.path)
            )
        ),
        "tasks": case.tasks.select_related("unit"),
        "report_photos": [p for p in photos if p.kind == "report"],
        "evidence_photos": [p for p in photos if p.kind == "evidence"],
        "moves": moves,
        "units": Unit.objects.filter(active=True, area__path__startswith=district_path)
        .select_related("area")
        .order_by("kind", "name")
        if names & {"dispatch"}
        else [],
        "suggested": services.route(case.category, case.area) if "dispatch" in names else None,
        "duplicates": [
            c
            for c in selectors.duplicates_near(
                category=case.category, lat=case.lat, lng=case.lng, exclude=case.pk
            )
            if policy.can_see(request.user, c)
        ]
        if "merge" in names and case.lat is not None and case.lng is not None
        else [],
        "my_units": policy.unit_ids(request.user),
        "is_staff": has_perm(request.user, "cases.view"),
        "tile_url": settings.MAP_TILE_URL,
        "track_url": request.build_absolute_uri(reverse("track_case", args=[case.public_token])),
    }
    return render_page(request, "cases/detail.html", context, partial="body")


def _labelled(events: Any, *, who: bool = True) -> list[Any]:
    rows = list(events)
    for e in rows:
        e.label = event_label(e.kind)
        if not who:
            continue
        if e.actor_id and e.actor is not None:
            e.who = e.actor.display_name
        elif e.kind == "rate":
            e.who = _("the reporter, by link")
        else:
            e.who = _("system")
    return rows


@login_required
def case_photo(request: HttpRequest, ref: str, photo_id: str) -> HttpResponseBase:
    """Photos are served only to those who may see the case (never from a public folder)."""
    case = access_case(request.user, ref)
    if not photo_id.isdigit():
        raise Http404
    photo = case.photos.filter(pk=int(photo_id)).first()
    if photo is None:
        raise Http404
    response = FileResponse(photo.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _units(text: str, district_path: str) -> list[Unit]:
    return [
        access_unit(None, code.strip(), district_path=district_path)
        for code in text.split(",")
        if code.strip()
    ]


@login_required
@require_POST
def case_act(request: HttpRequest, ref: str, move: str) -> HttpResponseBase:
    case = access_case(request.user, ref)
    if move not in MOVES:
        raise Http404
    form = MoveForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _hx_redirect(request, reverse("cases:detail", args=[case.code]))
    data = form.cleaned_data
    try:
        target = None
        if data["target"]:
            if not CODE_RE.match(data["target"].strip().upper()):
                raise DomainError(
                    "case_bad_merge_target", _("Enter a case number like SJ20261122-000001.")
                )
            target = access_case(request.user, data["target"].strip().upper())
        services.case_move(
            actor=request.user,
            case=case,
            move=move,
            note=data["note"],
            answer=data["answer"],
            unit=access_unit(None, data["unit"], district_path=case.district.path)
            if data["unit"]
            else None,
            helpers=_units(",".join(request.POST.getlist("helpers")), case.district.path),
            target=target,
            rating=data["rating"],
            days=data["days"],
            photos=data["photos"],
            expected_version=data["version"],
        )
    except NotFound:
        messages.error(request, _("That unit or case does not exist or you may not see it."))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Done: %(move)s.") % {"move": MOVES[move].label})
    return _hx_redirect(request, reverse("cases:detail", args=[case.code]))


@login_required
@require_POST
def task_answer(request: HttpRequest, ref: str, task_id: str) -> HttpResponseBase:
    case = access_case(request.user, ref)
    task = access_task(request.user, case, task_id)
    try:
        services.case_task_answer(
            actor=request.user, task=task, answer=request.POST.get("answer", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your unit's answer is recorded."))
    return _hx_redirect(request, reverse("cases:detail", args=[case.code]))


# The public page: no sign-in, no personal data (no description, names, phones or notes).


def track_form(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "").strip().upper()
    if code:
        case = (
            Case.objects.filter(code=code).only("public_token").first()
            if CODE_RE.match(code)
            else None
        )
        if case is not None:
            return redirect("track_case", case.public_token)
        messages.error(request, _("No case has this number."))
    return render(request, "cases/track_form.html", {"code": code})


def track(request: HttpRequest, token: Any) -> HttpResponse:
    if request.method == "POST":
        try:
            rating = int(request.POST.get("rating", ""))
        except ValueError:
            rating = None
        try:
            services.case_rate_by_link(
                token=token, rating=rating, note=request.POST.get("note", "")[:1000]
            )
        except NotFound as exc:
            raise Http404 from exc
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Thank you for your rating."))
        return redirect("track_case", token)
    case = (
        Case.objects.filter(public_token=token)
        .select_related("category__parent", "area__parent")
        .first()
    )
    if case is None:
        raise Http404
    events = _labelled(
        case.events.filter(public=True).order_by("at", "id").only("at", "kind", "to_status"),
        who=False,
    )
    community = case.area
    while community.level not in ("community",) and community.parent_id:
        community = community.parent
    return render(
        request,
        "cases/track.html",
        {
            "case": case,
            "events": events,
            "community": community,
        },
    )
