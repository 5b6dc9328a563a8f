"""Eligibility pages (主动推送): coverage per community, the outreach list with the grid
worker's buttons, one task, and the rule editor of the district's civil affairs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from shequ.accounts.scoping import has_perm
from shequ.areas.models import Level
from shequ.cases.api.serializers import mask_name
from shequ.core import tasks
from shequ.core.errors import DomainError
from shequ.core.views import add_domain_error, render_page, require_perm
from shequ.servicedesk import eligibility, policy
from shequ.servicedesk.forms_eligibility import (
    CheckForm,
    EntitlementFilter,
    OutreachForm,
    RuleForm,
)
from shequ.servicedesk.models import EligibilityRule, Entitlement, OutreachState
from shequ.servicedesk.rules import RuleError

OPEN_STATES = (OutreachState.OPEN, OutreachState.CONTACTED)


def _decorate(user: Any, rows: list[Entitlement]) -> list[Entitlement]:
    """What a row shows: the masked name, the age, and the buttons this user may press."""
    for e in rows:
        e.masked_name = mask_name(e.person.name)  # type: ignore[attr-defined]
        e.person_age = e.person.age  # type: ignore[attr-defined]
        e.moves = [  # type: ignore[attr-defined]
            {"state": s, "label": eligibility.MOVE_LABELS[OutreachState(s)]}
            for s in eligibility.outreach_moves(user, e)
        ]
    return rows


@require_perm("eligibility.view")
def index(request: HttpRequest) -> HttpResponse:
    """Coverage of every rule in the user's areas (or one of them), with their own tasks."""
    user = request.user
    areas = list(eligibility.visible_areas(user))
    code = request.GET.get("area", "")
    area = next((a for a in areas if a.code == code), None)
    rows = eligibility.coverage(user, area=area)
    rule = next((r.rule for r in rows if r.rule.code == request.GET.get("rule", "")), None)
    breakdown: list[eligibility.Coverage] = []
    level = Level.COMMUNITY
    if area is not None and area.level == Level.COMMUNITY:
        level = Level.GRID
    if rule is not None and (area is None or area.level != Level.GRID):
        breakdown = [
            c
            for c in eligibility.coverage_by_area(user, rule, level=level)
            if area is None or (c.area is not None and c.area.path.startswith(area.path))
        ]
    mine = eligibility.entitlement_list(user).filter(
        assignee_id=user.pk, still_entitled=True, state__in=OPEN_STATES
    )
    context = {
        "rows": rows,
        "areas": areas,
        "area": area,
        "rule": rule,
        "breakdown": breakdown,
        "breakdown_level": level,
        "my_tasks": _decorate(user, list(mine.order_by("state", "rule__code", "pk")[:10])),
        "my_task_count": mine.count(),
        "can_configure": eligibility.can_configure(user),
    }
    return render_page(request, "servicedesk/eligibility_index.html", context, partial="coverage")


@require_perm("eligibility.view")
def people(request: HttpRequest) -> HttpResponse:
    """The outreach list: who is entitled, by rule, state, area; mine first for a grid worker."""
    filterset = EntitlementFilter(
        request.GET,
        queryset=eligibility.entitlement_list(request.user).order_by("rule__code", "state", "pk"),
        request=request,
    )
    found = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    _decorate(request.user, list(page.object_list))
    rule = EligibilityRule.objects.filter(code=request.GET.get("rule", "")[:40]).first()
    context = {
        "filter": filterset,
        "page": page,
        "rule": rule,
        "rules": EligibilityRule.objects.order_by("code"),
        "states": OutreachState.choices,
    }
    return render_page(request, "servicedesk/eligibility_people.html", context, partial="results")


@require_perm("eligibility.view")
def detail(request: HttpRequest, pk: str) -> HttpResponse:
    entitlement = eligibility.access_entitlement(request.user, pk)
    _decorate(request.user, [entitlement])
    person = entitlement.person
    item = entitlement.rule.item
    context = {
        "e": entitlement,
        "form": OutreachForm(),
        "can_open_register": has_perm(request.user, "registry.view"),
        "can_apply": item is not None
        and item.active
        and entitlement.state != OutreachState.RECEIVING
        and policy.staff_in(request.user, "desk.apply", person.area.path),
    }
    return render(request, "servicedesk/eligibility_detail.html", context)


@require_perm("eligibility.view")
@require_POST
def act(request: HttpRequest, pk: str, state: str) -> HttpResponseBase:
    """Mark a task contacted, declined or applied; from the list (htmx) the row is swapped."""
    entitlement = eligibility.access_entitlement(request.user, pk)
    form = OutreachForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    htmx = getattr(request, "htmx", None)
    error = ""
    try:
        entitlement = eligibility.entitlement_update(
            actor=request.user, entitlement=entitlement, state=state, note=note
        )
    except DomainError as exc:
        error = exc.message
    if htmx and not htmx.boosted:
        fresh = eligibility.access_entitlement(request.user, entitlement.pk)
        _decorate(request.user, [fresh])
        response = render(
            request,
            "servicedesk/eligibility_people.html#row",
            {"e": fresh, "error": error},
            status=409 if error else 200,
        )
        if error:
            # htmx does not swap error responses by default; this one carries the message.
            response["HX-Reswap"] = "outerHTML"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("Marked “%(state)s”.") % {"state": OutreachState(state).label},
        )
    return redirect("eligibility:detail", entitlement.pk)


# ---------------------------------------------------------------------------------------------
# The rule editor


@require_perm("eligibility.view")
def rule_list(request: HttpRequest) -> HttpResponse:
    context = {
        "rules": EligibilityRule.objects.select_related("item").order_by("-active", "code"),
        "can_configure": eligibility.can_configure(request.user),
    }
    return render(request, "servicedesk/eligibility_rules.html", context)


def _rule_initial(rule: EligibilityRule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "expression": rule.expression,
        "receiving": rule.receiving,
        "item": rule.item.code if rule.item is not None else "",
        "outreach": rule.outreach,
        "notice": rule.notice,
        "active": rule.active,
    }


@require_perm("eligibility.configure")
def rule_new(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule = eligibility.rule_create(
                actor=request.user,
                code=data["code"],
                name=data["name"],
                expression=data["expression"],
                receiving=data["receiving"],
                item=data["item"],
                outreach=data["outreach"],
                notice=data["notice"],
                active=data["active"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
            return redirect("eligibility:rules")
    return render(request, "servicedesk/eligibility_rule_form.html", {"form": form, "rule": None})


@require_perm("eligibility.configure")
def rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    rule = eligibility.access_rule(request.user, code)
    form = RuleForm(request.POST or None, initial=_rule_initial(rule), editing=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            eligibility.rule_update(
                actor=request.user,
                rule=rule,
                **{k: data[k] for k in eligibility.RULE_FIELDS},
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": data["name"]})
            return redirect("eligibility:rules")
    return render(request, "servicedesk/eligibility_rule_form.html", {"form": form, "rule": rule})


@require_perm("eligibility.configure")
@require_POST
def rule_check(request: HttpRequest) -> HttpResponse:
    """The editor's check button: the error with its position, or how many match now."""
    form = CheckForm(request.POST)
    context: dict[str, Any] = {}
    if not form.is_valid():
        context["error"] = _("Choose a service from the list.")
        return render(request, "servicedesk/eligibility_rule_form.html#check", context)
    data = form.cleaned_data
    for name, label, allow_empty in (
        ("expression", _("Who is entitled"), False),
        ("receiving", _("Who already receives it"), True),
    ):
        error = eligibility.expression_error(data[name], allow_empty=allow_empty)
        if error:
            context.update(error=error, field=label)
            return render(request, "servicedesk/eligibility_rule_form.html#check", context)
    try:
        entitled, receiving = eligibility.matching_count(
            actor=request.user,
            expression=data["expression"],
            receiving=data["receiving"],
            item=data["item"],
        )
    except RuleError as exc:  # checked just above; a tag deleted meanwhile
        context.update(error=eligibility.message(exc), field=_("Who is entitled"))
    else:
        context.update(entitled=entitled, receiving=receiving, to_reach=entitled - receiving)
    return render(request, "servicedesk/eligibility_rule_form.html#check", context)


@require_perm("eligibility.configure")
@require_POST
def rule_run(request: HttpRequest, code: str) -> HttpResponse:
    """Run one rule now (in the background; the page shows its last run)."""
    rule = eligibility.access_rule(request.user, code)
    tasks.enqueue(_run_one, rule.code, request.user.pk)
    messages.success(
        request,
        _("Rule “%(name)s” is running; its results appear on the coverage page.")
        % {"name": rule.name},
    )
    return redirect("eligibility:rules")


def _run_one(code: str, user_id: int) -> None:
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=user_id).first() or "eligibility-run"
    eligibility.eligibility_run(rules=[code], now=timezone.now(), actor=actor)
