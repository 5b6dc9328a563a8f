"""Delivery channels for notices beyond the inbox: small adapters named in a registry.

`SHEQU_NOTICE_CHANNELS` (default "log") lists the channels every notice is handed to after it is
in the recipient's inbox:

* ``log`` writes one line per notice to the ``shequ.notices`` logger;
* ``file`` appends one JSON object per notice to ``<SHEQU_VAR_DIR>/notices.jsonl`` (a gateway or
  a test can pick them up from there);
* ``sms`` and ``wechat`` (template messages) are stubs: this platform must not reach the network
  by itself, so they refuse to be enabled until an operator wires a real gateway and its
  configuration into them.

This module imports no models (settings validate the names with `check_names`). A channel that
fails is logged and skipped: the notice is in the inbox whatever happens.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger("shequ.notices")


@dataclass(frozen=True)
class Notice:
    """What a channel gets of one notice."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""


class Channel:
    """A delivery adapter. `available` is False (with `why`) for stubs with no gateway."""

    name: ClassVar[str] = ""
    available: ClassVar[bool] = True
    why: ClassVar[str] = ""

    def deliver(self, notices: Sequence[Notice]) -> None:
        raise NotImplementedError


class LogChannel(Channel):
    name = "log"

    def deliver(self, notices: Sequence[Notice]) -> None:
        for n in notices:
            log.info("notice to user %s: [%s] %s %s", n.user_id, n.kind, n.title, n.url)


class FileChannel(Channel):
    name = "file"

    def __init__(self, path: Path | None = None) -> None:
        self.fixed = path

    @property
    def path(self) -> Path:
        """Under the var folder as configured now (read at each delivery)."""
        if self.fixed is not None:
            return self.fixed
        from django.conf import settings

        return Path(settings.VAR_DIR) / "notices.jsonl"

    def deliver(self, notices: Sequence[Notice]) -> None:
        if not notices:
            return
        from django.utils import timezone

        at = timezone.now().isoformat()
        lines = "".join(
            json.dumps({"at": at, **asdict(n)}, ensure_ascii=False) + "\n" for n in notices
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write of whole lines in append mode: writers in other processes do not interleave
        # inside a line.
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(lines)


class _Stub(Channel):
    available = False

    def __init__(self) -> None:
        raise ChannelNotConfigured(self.name, self.why)

    def deliver(self, notices: Sequence[Notice]) -> None:  # pragma: no cover - never built
        raise ChannelNotConfigured(self.name, self.why)


class SmsChannel(_Stub):
    name = "sms"
    why = "needs an SMS gateway (provider, account, signature, templates); none is configured"


class WechatChannel(_Stub):
    name = "wechat"
    why = "needs a WeChat official account (app id, secret, template ids); none is configured"


REGISTRY: dict[str, type[Channel]] = {
    c.name: c for c in (LogChannel, FileChannel, SmsChannel, WechatChannel)
}


class ChannelNotConfigured(ValueError):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"the {name} channel cannot be enabled: {why}")


def check_names(names: Sequence[str]) -> None:
    """Refuse unknown channel names and stubs (ValueError); used when settings load."""
    for name in names:
        channel = REGISTRY.get(name)
        if channel is None:
            raise ValueError(f"unknown channel {name!r}; known: {', '.join(REGISTRY)}")
        if not channel.available:
            raise ChannelNotConfigured(name, channel.why)


_built: dict[tuple[str, ...], list[Channel]] = {}


def enabled() -> list[Channel]:
    """The channels named in settings, built once per distinct setting."""
    from django.conf import settings

    names = tuple(getattr(settings, "NOTICE_CHANNELS", ("log",)))
    channels = _built.get(names)
    if channels is None:
        check_names(names)
        channels = [REGISTRY[name]() for name in dict.fromkeys(names)]
        _built[names] = channels
    return channels


def deliver(notices: Sequence[Notice]) -> None:
    """Hand the notices to every enabled channel; a failing channel is logged, not raised."""
    if not notices:
        return
    for channel in enabled():
        try:
            channel.deliver(notices)
        except Exception:
            log.exception("notice channel %s failed for %s notices", channel.name, len(notices))


def as_notices(rows: Sequence[Any]) -> list[Notice]:
    """Notification rows as channel notices."""
    return [
        Notice(user_id=r.user_id, kind=r.kind, title=r.title, body=r.body, url=r.url) for r in rows
    ]
