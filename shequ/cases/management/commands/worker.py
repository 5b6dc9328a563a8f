"""`shequ worker`: the SLA worker loop (lights, escalations, reminders, auto-close, periodic jobs).

Run one or several; every flip is a compare-and-set, so they never record a flip twice, and one
killed in the middle of a batch leaves that batch (rolled back) to the next run. SIGTERM and
SIGINT end the loop once the running cycle is done.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

from shequ.cases import worker

log = logging.getLogger("shequ.cases.worker")


class Stop:
    """Set by the signal handlers (which do nothing else: no locks, no logging); the loop checks
    it between cycles and while sleeping."""

    def __init__(self) -> None:
        self.requested = False
        self.signal = 0

    def set(self, signum: int = 0, frame: FrameType | None = None) -> None:
        self.requested, self.signal = True, signum


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in counts.items() if name != "scanned")


def loop(
    *,
    interval: float,
    stop: Stop,
    cycle: Callable[[], dict[str, int]] = worker.run_once,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run `cycle` every `interval` seconds until `stop` is set; returns the cycles run.

    A failing cycle (the database restarting, say) is logged and the next one tried after the
    interval, on a fresh connection."""
    cycles = 0
    while not stop.requested:
        started = time.monotonic()
        try:
            counts = cycle()
        except Exception:
            log.exception("worker cycle failed; trying again in %s s", interval)
            connections.close_all()
        else:
            if any(v for k, v in counts.items() if k != "scanned"):
                log.info("worker: %s", describe(counts))
        cycles += 1
        # Sleep in short slices so a signal ends the loop at once, not after the interval.
        deadline = started + interval
        while not stop.requested and (left := deadline - time.monotonic()) > 0:
            sleep(min(left, 0.5))
    return cycles


class Command(BaseCommand):
    help = "Run the SLA worker: warning and overdue lights, escalations, reminders, auto-close."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=30.0, help="seconds between runs (default 30)"
        )
        parser.add_argument("--once", action="store_true", help="run what is due once and exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        if once:
            counts = worker.run_once()
            log.info("worker: %s", describe(counts))
            self.stdout.write(describe(counts))
            return
        stop = Stop()
        previous = {sig: signal.signal(sig, stop.set) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("worker: started, every %s s", interval)
        try:
            cycles = loop(interval=interval, stop=stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        reason = signal.Signals(stop.signal).name if stop.signal else "stop"
        log.info("worker: %s received, stopped after %d cycles", reason, cycles)
