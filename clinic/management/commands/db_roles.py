"""``manage.py db_roles``: create the runtime role and grant it exactly what the app needs.

``migrate`` runs it after every migration, so new tables are covered; it can also be run on
its own (idempotent). It connects as the owner (``DATABASE_MIGRATE_URL``) and grants to the
role of ``DATABASE_URL``. When both name the same role there is nothing to separate.
"""

from __future__ import annotations

from typing import Any

import pghistory.models
import pgtrigger
import psycopg
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg.conninfo import make_conninfo

from clinic import dbroles


def conninfo(database: dict[str, Any], *, name: str | None = None) -> str:
    """A libpq connection string for a Django database settings dict."""
    params = {
        "dbname": name or database["NAME"],
        "user": database["USER"] or None,
        "password": database["PASSWORD"] or None,
        "host": database["HOST"] or None,
        "port": database["PORT"] or None,
    }
    options = {k: v for k, v in database.get("OPTIONS", {}).items() if isinstance(v, str)}
    return make_conninfo(**{k: v for k, v in params.items() if v is not None}, **options)


def append_only_tables() -> list[dbroles.AppendOnly]:
    """Every table whose rows a database trigger protects from UPDATE or DELETE.

    The audit tables (pghistory's events, access events, decisions, sign-offs) say so with
    ``pgtrigger.Protect``; the privilege is revoked to match, so the refusal holds even
    without the trigger.
    """
    # Who made each change: pghistory merges metadata into its own transaction's row (UPDATE
    # stays, and a trigger refuses it once committed, migration clinic 0008); rows never go.
    tables = [dbroles.AppendOnly(table=pghistory.models.Context._meta.db_table, update=False, delete=True)]
    for model in apps.get_models():
        update = delete = False
        for trigger in getattr(model._meta, "triggers", []):
            if isinstance(trigger, pgtrigger.Protect) and trigger.condition is None:
                operation = str(trigger.operation)
                update = update or "UPDATE" in operation
                delete = delete or "DELETE" in operation
        if update or delete:
            tables.append(dbroles.AppendOnly(table=model._meta.db_table, update=update, delete=delete))
    return tables


def grant_runtime_role(
    *, database: dict[str, Any], owner: dict[str, Any], password_from_url: bool = True
) -> str | None:
    """Create/update the runtime role of ``database`` and grant it; ``None`` when it is the owner."""
    role = database["USER"]
    if not role or role == owner["USER"]:
        return None
    with psycopg.connect(conninfo(owner, name=database["NAME"]), autocommit=True) as conn:
        dbroles.ensure_runtime_role(conn, role=role, password=database["PASSWORD"] if password_from_url else None)
        dbroles.grant_runtime_privileges(
            conn, role=role, owner=owner["USER"], database=database["NAME"], append_only=append_only_tables()
        )
    return role


class Command(BaseCommand):
    help = "Create the app's runtime database role (DATABASE_URL) and grant it rows, not tables."

    def handle(self, *args: Any, **options: Any) -> None:
        database = settings.DATABASES["default"]
        try:
            role = grant_runtime_role(database=database, owner=settings.DATABASE_OWNER)
        except psycopg.Error as error:
            raise CommandError(f"could not set up the runtime role: {error}") from error
        if role is None:
            self.stdout.write(
                "DATABASE_URL and DATABASE_MIGRATE_URL name the same role: the app runs as the owner "
                "(set DATABASE_MIGRATE_URL to separate them)."
            )
        else:
            self.stdout.write(f"Runtime role {role!r}: rows only, no ownership, no TRUNCATE, no triggers.")
