"""The two database roles: the owner (migrations) and the runtime role (the running app).

The audit must survive the app being compromised (HIPAA 164.312(b), (c)): the role the web
server, worker and beat connect as owns nothing, so it cannot TRUNCATE, DROP or ALTER a
table, disable a trigger, or set ``session_replication_role`` (which silences triggers);
it is not a superuser. It reads and writes rows, and on append-only tables only inserts.

Plain psycopg, no Django: ``clinic.devstack`` creates the role before Django starts, and
``manage.py db_roles`` (run by ``migrate``) grants on the tables that migrations made.
Every statement is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

# Every privilege a role can hold on a table; the runtime role gets a subset of the first four.
ALL_TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@dataclass(frozen=True)
class AppendOnly:
    """A table whose rows the app may insert but not change (``update``) or remove (``delete``)."""

    table: str
    update: bool = True
    delete: bool = True


def ensure_runtime_role(conn: psycopg.Connection[object], *, role: str, password: str | None) -> None:
    """Create the runtime role if missing and (re)state what it is not allowed to be."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT")
    if exists is None:
        conn.execute(sql.SQL("CREATE ROLE {} ").format(sql.Identifier(role)) + attributes)
    else:
        conn.execute(sql.SQL("ALTER ROLE {} ").format(sql.Identifier(role)) + attributes)
    if password:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def grant_runtime_privileges(
    conn: psycopg.Connection[object],
    *,
    role: str,
    owner: str,
    database: str,
    append_only: Iterable[AppendOnly] = (),
    schema: str = "public",
) -> None:
    """Grant ``role`` exactly what the app needs on ``database``, now and for future tables.

    Run as ``owner`` (or a superuser) while connected to ``database``.
    """
    r, s = sql.Identifier(role), sql.Identifier(schema)
    statements = [
        sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(database), r),
        # No CREATE on the schema: the app makes no tables (PostgreSQL 15+ withholds it from PUBLIC).
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(s, r),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}").format(s, r),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(s, r),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(sql.Identifier(owner), s, r),
        sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(
            sql.Identifier(owner), s, r
        ),
    ]
    for table in append_only:
        # The triggers refuse these already; without the privilege the refusal does not
        # rest on a trigger that an owner could drop.
        refused = [name for name, on in (("UPDATE", table.update), ("DELETE", table.delete)) if on]
        if refused:
            statements.append(
                sql.SQL("REVOKE {} ON TABLE {} FROM {}").format(
                    sql.SQL(", ").join(sql.SQL(p) for p in refused), sql.Identifier(schema, table.table), r
                )
            )
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)


def drop_role(conn: psycopg.Connection[object], *, role: str) -> None:
    """Remove a role and every privilege it holds in the connected database (used by tests)."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
        return
    conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def table_privileges(conn: psycopg.Connection[object], *, role: str, tables: Sequence[str]) -> dict[str, set[str]]:
    """Which of ALL_TABLE_PRIVILEGES ``role`` holds on each table (for tests and the command's report)."""
    held: dict[str, set[str]] = {}
    for table in tables:
        held[table] = {
            privilege
            for privilege in ALL_TABLE_PRIVILEGES
            if conn.execute("SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)).fetchone() == (True,)
        }
    return held
