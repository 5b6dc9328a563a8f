"""Roles and what each may do. One table decides both the navigation and the permission checks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    GRID_WORKER = "grid_worker", _("Grid worker")
    COMMUNITY_WORKER = "community_worker", _("Community worker")
    COMMUNITY_HEAD = "community_head", _("Community head")
    STREET = "street", _("Street office")
    DEPARTMENT = "department", _("Department handler")
    DISTRICT_ADMIN = "district_admin", _("District civil affairs")
    AUDITOR = "auditor", _("Auditor")
    SYSADMIN = "sysadmin", _("System administrator")


STAFF_ROLES = frozenset(Role) - {Role.RESIDENT}

_ALL = frozenset(Role)
_REGISTRY_STAFF = frozenset(
    {
        Role.GRID_WORKER,
        Role.COMMUNITY_WORKER,
        Role.COMMUNITY_HEAD,
        Role.STREET,
        Role.DISTRICT_ADMIN,
        Role.SYSADMIN,
    }
)
PERMISSIONS: dict[str, frozenset[Role]] = {
    # Areas are not secret; every role reads the part of the tree it belongs to.
    "areas.view": _ALL,
    "areas.browse": STAFF_ROLES,
    # The register: residents' personal data, read by those who serve them.
    "registry.view": _REGISTRY_STAFF,
    "registry.edit": _REGISTRY_STAFF - {Role.STREET},
    "registry.unmask": _REGISTRY_STAFF - {Role.STREET},
    "registry.sensitive": frozenset(
        {Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD, Role.DISTRICT_ADMIN}
    ),
    "registry.import": frozenset(
        {Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD, Role.DISTRICT_ADMIN, Role.SYSADMIN}
    ),
    "registry.export": frozenset(
        {Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD, Role.DISTRICT_ADMIN}
    ),
    # Cases: anyone signed in may report; staff see the cases of their areas; residents see
    # the cases they reported.
    "cases.report": _ALL,
    "cases.view": STAFF_ROLES,
    "cases.manage": frozenset(
        {Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD, Role.STREET, Role.DISTRICT_ADMIN}
    ),
    "cases.handle": frozenset(
        {
            Role.GRID_WORKER,
            Role.COMMUNITY_WORKER,
            Role.COMMUNITY_HEAD,
            Role.STREET,
            Role.DEPARTMENT,
            Role.DISTRICT_ADMIN,
        }
    ),
    "cases.verify": frozenset({Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD}),
    "cases.supervise": frozenset({Role.COMMUNITY_HEAD, Role.STREET, Role.DISTRICT_ADMIN}),
    "cases.analyse": frozenset(
        {Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD, Role.STREET, Role.DISTRICT_ADMIN}
    ),
    "cases.configure": frozenset({Role.DISTRICT_ADMIN, Role.SYSADMIN}),
    # Service desk: residents apply for themselves; desk staff apply for them, accept and decide.
    "desk.apply": frozenset(
        {Role.RESIDENT, Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD}
    ),
    "desk.view": _REGISTRY_STAFF,
    "desk.handle": frozenset(
        {Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD, Role.STREET, Role.DISTRICT_ADMIN}
    ),
    "desk.configure": frozenset({Role.DISTRICT_ADMIN, Role.SYSADMIN}),
    "certificates.issue": frozenset({Role.COMMUNITY_WORKER, Role.COMMUNITY_HEAD}),
    "certificates.revoke": frozenset({Role.COMMUNITY_HEAD, Role.DISTRICT_ADMIN}),
    "eligibility.view": frozenset(
        {
            Role.GRID_WORKER,
            Role.COMMUNITY_WORKER,
            Role.COMMUNITY_HEAD,
            Role.STREET,
            Role.DISTRICT_ADMIN,
        }
    ),
    "eligibility.configure": frozenset({Role.DISTRICT_ADMIN}),
    "audit.view": frozenset({Role.AUDITOR, Role.SYSADMIN}),
    "audit.export": frozenset({Role.AUDITOR, Role.SYSADMIN}),
    "accounts.admin": frozenset({Role.SYSADMIN}),
}
