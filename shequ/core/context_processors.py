"""What every page's layout needs: the navigation this user may use and their roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.accounts.roles import Role
from shequ.accounts.scoping import has_perm, memberships


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    icon: str
    perm: str | None
    prefix: str


NAV: list[NavItem] = [
    NavItem(_("Home"), "home", "home", None, "/"),
    NavItem(_("Areas & grids"), "areas:index", "map-2", "areas.browse", "/areas/"),
    NavItem(_("People"), "registry:people", "users", "registry.view", "/registry/people/"),
    NavItem(
        _("Imports"), "registry:imports", "file-import", "registry.import", "/registry/imports/"
    ),
    NavItem(_("To review"), "registry:queues", "list-check", "registry.edit", "/registry/queues/"),
    NavItem(
        _("Addresses to resolve"),
        "registry:addresses_unresolved",
        "map-pin-question",
        "registry.edit",
        "/registry/addresses/",
    ),
    NavItem(
        _("Organisations"),
        "registry:organisations",
        "building-store",
        "registry.view",
        "/registry/organisations/",
    ),
    NavItem(
        _("Exports"), "registry:exports", "file-export", "registry.export", "/registry/exports/"
    ),
    NavItem(_("Cases"), "cases:index", "urgent", "cases.report", "/cases/"),
    NavItem(
        _("Case analysis"), "cases:analysis", "chart-dots", "cases.analyse", "/cases/analysis/"
    ),
    NavItem(_("Inbox"), "inbox:index", "bell", None, "/inbox/"),
    NavItem(
        _("Entitlements"),
        "eligibility:index",
        "heart-handshake",
        "eligibility.view",
        "/eligibility/",
    ),
    NavItem(_("One-stop desk"), "desk:index", "building-community", "desk.view", "/desk/"),
    NavItem(_("Service guide"), "services:catalogue", "book-2", None, "/services/"),
    NavItem(_("Audit log"), "audit:list", "shield-check", "audit.view", "/audit/"),
    NavItem(_("API"), "api-docs", "api", "areas.browse", "/api/"),
]


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    for item in NAV:
        if item.perm is None or has_perm(user, item.perm):
            url = reverse(item.url_name)
            active = (
                request.path == url if item.prefix == "/" else request.path.startswith(item.prefix)
            )
            items.append({"label": item.label, "url": url, "icon": item.icon, "active": active})
    ms = memberships(user)
    role_labels = sorted({Role(m.role).label for m in ms}, key=str)
    return {
        "nav_items": items,
        "user_roles": role_labels,
        "user_areas": [m.area for m in ms][:3],
        "can_admin": user.is_superuser,
    }
