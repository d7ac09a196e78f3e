"""The reports' summaries are refreshed by the app's own database role, which owns nothing."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from reports import summaries
from tests.clinic.test_db_roles import runtime_conn  # noqa: F401  (the fixture)

# Transactional: the runtime role's second connection must not wait on this test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_runtime_role_refreshes_every_summary_through_the_owners_function(
    runtime_conn: psycopg.Connection[tuple[object, ...]],  # noqa: F811
) -> None:
    for name in summaries.SUMMARIES:
        runtime_conn.execute("SELECT reports_refresh_summary(%s)", [name])


def test_the_runtime_role_reads_every_summary(
    runtime_conn: psycopg.Connection[tuple[object, ...]],  # noqa: F811
) -> None:
    # The reports read the views as the app's role: the grants for future tables cover them.
    for name in summaries.SUMMARIES:
        runtime_conn.execute(f"SELECT count(*) FROM {name}")  # noqa: S608  (names from code)


def test_the_runtime_role_may_not_refresh_a_view_itself_nor_anything_else_through_the_function(
    runtime_conn: psycopg.Connection[tuple[object, ...]],  # noqa: F811
) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        runtime_conn.execute(f"REFRESH MATERIALIZED VIEW {summaries.FUNNEL}")
    with pytest.raises(errors.RaiseException):
        runtime_conn.execute("SELECT reports_refresh_summary(%s)", ["clinic_patient"])


def test_the_function_refuses_a_view_that_is_not_one_of_the_reports_summaries(
    runtime_conn: psycopg.Connection[tuple[object, ...]],  # noqa: F811
) -> None:
    # A materialized view of another app, and a name that only looks like a summary.
    with pytest.raises(errors.RaiseException):
        runtime_conn.execute("SELECT reports_refresh_summary(%s)", ["reports_summaryrefresh"])
    with pytest.raises(errors.RaiseException):
        runtime_conn.execute("SELECT reports_refresh_summary(%s)", ["reports_nothing_here"])
