"""The application loop as data: statuses, the moves between them, who makes each move."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ItemCategory(models.TextChoices):
    ELDERLY = "elderly", _("Elderly care")
    DISABILITY = "disability", _("Disability support")
    ASSISTANCE = "assistance", _("Social assistance")
    EMPLOYMENT = "employment", _("Employment")
    HEALTH = "health", _("Health")
    FAMILY = "family", _("Family planning")
    VETERANS = "veterans", _("Veterans and entitled groups")
    EDUCATION = "education", _("Education")
    LEGAL = "legal", _("Legal services")
    CONVENIENCE = "convenience", _("Everyday services")
    CERTIFICATE = "certificate", _("Certificates")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online, by the resident")
    DESK = "desk", _("At the desk, resident present")
    PROXY = "proxy", _("On the resident's behalf (代办)")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_MATERIALS = "needs_materials", _("More materials needed")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Not accepted")
    UNDER_REVIEW = "under_review", _("Under review")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    RATED = "rated", _("Rated")


# Statuses whose clock runs (working days); 补正 pauses it, the finished ones stop it.
CLOCK_RUNS = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.UNDER_REVIEW})
FINISHED = frozenset({Status.REFUSED, Status.APPROVED, Status.DENIED, Status.RATED})


class Who(models.TextChoices):
    STAFF = "staff", _("Desk staff")
    APPLICANT = "applicant", _("Applicant")


@dataclass(frozen=True)
class Move:
    name: str
    label: Promise
    sources: frozenset[str]
    target: str
    who: Who
    needs_note: bool = False


S = Status
MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        Move("accept", _("Accept"), frozenset({S.SUBMITTED}), S.ACCEPTED, Who.STAFF),
        Move("request_materials", _("Ask for more materials"), frozenset({S.SUBMITTED, S.ACCEPTED, S.UNDER_REVIEW}), S.NEEDS_MATERIALS, Who.STAFF, True),  # noqa: E501
        Move("supplement", _("Hand in the materials"), frozenset({S.NEEDS_MATERIALS}), S.SUBMITTED, Who.APPLICANT),  # noqa: E501
        Move("refuse", _("Do not accept"), frozenset({S.SUBMITTED, S.NEEDS_MATERIALS}), S.REFUSED, Who.STAFF, True),  # noqa: E501
        Move("forward", _("Forward for review"), frozenset({S.ACCEPTED}), S.UNDER_REVIEW, Who.STAFF),  # noqa: E501
        Move("approve", _("Approve"), frozenset({S.ACCEPTED, S.UNDER_REVIEW}), S.APPROVED, Who.STAFF),  # noqa: E501
        Move("deny", _("Deny"), frozenset({S.ACCEPTED, S.UNDER_REVIEW}), S.DENIED, Who.STAFF, True),
        Move("rate", _("Rate"), frozenset({S.APPROVED, S.DENIED}), S.RATED, Who.APPLICANT),
    ]
}  # fmt: skip
