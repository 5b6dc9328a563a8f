"""Readings the benchmarks print beside their timings (Linux `/proc`; None or "?" elsewhere).

On a shared machine the wall clock also counts the time other processes ran: the load
average and the CPU seconds of the processes doing the work (this one, a PostgreSQL backend
on the same machine, a server's workers) tell the work done from the waiting.
"""

from __future__ import annotations

import os
from pathlib import Path


def loadavg() -> str:
    """The 1, 5 and 15-minute load averages, as `/proc/loadavg` gives them."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of another process on this machine, if readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pid() -> int | None:
    """The process id of the default connection's PostgreSQL backend (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def backend_cpu() -> float | None:
    """CPU seconds used so far by the default connection's PostgreSQL backend, when the server
    runs on this machine."""
    pid = backend_pid()
    return process_cpu(pid) if pid is not None else None
