"""Settings from the environment: typed helpers, NAME_FILE secrets, DATABASE_URL, and what a
misconfigured deployment says when it refuses to start."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from shequ.lib.env import EnvError, database_config, env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[3]


# --- typed helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["maybe", "2", "yes please", "tru"])
def test_env_bool_rejects_a_malformed_value_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SHEQU_TEST_FLAG", value)
    with pytest.raises(EnvError, match="SHEQU_TEST_FLAG"):
        env_bool("SHEQU_TEST_FLAG", False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" on ", True),
        ("0", False),
        ("off", False),
        ("No", False),
        ("", True),
    ],
)
def test_env_bool_reads_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("SHEQU_TEST_FLAG", value)
    assert env_bool("SHEQU_TEST_FLAG", True) is expected


def test_env_bool_falls_back_to_the_default_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHEQU_TEST_FLAG", raising=False)
    monkeypatch.delenv("SHEQU_TEST_FLAG_FILE", raising=False)
    assert env_bool("SHEQU_TEST_FLAG", True) is True
    assert env_bool("SHEQU_TEST_FLAG", False) is False


@pytest.mark.parametrize("value", ["thirty", "3.5", "1e3", "30m"])
def test_env_int_rejects_a_malformed_value_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SHEQU_TEST_MINUTES", value)
    with pytest.raises(EnvError, match="SHEQU_TEST_MINUTES"):
        env_int("SHEQU_TEST_MINUTES", 30)


def test_env_int_reads_a_number_or_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEQU_TEST_MINUTES", "45")
    assert env_int("SHEQU_TEST_MINUTES", 30) == 45
    monkeypatch.setenv("SHEQU_TEST_MINUTES", "")
    assert env_int("SHEQU_TEST_MINUTES", 30) == 30


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEQU_TEST_HOSTS", " a.example.org, ,b.example.org ,")
    assert env_list("SHEQU_TEST_HOSTS", []) == ["a.example.org", "b.example.org"]


def test_an_empty_string_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEQU_TEST_NAME", "")
    assert env_str("SHEQU_TEST_NAME", "fallback") == "fallback"


# --- NAME_FILE secrets ----------------------------------------------------------------------


def test_a_secret_is_read_from_the_file_named_by_name_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("s3cret-from-a-file\n", encoding="utf-8")
    monkeypatch.delenv("SHEQU_TEST_SECRET", raising=False)
    monkeypatch.setenv("SHEQU_TEST_SECRET_FILE", str(secret))
    assert env_str("SHEQU_TEST_SECRET") == "s3cret-from-a-file"


def test_the_variable_itself_wins_over_its_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("from-file", encoding="utf-8")
    monkeypatch.setenv("SHEQU_TEST_SECRET", "from-env")
    monkeypatch.setenv("SHEQU_TEST_SECRET_FILE", str(secret))
    assert env_str("SHEQU_TEST_SECRET") == "from-env"


def test_a_missing_secret_file_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHEQU_TEST_SECRET", raising=False)
    monkeypatch.setenv("SHEQU_TEST_SECRET_FILE", str(tmp_path / "absent"))
    with pytest.raises(EnvError, match="SHEQU_TEST_SECRET_FILE"):
        env_str("SHEQU_TEST_SECRET")


def test_a_boolean_may_come_from_a_file_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    flag.write_text("on\n", encoding="utf-8")
    monkeypatch.delenv("SHEQU_TEST_FLAG", raising=False)
    monkeypatch.setenv("SHEQU_TEST_FLAG_FILE", str(flag))
    assert env_bool("SHEQU_TEST_FLAG", False) is True


# --- DATABASE_URL ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["nonsense", "mysql://x/y", "postgres://host", "postgres://u:p@host:5432/", "sqlite://", ""],
)
def test_a_malformed_database_url_is_explained(url: str) -> None:
    with pytest.raises(EnvError, match="DATABASE_URL") as info:
        database_config(url)
    assert "malformed" in str(info.value) or "names no" in str(info.value)


def test_a_sqlite_url_gets_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    config = database_config(f"sqlite:///{tmp_path}/x.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/x.sqlite3"
    options = config["OPTIONS"]
    assert isinstance(options, dict)
    assert "journal_mode=WAL" in options["init_command"]
    assert "foreign_keys=ON" in options["init_command"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_a_postgres_url_names_the_host_and_database(scheme: str) -> None:
    config = database_config(f"{scheme}://shequ:pw@db.example.org:5433/shequ_prod")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "shequ_prod"
    assert config["HOST"] == "db.example.org"
    assert config["PORT"] == 5433
    assert config["USER"] == "shequ"
    assert config["PASSWORD"] == "pw"
    assert "OPTIONS" not in config or "init_command" not in config["OPTIONS"]  # type: ignore[operator]


# --- starting the real settings in a fresh interpreter -------------------------------------


def _clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SHEQU_", "DJANGO_")) and k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shequ.settings",
        SHEQU_VAR_DIR=str(tmp_path),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(values)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


SETUP = ["-c", "import django; django.setup(); print('started')"]


def _production(tmp_path: Path) -> dict[str, str]:
    return {
        "SHEQU_DEBUG": "0",
        "SHEQU_SECRET_KEY": secrets.token_urlsafe(50),
        "SHEQU_FIELD_KEY": secrets.token_urlsafe(32),
        "SHEQU_HTTPS": "1",
        "SHEQU_ALLOWED_HOSTS": "shequ.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3",
    }


def test_settings_refuse_a_garbage_database_url(tmp_path: Path) -> None:
    env = _clean_env(tmp_path, **{**_production(tmp_path), "DATABASE_URL": "garbage"})
    result = _run(SETUP, env)
    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "DATABASE_URL" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_settings_refuse_to_start_in_production_without_a_secret_key(tmp_path: Path) -> None:
    values = _production(tmp_path)
    del values["SHEQU_SECRET_KEY"]
    result = _run(SETUP, _clean_env(tmp_path, **values))
    assert result.returncode != 0
    assert "SHEQU_SECRET_KEY" in result.stderr
    assert "SHEQU_FIELD_KEY must" not in result.stderr


def test_settings_refuse_a_malformed_boolean(tmp_path: Path) -> None:
    values = {**_production(tmp_path), "SHEQU_HTTPS": "sometimes"}
    result = _run(SETUP, _clean_env(tmp_path, **values))
    assert result.returncode != 0
    assert "SHEQU_HTTPS" in result.stderr


def test_settings_start_with_secrets_given_as_files(tmp_path: Path) -> None:
    values = _production(tmp_path)
    for name in ("SHEQU_SECRET_KEY", "SHEQU_FIELD_KEY"):
        path = tmp_path / name.lower()
        path.write_text(values.pop(name) + "\n", encoding="utf-8")
        values[f"{name}_FILE"] = str(path)
    result = _run(SETUP, _clean_env(tmp_path, **values))
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_check_deploy_passes_with_production_values(tmp_path: Path) -> None:
    result = _run(["manage.py", "check", "--deploy"], _clean_env(tmp_path, **_production(tmp_path)))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output
    assert "WARNINGS" not in output
