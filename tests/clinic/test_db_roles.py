"""The running app's database role cannot rewrite the audit (HIPAA 164.312(b), (c)).

The suite runs as the owner (pytest-django needs CREATEDB for its databases); these tests
make a runtime role in the test database exactly as ``manage.py db_roles`` does, connect as
it with a second psycopg connection, and try what an attacker holding the app's
credentials would try.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pghistory
import psycopg
import pytest
from django.db import connection, transaction
from psycopg import errors

from clinic import dbroles
from clinic.management.commands.db_roles import append_only_tables, conninfo, grant_runtime_role
from clinic.models import AccessEvent, Room
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


def _owner_conninfo() -> str:
    return conninfo(connection.settings_dict)


@pytest.fixture
def runtime_conn() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection as a fresh runtime role, granted by the same code as ``db_roles``."""
    role = f"clinic_rt_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    owner = dict(connection.settings_dict)
    runtime = {**owner, "USER": role, "PASSWORD": password}
    assert grant_runtime_role(database=runtime, owner=owner) == role
    try:
        with psycopg.connect(conninfo(runtime), autocommit=True) as conn:
            yield conn
    finally:
        with psycopg.connect(_owner_conninfo(), autocommit=True) as admin:
            dbroles.drop_role(admin, role=role)


def _committed_context_id() -> uuid.UUID:
    """A pghistory_context row written and committed by an earlier transaction."""
    context_id = uuid.uuid4()
    with psycopg.connect(_owner_conninfo(), autocommit=True) as admin:
        admin.execute(
            "INSERT INTO pghistory_context (id, metadata, created_at, updated_at) VALUES (%s, %s, now(), now())",
            (context_id, '{"user": 1}'),
        )
    return context_id


REFUSED = {
    "TRUNCATE clinic_accessevent": errors.InsufficientPrivilege,
    "ALTER TABLE clinic_accessevent DISABLE TRIGGER ALL": errors.InsufficientPrivilege,
    "ALTER TABLE clinic_patient DISABLE TRIGGER USER": errors.InsufficientPrivilege,
    "SET session_replication_role = replica": errors.InsufficientPrivilege,
    "DROP TABLE clinic_accessevent": errors.InsufficientPrivilege,
    "DROP TRIGGER clinic_context_append_only ON pghistory_context": errors.InsufficientPrivilege,
    "UPDATE clinic_accessevent SET page = 'x'": errors.InsufficientPrivilege,
    "DELETE FROM clinic_accessevent": errors.InsufficientPrivilege,
    "TRUNCATE pghistory_context": errors.InsufficientPrivilege,
    "DELETE FROM pghistory_context": errors.InsufficientPrivilege,
    "CREATE TABLE public.clinic_shadow (id int)": errors.InsufficientPrivilege,
    "ALTER ROLE CURRENT_USER SUPERUSER": errors.InsufficientPrivilege,
}


@pytest.mark.parametrize("statement", list(REFUSED))
def test_the_runtime_role_is_refused_each_audit_rewriting_statement(
    runtime_conn: psycopg.Connection[tuple[object, ...]], statement: str
) -> None:
    with pytest.raises(REFUSED[statement]):
        runtime_conn.execute(statement)


def test_the_runtime_role_cannot_rewrite_who_made_a_change(
    runtime_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    context_id = _committed_context_id()
    with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
        runtime_conn.execute("UPDATE pghistory_context SET metadata = '{\"user\": 2}' WHERE id = %s", (context_id,))


def test_the_runtime_role_is_neither_superuser_nor_owner(runtime_conn: psycopg.Connection[tuple[object, ...]]) -> None:
    row = runtime_conn.execute(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication "
        "FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False, False, False, False)
    owned = runtime_conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user"
    ).fetchone()
    assert owned == (0,)


def test_the_runtime_role_reads_and_writes_rows_and_merges_its_own_context(
    runtime_conn: psycopg.Connection[tuple[object, ...]],
) -> None:
    # pghistory's flow as the app runs it: insert a context row, merge into it, same transaction.
    context_id = uuid.uuid4()
    with runtime_conn.transaction():
        runtime_conn.execute("SELECT count(*) FROM clinic_patient")
        runtime_conn.execute(
            "INSERT INTO pghistory_context (id, metadata, created_at, updated_at) VALUES (%s, '{}', now(), now())",
            (context_id,),
        )
        runtime_conn.execute('UPDATE pghistory_context SET metadata = \'{"url": "x"}\' WHERE id = %s', (context_id,))
    privileges = dbroles.table_privileges(
        runtime_conn, role=str(runtime_conn.info.user), tables=[AccessEvent._meta.db_table, Room._meta.db_table]
    )
    assert privileges[AccessEvent._meta.db_table] == {"SELECT", "INSERT"}
    assert privileges[Room._meta.db_table] == {"SELECT", "INSERT", "UPDATE", "DELETE"}


def test_every_protected_audit_table_loses_update_and_delete() -> None:
    tables = {t.table for t in append_only_tables()}
    assert AccessEvent._meta.db_table in tables
    assert Room.pgh_event_models["insert"]._meta.db_table in tables  # type: ignore[attr-defined]


def test_pghistory_may_merge_context_within_its_own_transaction() -> None:
    # pghistory's own flow: one context, metadata merged by a nested context and a savepoint.
    location = LocationFactory()
    with pghistory.context(user=None, url="first"):
        room = Room.objects.create(location=location, name="A")
        with transaction.atomic(), pghistory.context(extra="second"):
            Room.objects.filter(pk=room.pk).update(name="B")
        Room.objects.filter(pk=room.pk).update(name="C")
    event = Room.pgh_event_models["update"].objects.filter(pgh_obj_id=room.pk).last()  # type: ignore[attr-defined]
    assert event.pgh_context.metadata["extra"] == "second"


def test_a_committed_context_row_cannot_be_rewritten_even_by_the_owner() -> None:
    context_id = _committed_context_id()
    with psycopg.connect(_owner_conninfo(), autocommit=True) as admin:
        with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
            admin.execute("UPDATE pghistory_context SET metadata = '{}' WHERE id = %s", (context_id,))
        with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
            admin.execute("DELETE FROM pghistory_context WHERE id = %s", (context_id,))
