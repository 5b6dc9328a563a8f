"""Print a PostgreSQL URL for the test run if a server answers, else exit 1.

Uses DATABASE_URL_TEST when set, otherwise postgres@127.0.0.1:5432 (trust auth). pytest-django
creates a throwaway `test_<name>` database from it and drops it afterwards.
"""

from __future__ import annotations

import os
import sys

import psycopg


def main() -> int:
    url = (
        os.environ.get("DATABASE_URL_TEST")
        or f"postgres://postgres@127.0.0.1:5432/shequ_ci_{os.getpid()}"
    )
    base, _slash, rest = url.rpartition("/")
    _name, question, query = rest.partition("?")
    probe = f"{base}/postgres{question}{query}"  # keep options such as ?sslmode=require
    try:
        with psycopg.connect(probe, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        print(
            f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping that run",
            file=sys.stderr,
        )
        return 1
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
