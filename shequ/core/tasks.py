"""Run long work off the request: a small in-process runner (threads), or immediately in tests.

The work itself is written to be safe to lose: each task's writes are one transaction, and its
progress lives in the database, so a process that dies leaves a row marked as running that the
page reports as failed after a timeout; nothing is half-written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


def enqueue(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    """Run `fn(*args, **kwargs)` in the background (at once when TASKS_IMMEDIATE is set)."""
    if getattr(settings, "TASKS_IMMEDIATE", False):
        fn(*args, **kwargs)
        return

    def run() -> None:
        close_old_connections()
        try:
            fn(*args, **kwargs)
        except Exception:  # the task records its own failure; this keeps the thread quiet
            log.exception("background task %s failed", getattr(fn, "__name__", fn))
        finally:
            close_old_connections()

    threading.Thread(target=run, name=f"task-{getattr(fn, '__name__', 'fn')}", daemon=True).start()
