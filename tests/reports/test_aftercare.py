"""The aftercare report read from its summaries: the same figures as from the raw rows, the
lag percentiles as percentile_cont gives them message by message, and the drill-down listing
the messages the figures count."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from aftercare.models import CheckIn, Message, MessageStatus, SpecialistQueueEntry
from clinic.models import Location, User
from reports import operations, summaries
from reports.forms import Filters
from reports.framework import Drill, Report
from tests.factories import LocationFactory, MessageFactory, PatientFactory
from tests.reports.scene import UTC, central, filters, march

pytestmark = pytest.mark.django_db

RAW = {
    summaries.MESSAGE_DAY: summaries.MESSAGE_DAY_SQL,
    summaries.MESSAGE_LAG: summaries.MESSAGE_LAG_SQL,
    summaries.WORRIED_CHECKIN: summaries.WORRIED_CHECKIN_SQL,
}


def _message(location: Location | None, due: datetime, **fields: Any) -> Message:
    fields.setdefault("patient", PatientFactory())
    return MessageFactory(location=location, due_at=due, **fields)


def _sent(location: Location | None, due: datetime, lag_seconds: float, **fields: Any) -> Message:
    return _message(location, due, status="sent", sent_at=due + timedelta(seconds=lag_seconds), **fields)


def _answer(message: Message, answer: str, *, resolved_after_hours: float | None = None, queued: bool = True) -> None:
    checkin = CheckIn.objects.create(
        message=message, patient=message.patient, answer=answer, answered_at=message.due_at + timedelta(hours=2)
    )
    if answer == "worried" and queued:
        resolved = resolved_after_hours is not None
        SpecialistQueueEntry.objects.create(
            checkin=checkin,
            patient=message.patient,
            location=message.location,
            resolved_at=checkin.answered_at + timedelta(hours=resolved_after_hours) if resolved else None,
            resolved_by=_resolver() if resolved else None,
            resolution="Called" if resolved else "",
        )


def _resolver() -> User:
    return User.objects.get(username="mgr")


@pytest.fixture
def east(manager: User) -> Location:
    """A second location of the manager's, nine hours ahead of London (in March)."""
    location = LocationFactory(name="East", time_zone="Asia/Tokyo")
    manager.locations.add(location)
    return location


@pytest.fixture
def scene(manager: User, east: Location) -> None:
    """Every status, check-in answer and kind of "worried" outcome, lags with ties and fractions of
    a second, messages either side of the range's ends by each zone, with no location, to staff
    and at a location the manager does not work at."""
    london = central()
    checkin = {"kind": "checkin_day1"}
    for status in ("scheduled", "sending", "failed", "cancelled", "skipped_no_consent"):
        _message(london, march(3, 9), status=status)
        _message(london, march(4, 9), status=status, **checkin)
    _message(east, march(5, 1), status="failed")
    # Sent: lags 30 s (three times: a tie), 90.7 s (90 to the second), 0.4 s (0), 600 s, 3600 s.
    for day, lag in ((2, 30), (2, 30), (6, 30), (6, 90.7), (7, 0.4), (8, 600), (9, 3600)):
        _sent(london, march(day, 9), lag)
    _sent(east, march(10, 1), 45)
    _sent(east, march(10, 2), 45.5)
    # Check-ins: each answer, one unanswered; "worried" resolved, still open, and never queued.
    _answer(_sent(london, march(11, 9), 120, **checkin), "fine")
    _answer(_sent(london, march(11, 9), 125, **checkin), "fine")
    _answer(_sent(london, march(12, 9), 130, **{"kind": "checkin_day3"}), "red_or_sensitive")
    _sent(london, march(12, 9), 61, **checkin)  # unanswered
    _answer(_sent(london, march(13, 9), 62, **checkin), "worried", resolved_after_hours=4)
    _answer(_sent(london, march(14, 9), 63, **checkin), "worried", resolved_after_hours=2.5)
    _answer(_sent(london, march(15, 9), 64, **checkin), "worried", resolved_after_hours=30)
    _answer(_sent(london, march(16, 9), 65, **checkin), "worried")  # open
    _answer(_sent(london, march(16, 9), 66, **checkin), "worried", queued=False)
    _answer(_sent(east, march(16, 1), 67, **checkin), "worried", resolved_after_hours=1)
    # The range's ends. London: GMT until 29 March, then BST (UTC+1); Tokyo UTC+9.
    _sent(london, datetime(2026, 3, 1, 0, 0, tzinfo=UTC), 5)  # the first minute: in
    _sent(london, datetime(2026, 2, 28, 23, 59, tzinfo=UTC), 5)  # the minute before: out
    _sent(london, datetime(2026, 3, 31, 22, 59, tzinfo=UTC), 7)  # 23:59 BST on the 31st: in
    _sent(london, datetime(2026, 3, 31, 23, 0, tzinfo=UTC), 7)  # 00:00 BST on 1 April: out
    _sent(east, datetime(2026, 2, 28, 15, 0, tzinfo=UTC), 9)  # 1 March 00:00 in Tokyo: in
    _sent(east, datetime(2026, 3, 31, 15, 0, tzinfo=UTC), 9)  # 1 April 00:00 in Tokyo: out
    # No location: counted by the report's own range (London's) when it covers all the manager's
    # locations; kept in 15-minute slots, so test both sides of midnight.
    _sent(None, datetime(2026, 3, 1, 0, 0, tzinfo=UTC), 11)  # in
    _sent(None, datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC), 11)  # out
    _sent(None, datetime(2026, 3, 31, 22, 59, 59, tzinfo=UTC), 13)  # in
    _sent(None, datetime(2026, 3, 31, 23, 0, tzinfo=UTC), 13)  # out
    _message(None, march(20, 9), status="failed")
    _answer(_sent(None, march(20, 9), 14, **checkin), "worried", resolved_after_hours=6)
    # Not patient messages, or not the manager's: never counted.
    _sent(london, march(21, 9), 15, to_user=_resolver(), kind="specialist_alert")
    _sent(LocationFactory(name="West"), march(21, 9), 17)
    summaries.refresh_summaries()


def _filters(*locations: Location) -> Filters:
    return dataclasses.replace(filters(central()), location_ids=tuple(sorted(loc.pk for loc in locations)))


def _build(chosen: Filters, manager: User) -> Report:
    return operations.aftercare_build(chosen, manager, Drill("aftercare", chosen))


def _figures(report: Report) -> dict[str, str]:
    return {label: cell.text for label, cell in report.figures}


def test_aftercare_from_the_summaries_equals_the_one_computed_from_the_raw_rows(
    scene: None, manager: User, east: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    for chosen in (_filters(central(), east), _filters(central()), _filters(east)):
        from_summary = _build(chosen, manager)
        with monkeypatch.context() as patched:
            for name in ("AFTERCARE_SQL", "CHECKINS_SQL"):
                sql = getattr(operations, name)
                for view, raw in RAW.items():
                    sql = sql.replace(view, f"({raw})")
                assert "reports_" not in sql
                patched.setattr(operations, name, sql)
            from_raw = _build(chosen, manager)
        assert from_raw.tables == from_summary.tables
        assert from_raw.figures == from_summary.figures
    # The scene reaches every figure: each status, answer and "worried" outcome.
    everything = _build(_filters(central(), east), manager)
    statuses = {row[0].text: row[1].text for row in everything.tables[0].rows}
    assert all(count != "0" for count in statuses.values()), statuses
    checkins = {row[0].text: row[1].text for row in everything.tables[1].rows}
    assert all(count != "0" for count in checkins.values()), checkins
    # Worried: 4 + 2.5 + 30 + 1 + 6 hours resolved (5 of 7: one open, one never queued).
    assert checkins["Worried"] == "7"
    assert everything.figures[-1][1].n == 5
    assert _figures(everything)["“Worried” → resolved, median hours"] == "4.0"


def test_the_messages_the_figures_count_are_the_ones_the_drill_down_lists(
    scene: None, manager: User, east: Location
) -> None:
    for chosen in (_filters(central(), east), _filters(central())):
        report = _build(chosen, manager)
        counts = {row[0].text: row[1].text for row in report.tables[0].rows}
        labels = dict(MessageStatus.choices)
        for status in MessageStatus.values:
            listed = operations.aftercare_records(chosen, {"status": status}, manager)
            assert str(len(listed.rows)) == counts[str(labels[status])], status
        checkins = {row[0].text: row[1].text for row in report.tables[1].rows}
        for label, params in (
            ("Check-ins sent", {"kind": "checkin", "status": "sent"}),
            ("Answered", {"answer": "any"}),
            ("Fine", {"answer": "fine"}),
            ("Worried", {"answer": "worried"}),
        ):
            assert str(len(operations.aftercare_records(chosen, params, manager).rows)) == checkins[label], label
    # All of the manager's locations: London's 1 March 00:00 and 31 March 23:59 BST, Tokyo's
    # 1 March 00:00, and the two messages with no location due in the range; not their neighbours.
    sent = operations.aftercare_records(_filters(central(), east), {"status": "sent"}, manager)
    due = {row[0].text for row in sent.rows}
    assert {"2026-03-01 00:00", "2026-03-31 23:59", "2026-02-28 15:00"} <= due
    assert not due & {"2026-02-28 23:59", "2026-04-01 00:00", "2026-03-31 15:00"}


# Lags in seconds, and p50 and p95 of them as percentile_cont gives them.
LAG_CASES = (
    [42],  # one message: both percentiles are its lag
    [30, 30],  # a tie
    [10, 20, 60],
    [1, 2, 2, 2, 9],  # ties around the median
    [0.4, 5.9, 5.2, 100, 7, 7, 3601.5, 8],  # fractions of a second: counted whole, rounded down
    list(range(1, 41)),  # 40 values: p95 at position 37.05
)


@pytest.mark.parametrize("lags", LAG_CASES, ids=lambda lags: f"{len(lags)} lags")
def test_the_lag_percentiles_from_the_histogram_are_percentile_cont_over_the_messages(
    manager: User, lags: list[float]
) -> None:
    london = central()
    # Over the month: the whole weeks (2-29 March) come from the week rows, the 1st, 30th and
    # 31st from the day rows; each message is counted once.
    for i, lag in enumerate(lags):
        _sent(london, march(1 + (i * 7) % 31, 9), lag)
    summaries.refresh_summaries()
    chosen = filters(london)
    params = operations._aftercare_params(chosen, manager)
    assert (params["weeks_from"], params["weeks_to"]) == (date(2026, 3, 2), date(2026, 3, 30))
    total = next(r for r in operations.rows(operations.AFTERCARE_SQL, params) if r["status"] is None)
    assert total["lagged"] == len(lags)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY floor(extract(epoch FROM sent_at - due_at))),"
            " percentile_cont(0.95) WITHIN GROUP (ORDER BY floor(extract(epoch FROM sent_at - due_at)))"
            " FROM aftercare_message WHERE status = 'sent'"
        )
        p50, p95 = cursor.fetchone()
    assert total["p50"] == pytest.approx(p50 / 60, rel=1e-12)
    assert total["p95"] == pytest.approx(p95 / 60, rel=1e-12)


def test_the_lag_is_counted_in_whole_seconds_and_interpolated_between_them(manager: User) -> None:
    for i, lag in enumerate((1, 2, 2.5, 2.999, 9.99)):  # to the second: 1, 2, 2, 2, 9
        _sent(central(), march(2 + i, 9), lag)
    summaries.refresh_summaries()
    params = operations._aftercare_params(filters(central()), manager)
    total = next(r for r in operations.rows(operations.AFTERCARE_SQL, params) if r["status"] is None)
    assert total["p50"] == pytest.approx(2 / 60)  # the third of five
    assert total["p95"] == pytest.approx((2 + 0.8 * (9 - 2)) / 60)  # position 0.95 × 4 = 3.8


@pytest.mark.parametrize(
    ("first", "last", "weeks"),
    [
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 3, 2), date(2026, 3, 30))),  # Sunday to Tuesday
        (date(2026, 3, 2), date(2026, 3, 8), (date(2026, 3, 2), date(2026, 3, 9))),  # one whole week
        (date(2026, 3, 3), date(2026, 3, 9), (date(2026, 3, 10), date(2026, 3, 10))),  # seven days, no whole week
        (date(2026, 3, 4), date(2026, 3, 4), (date(2026, 3, 5), date(2026, 3, 5))),
    ],
)
def test_a_range_reads_its_whole_weeks_from_the_week_rows(first: date, last: date, weeks: tuple[date, date]) -> None:
    assert operations._whole_weeks(first, last) == weeks


def test_the_lag_of_a_range_without_a_whole_week_and_of_one_within_a_week(manager: User) -> None:
    london = central()
    for day, lag in ((3, 10), (4, 20), (5, 30), (9, 40), (10, 50)):
        _sent(london, march(day, 9), lag)
    summaries.refresh_summaries()
    for first, last, lags in ((3, 9, [10, 20, 30, 40]), (2, 8, [10, 20, 30]), (4, 10, [20, 30, 40, 50])):
        params = operations._aftercare_params(filters(london, date(2026, 3, first), date(2026, 3, last)), manager)
        total = next(r for r in operations.rows(operations.AFTERCARE_SQL, params) if r["status"] is None)
        assert total["lagged"] == len(lags)
        middle = len(lags) // 2
        median = lags[middle] if len(lags) % 2 else (lags[middle - 1] + lags[middle]) / 2
        assert total["p50"] == pytest.approx(median / 60)


def test_no_sent_message_no_lag(manager: User) -> None:
    _message(central(), march(3, 9), status="failed")
    summaries.refresh_summaries()
    figures = _figures(_build(filters(central()), manager))
    assert figures["Due → sent, p50 (minutes)"] == "—"
    assert figures["Due → sent, p95 (minutes)"] == "—"
    assert figures["Failed"] == "1"


def test_a_summary_with_messages_of_no_location_refreshes_concurrently_again(manager: User) -> None:
    # The key has NULLs there (NULLS NOT DISTINCT): a second refresh must match or replace them.
    _sent(None, march(3, 9), 11)
    _sent(None, march(3, 9, 1), 12)
    _message(None, march(3, 9), status="failed")
    summaries.refresh_summaries()
    summaries.refresh_summaries()
    figures = _figures(_build(filters(central()), manager))
    assert figures["Sent"] == "2"
    assert figures["Failed"] == "1"
