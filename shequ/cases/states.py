"""The case loop as data: statuses, the moves between them, and who may make each move.

`MOVES` is the whole state machine. One service (`services.case_move`) applies any move:
it locks the row, checks the move is allowed from the current status, records an event,
recomputes the stage deadline and audits. Pages show a button only for the moves `allowed`
returns, and the API accepts exactly the names below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Not accepted")
    MERGED = "merged", _("Merged")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("Being handled")
    RESOLVED = "resolved", _("Resolved")
    VERIFIED = "verified", _("Verified")
    RATED = "rated", _("Rated")
    CLOSED = "closed", _("Closed")
    SHELVED = "shelved", _("Long-term register")


class Stage(models.TextChoices):
    """The SLA clock a case is on; each status belongs to at most one stage."""

    ACCEPT = "accept", _("Acceptance")
    DISPATCH = "dispatch", _("Dispatch")
    HANDLE = "handle", _("Handling")
    VERIFY = "verify", _("Verification")
    NONE = "", _("No deadline")


STAGE_OF: dict[str, Stage] = {
    Status.REPORTED: Stage.ACCEPT,
    Status.ACCEPTED: Stage.DISPATCH,
    Status.DISPATCHED: Stage.HANDLE,
    Status.IN_PROGRESS: Stage.HANDLE,
    Status.RESOLVED: Stage.VERIFY,
}
# Statuses in which the case is still someone's work (the SLA worker scans these).
OPEN = frozenset(STAGE_OF)
FINISHED = frozenset({Status.REJECTED, Status.MERGED, Status.CLOSED})


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    CRITICAL = "critical", _("Critical")


class Light(models.TextChoices):
    """The SLA light of the current stage."""

    GREEN = "green", _("On time")
    YELLOW = "yellow", _("Due soon")
    RED = "red", _("Overdue")


class Level(models.IntegerChoices):
    """Escalation level (分级响应): who is answerable for an overdue case now."""

    GRID = 0, _("Grid")
    COMMUNITY = 1, _("Community")
    STREET = 2, _("Street")
    DISTRICT = 3, _("District")


class Source(models.TextChoices):
    GRID = "grid", _("Grid patrol")
    RESIDENT = "resident", _("Resident")
    DESK = "desk", _("Front desk")
    HOTLINE = "hotline", _("12345 hotline")
    OPEN311 = "open311", _("Open311 client")


class Who(models.TextChoices):
    """Whose move it is, beyond the role permission (checked in `policy`)."""

    MANAGER = "manager", _("Community or street staff")
    HANDLER = "handler", _("Handling unit")
    VERIFIER = "verifier", _("Grid worker or community staff")
    REPORTER = "reporter", _("Reporter")
    SUPERVISOR = "supervisor", _("Supervisor")


@dataclass(frozen=True)
class Move:
    name: str
    label: Promise
    sources: frozenset[str]
    target: str | None  # None: the status does not change
    who: Who
    needs_note: bool = False


def _m(
    name: str,
    label: Promise,
    sources: Iterable[str],
    target: str | None,
    who: Who,
    *,
    needs_note: bool = False,
) -> Move:
    return Move(name, label, frozenset(sources), target, who, needs_note)


S = Status
_WORKING = {S.DISPATCHED, S.IN_PROGRESS}
_LIVE = {S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.RESOLVED, S.SHELVED}

MOVES: dict[str, Move] = {
    m.name: m
    for m in [
        _m("accept", _("Accept"), {S.REPORTED}, S.ACCEPTED, Who.MANAGER),
        _m("reject", _("Do not accept"), {S.REPORTED}, S.REJECTED, Who.MANAGER, needs_note=True),
        _m("merge", _("Merge into another case"), {S.REPORTED, S.ACCEPTED}, S.MERGED, Who.MANAGER),
        _m("dispatch", _("Dispatch"), {S.ACCEPTED, S.SHELVED}, S.DISPATCHED, Who.MANAGER),
        _m("return", _("Return: not ours"), _WORKING, S.ACCEPTED, Who.HANDLER, needs_note=True),
        _m("start", _("Start handling"), {S.DISPATCHED}, S.IN_PROGRESS, Who.HANDLER),
        _m("resolve", _("Resolve"), _WORKING | {S.REPORTED}, S.RESOLVED, Who.HANDLER),
        _m("verify", _("Verified as fixed"), {S.RESOLVED}, S.VERIFIED, Who.VERIFIER),
        _m("redo", _("Send back to redo"), {S.RESOLVED}, S.IN_PROGRESS, Who.VERIFIER, needs_note=True),  # noqa: E501
        _m("rate", _("Rate"), {S.VERIFIED}, S.RATED, Who.REPORTER),
        _m("close", _("Close"), {S.VERIFIED, S.RATED}, S.CLOSED, Who.MANAGER),
        _m("extend_request", _("Ask for more time"), _WORKING, None, Who.HANDLER, needs_note=True),
        _m("extend_approve", _("Approve more time"), _WORKING, None, Who.MANAGER),
        _m("shelve", _("Put on the long-term register"), _WORKING | {S.ACCEPTED}, S.SHELVED, Who.MANAGER, needs_note=True),  # noqa: E501
        _m("reopen", _("Reopen"), {S.VERIFIED, S.RATED, S.CLOSED}, S.DISPATCHED, Who.REPORTER, needs_note=True),  # noqa: E501
        _m("supervise", _("Supervise (督办)"), _LIVE, None, Who.SUPERVISOR, needs_note=True),
        _m("escalate", _("Escalate"), _LIVE - {S.SHELVED}, None, Who.SUPERVISOR, needs_note=True),
    ]
}  # fmt: skip
