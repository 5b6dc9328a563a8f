"""Read typed settings from the environment; malformed values fail loudly.

A secret may also be given as ``NAME_FILE`` pointing at a file that holds it.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url


class EnvError(Exception):
    """A setting in the environment is missing or malformed."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is not None:
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EnvError(f"{name}_FILE={file_name!r} cannot be read: {exc.strerror}") from exc
    return None


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise EnvError(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise EnvError(f"{name}={value!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}


def database_config(url: str) -> dict[str, object]:
    """Turn a ``DATABASE_URL`` into Django's DATABASES entry, or explain what is wrong."""
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme not in _DB_SCHEMES:
        raise EnvError(
            f"DATABASE_URL={url!r} is malformed: expected sqlite:///path/to/file.sqlite3 "
            "or postgres://user:password@host:5432/name"
        )
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=0))
    except (ValueError, KeyError) as exc:
        raise EnvError(f"DATABASE_URL={url!r} is malformed: {exc}") from exc
    if scheme != "sqlite" and not config.get("NAME"):
        raise EnvError(f"DATABASE_URL={url!r} names no database (…/database_name)")
    if scheme == "sqlite":
        if not config.get("NAME") or (config["NAME"] == ":memory:" and url.count("/") < 3):
            raise EnvError(f"DATABASE_URL={url!r} names no SQLite file")
        config["OPTIONS"] = {
            # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at
            # BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config
