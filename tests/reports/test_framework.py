"""The report framework's drill-down links."""

from __future__ import annotations

from datetime import date, datetime, time
from urllib.parse import parse_qs, urlencode, urlsplit

from django.urls import reverse

from reports.forms import Filters
from reports.framework import Drill
from tests.reports.scene import LONDON


def filters(by: str = "") -> Filters:
    return Filters(
        first_day=date(2026, 3, 1),
        last_day=date(2026, 3, 31),
        start=datetime.combine(date(2026, 3, 1), time.min, tzinfo=LONDON),
        end=datetime.combine(date(2026, 4, 1), time.min, tzinfo=LONDON),
        location_ids=(4,),
        zone="Europe/London",
        late_hours=24,
        by=by,
    )


def test_a_drill_link_carries_the_reports_filters_and_the_figures_own_parameters() -> None:
    chosen = filters()
    drill = Drill("appointments", chosen)
    link = urlsplit(drill(type=7, status="no_show"))
    assert link.path == reverse("reports:appointments_records")
    assert parse_qs(link.query, keep_blank_values=True) == {
        **{k: [v] for k, v in chosen.query().items()},
        "type": ["7"],
        "status": ["no_show"],
    }
    # The filters' part, encoded once, gives every later link exactly the whole encoding; without
    # parameters, the filters alone.
    whole = urlencode(chosen.query() | {"type": "8", "status": "late"})
    assert drill(type=8, status="late") == f"{reverse('reports:appointments_records')}?{whole}"
    assert parse_qs(urlsplit(drill()).query, keep_blank_values=True) == {k: [v] for k, v in chosen.query().items()}


def test_a_figures_parameter_named_like_a_filter_replaces_it() -> None:
    chosen = filters(by="week")
    link = urlsplit(Drill("utilisation", chosen)(by="day", room=3))
    query = parse_qs(link.query, keep_blank_values=True)
    assert query["by"] == ["day"]
    assert query["room"] == ["3"]
    assert query["start"] == [chosen.first_day.isoformat()]
