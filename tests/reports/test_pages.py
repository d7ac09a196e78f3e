"""The report pages through the client: filters, bad input, CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from clinic.models import User
from reports import summaries
from tests.factories import PatientFactory, StaffScheduleFactory
from tests.reports.scene import appointment, central, march

pytestmark = pytest.mark.django_db


def test_a_range_that_ends_before_it_starts_is_refused_beside_the_field(client: Client, manager: User) -> None:
    client.force_login(manager)
    response = client.get("/reports/appointments/", {"preset": "custom", "start": "2026-03-31", "end": "2026-03-01"})
    assert response.status_code == 200
    assert "The range ends before it starts." in response.content.decode()


@pytest.mark.parametrize("query", [{}, {"late_hours": "24"}])
def test_the_period_select_shows_the_default_range_the_report_uses(
    client: Client, manager: User, query: dict[str, str]
) -> None:
    # No period chosen: the report covers the last 30 days, and the select says so (not "This week").
    client.force_login(manager)
    page = client.get("/reports/appointments/", query).content.decode()
    assert '<option value="30d" selected>' in page
    assert '<option value="week" selected>' not in page


def test_a_custom_range_without_dates_asks_for_them(client: Client, manager: User) -> None:
    client.force_login(manager)
    response = client.get("/reports/funnel/", {"preset": "custom"})
    assert response.status_code == 200
    assert "Enter the first day of the range." in response.content.decode()


def test_a_location_the_manager_does_not_work_at_is_refused(client: Client, manager: User) -> None:
    client.force_login(manager)
    response = client.get("/reports/appointments/", {"location": "999999"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_csv_export_holds_the_same_figures_as_the_table(client: Client, manager: User) -> None:
    patient = PatientFactory()
    appointment(patient, march(2))
    appointment(patient, march(3), status="no_show")
    summaries.refresh_summaries()  # the report reads the appointment-day summary
    client.force_login(manager)
    query = {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31"}
    response = client.get("/reports/appointments/", query | {"export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="appointments-2026-03-01-2026-03-31.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows[1]
    total = next(row for row in rows if row[:1] == ["All types"])
    assert total[header.index("Total")] == "2"
    assert total[header.index("No-show rate")] == "50.0% (n=2)"


def test_csv_export_defuses_spreadsheet_formulas_in_names(client: Client, manager: User) -> None:
    patient = PatientFactory(first_name="=HYPERLINK(1)", last_name="X")
    appointment(patient, march(2))
    client.force_login(manager)
    response = client.get(
        "/reports/appointments/records/",
        {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31", "export": "csv"},
    )
    assert "'=HYPERLINK(1) X" in response.content.decode()


def test_figures_across_categories_are_drawn_as_bars_and_utilisation_over_time_as_a_line(
    client: Client, manager: User
) -> None:
    patient = PatientFactory()
    kept = appointment(patient, march(2))
    appointment(patient, march(3), status="no_show")
    StaffScheduleFactory(staff=kept.practitioner, location=central(), weekday=0)
    client.force_login(manager)
    query = {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31"}
    by_type = client.get("/reports/appointments/", query).content.decode()
    # Three series (completed, cancelled, no-show), told apart by fill: solid, then two patterns.
    assert 'fill="url(#chart-report-fill-2)"' in by_type
    assert 'fill="url(#chart-report-fill-3)"' in by_type
    assert "<polyline" not in by_type
    over_time = client.get("/reports/utilisation/", query).content.decode()
    assert "<polyline" in over_time
    assert "chart-report-fill-" not in over_time
