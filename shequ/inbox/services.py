"""Send notices. Channels beyond the inbox (SMS, WeChat) are adapters named in settings; the
default writes to the log, because this platform must not reach the network by itself."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from shequ.core.errors import NotFound
from shequ.inbox import channels
from shequ.inbox.models import Notification

log = logging.getLogger("shequ.notices")


def notify(*, users: Iterable[Any], kind: str, title: str, body: str = "", url: str = "") -> int:
    """Put one notice in each user's inbox and hand it to the delivery channel; returns count."""
    rows = [
        Notification(user=u, kind=kind, title=title[:200], body=body, url=url[:300])
        for u in {u.pk: u for u in users if u is not None}.values()
    ]
    Notification.objects.bulk_create(rows)
    channels.deliver(channels.as_notices(rows))
    return len(rows)


def notify_after_commit(
    *, users: Iterable[Any], kind: str, title: str, body: str = "", url: str = ""
) -> None:
    """Notices are sent only once the change they announce has been committed."""
    people = list(users)
    transaction.on_commit(
        lambda: notify(users=people, kind=kind, title=str(title), body=str(body), url=url)
    )


def notification_mark_read(*, actor: Any, notification_id: int | None = None) -> int:
    """Mark one of the actor's notices (or all, when no id) as read."""
    rows = Notification.objects.filter(user=actor, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
        if (
            not rows.exists()
            and not Notification.objects.filter(user=actor, pk=notification_id).exists()
        ):
            raise NotFound()
    return rows.update(read_at=timezone.now())
