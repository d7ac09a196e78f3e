from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinic.env import (
    ConfigError,
    database_url_for,
    env_bool,
    env_int,
    env_time_zone,
    parse_database_url,
    parse_redis_url,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("Yes", True), ("off", False)])
def test_env_bool_reads_the_usual_words(raw: str, expected: bool) -> None:
    assert env_bool("X", not expected, environ={"X": raw}) is expected


def test_env_bool_refuses_anything_else_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="DJANGO_DEBUG='maybe'"):
        env_bool("DJANGO_DEBUG", False, environ={"DJANGO_DEBUG": "maybe"})


def test_env_int_refuses_a_non_number() -> None:
    with pytest.raises(ConfigError, match="EMAIL_PORT"):
        env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": "twenty"})


def test_env_time_zone_refuses_an_unknown_zone() -> None:
    with pytest.raises(ConfigError, match="CLINIC_TIME_ZONE"):
        env_time_zone("CLINIC_TIME_ZONE", "UTC", environ={"CLINIC_TIME_ZONE": "Mars/Olympus"})


def test_database_url_understands_a_unix_socket_directory() -> None:
    parsed = parse_database_url("DATABASE_URL", "postgresql://postgres@/clinic?host=/srv/pg&sslmode=disable")
    assert (parsed.name, parsed.user, parsed.host, parsed.options) == (
        "clinic",
        "postgres",
        "/srv/pg",
        {"sslmode": "disable"},
    )


def test_database_url_refuses_another_engine() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must start with postgres"):
        parse_database_url("DATABASE_URL", "mysql://root@localhost/clinic")


def test_redis_url_refuses_another_scheme() -> None:
    with pytest.raises(ConfigError, match="REDIS_URL"):
        parse_redis_url("REDIS_URL", "http://localhost:6379")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A fresh process as an operator would start it: no test-only variables (the browser
    # tests' DJANGO_ALLOW_ASYNC_UNSAFE may be set in this worker).
    test_only = {"CLINIC_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environ = {k: v for k, v in os.environ.items() if k not in test_only} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_bad_configuration_stops_start_up_with_one_line_naming_the_variable() -> None:
    result = _manage("check", DJANGO_DEBUG="maybe")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DJANGO_DEBUG='maybe' is not a boolean (use true/false, 1/0, yes/no, on/off)"
    ]


def test_an_unreachable_database_stops_start_up_with_one_line() -> None:
    unreachable = "postgres://postgres@127.0.0.1:1/clinic"
    # Both roles' URLs: migrate connects as the owner (DATABASE_MIGRATE_URL, which CI sets).
    result = _manage(
        "migrate", "--check", DJANGO_DEBUG="true", DATABASE_URL=unreachable, DATABASE_MIGRATE_URL=unreachable
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Configuration error: DATABASE_URL: cannot connect")


def test_production_without_a_secret_key_refuses_to_start() -> None:
    result = _manage("check", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_pass_the_deploy_checks(db: None) -> None:
    from django.db import connection

    # Some checks read the database: point the fresh process at the test database.
    database_url = database_url_for(connection.settings_dict, name=connection.creation._get_test_db_name())
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="clinic.example.com",
        # As in .env.example: links in emails over https, mail over TLS (clinic.E002, E003).
        CLINIC_SITE_URL="https://clinic.example.com",
        EMAIL_USE_TLS="true",
        DATABASE_URL=database_url,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@/clinic?host=/srv/pg%20data", "postgresql://app:s%40cret@db.internal:6432/clinic"],
)
def test_database_url_for_is_the_inverse_of_parsing(url: str) -> None:
    settings_dict = parse_database_url("DATABASE_URL", url).django_settings()
    assert parse_database_url("DATABASE_URL", database_url_for(settings_dict)) == parse_database_url(
        "DATABASE_URL", url
    )


def test_every_model_change_has_its_migration(db: None) -> None:
    from django.core.management import call_command

    # Exits non-zero (SystemExit) when a model changed without a migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_refuses_http_links_and_clear_text_email_at_the_deploy_check(db: None) -> None:
    from django.db import connection

    database_url = database_url_for(connection.settings_dict, name=connection.creation._get_test_db_name())
    result = _manage(
        "check",
        "--deploy",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        ALLOWED_HOSTS="clinic.example.com",
        CLINIC_SITE_URL="http://clinic.example.com",
        EMAIL_USE_TLS="false",
        DATABASE_URL=database_url,
    )
    assert result.returncode != 0
    assert "clinic.E002" in result.stderr
    assert "clinic.E003" in result.stderr
