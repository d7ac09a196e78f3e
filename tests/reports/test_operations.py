"""Operations reports on hand-made scenes: each expected figure is worked out in the test."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from aftercare.models import CheckIn, SpecialistQueueEntry
from clinic import phones
from clinic.models import AppointmentStatus, AppointmentStatusChange, Location, TimeOff, User
from clinic.roles import Role
from reports import operations, summaries
from reports.forms import LATE_HOURS_MAX
from reports.framework import Drill, Report, Table
from tests.factories import (
    AppointmentFactory,
    ConsultationFactory,
    ExtractionTypeFactory,
    LocationFactory,
    MessageFactory,
    PatientFactory,
    RoomFactory,
    StaffScheduleFactory,
    TreatmentPlanFactory,
    UserFactory,
)
from tests.reports.scene import appointment, cancel, central, filters, march, review, signed_session

pytestmark = pytest.mark.django_db


def cell(table: Table, row_label: str, header: str) -> str:
    column = table.headers.index(header)
    for row in table.rows:
        if row[0].text == row_label:
            return row[column].text
    raise AssertionError(f"no row {row_label!r} in {[r[0].text for r in table.rows]}")


def build(build: Any, manager: User, **kw: Any) -> Report:
    chosen = filters(central(), **kw)
    return build(chosen, manager, Drill("appointments", chosen))


@pytest.fixture
def appointment_scene(manager: User) -> dict[str, Any]:
    extraction = ExtractionTypeFactory()
    a, b, c, d = (PatientFactory() for _ in range(4))
    appointment(a, march(2))  # A's first visit: counts as a first-visit consultation
    appointment(a, march(10), appointment_type=extraction, status=AppointmentStatus.NO_SHOW)
    late = appointment(b, march(3), status=AppointmentStatus.CANCELLED, cancel_reason="Ill")
    cancel(late, hours_before=2, by=manager)  # 2 h before: late with 24 h
    early = appointment(c, march(4), status=AppointmentStatus.CANCELLED, cancel_reason="Away")
    cancel(early, hours_before=48, by=manager)  # 48 h before: not late with 24 h, late with 72 h
    appointment(d, march(5), appointment_type=extraction)
    appointment(d, march(6))  # not a first visit: D was here on the 5th
    appointment(d, march(20, 10) - timedelta(days=40))  # February: outside the range
    summaries.refresh_summaries()  # the report reads the appointment-day summary
    return {"late": late, "a": a}


def test_appointments_by_type_and_status_with_their_rates(appointment_scene: dict[str, Any], manager: User) -> None:
    report = build(operations.appointments_build, manager)
    table = report.tables[0]
    # Consultations: A (completed), B (cancelled late), C (cancelled early), D (completed) = 4.
    assert cell(table, "Free consultation", "Total") == "4"
    assert cell(table, "Free consultation", "Completed") == "2"
    assert cell(table, "Free consultation", "Cancelled") == "2"
    # No-shows ÷ appointments not cancelled: 0 ÷ 2.
    assert cell(table, "Free consultation", "No-show rate") == "0.0%"
    assert cell(table, "Free consultation", "Late cancellations") == "1"
    assert cell(table, "Free consultation", "Late cancellation rate") == "25.0%"  # 1 of 4
    assert cell(table, "Free consultation", "First-visit consultations") == "1"  # A only
    # Extractions: A's no-show and D's completed one: 1 ÷ 2.
    assert cell(table, "Extraction session", "No-show rate") == "50.0%"
    # All: 6 appointments, 2 cancelled, 1 no-show: 1 ÷ 4.
    assert cell(table, "All types", "Total") == "6"
    assert cell(table, "All types", "No-show rate") == "25.0%"


def test_late_cancellation_hours_are_configurable(appointment_scene: dict[str, Any], manager: User) -> None:
    report = build(operations.appointments_build, manager, late_hours=72)
    assert cell(report.tables[0], "All types", "Late cancellations") == "2"


def test_the_late_cancellation_figure_drills_down_to_its_appointment(
    appointment_scene: dict[str, Any], manager: User
) -> None:
    records = operations.appointment_records(filters(central()), {"status": "late"}, manager)
    assert [row[0].href for row in records.rows] == [f"/appointments/{appointment_scene['late'].pk}/"]


def _appointment_day_scene(manager: User) -> Location:
    """Every status, first visits and not, and cancellations with every kind of notice, over two
    types and two locations (one thirteen hours ahead of London in March, so the local day differs).
    Returns that second location."""
    extraction = ExtractionTypeFactory()
    # P1: first visit on the 2nd; the extraction and the later consultation are not first visits.
    p1 = PatientFactory()
    appointment(p1, march(2))
    appointment(p1, march(12), appointment_type=extraction, status=AppointmentStatus.CONFIRMED)
    appointment(p1, march(20), status=AppointmentStatus.BOOKED)
    # P2: a no-show (released, not kept) then a consultation checked in: that one is a first visit.
    p2 = PatientFactory()
    appointment(p2, march(3), status=AppointmentStatus.NO_SHOW)
    appointment(p2, march(4, 11), status=AppointmentStatus.CHECKED_IN)
    # P3: a cancellation with no recorded change (never late), then a first visit in progress.
    p3 = PatientFactory()
    appointment(p3, march(5), status=AppointmentStatus.CANCELLED, cancel_reason="Rang")
    appointment(p3, march(6), status=AppointmentStatus.IN_PROGRESS)
    # P4: kept a visit in February (outside the range), so March's consultation is not a first visit.
    p4 = PatientFactory()
    appointment(p4, march(10) - timedelta(days=30), appointment_type=extraction)
    appointment(p4, march(7), status=AppointmentStatus.BOOKED)
    # Cancellations by notice (start less the last change to 'cancelled').
    notices = (
        timedelta(hours=24),  # exactly 24 h: late only with more than 24 hours chosen
        timedelta(hours=24) - timedelta(microseconds=1),  # a hair under 24 h: late with 24
        timedelta(hours=1),  # exactly 1 h: late from 2 hours
        timedelta(minutes=30),
        timedelta(minutes=-10),  # cancelled after the start: always late
        timedelta(0),  # at the start
        timedelta(hours=48),
        timedelta(hours=336),  # two weeks exactly: never late (at most 336 hours may be chosen)
        timedelta(hours=336) - timedelta(minutes=1),  # late with 336
        timedelta(hours=500),
    )
    for index, notice in enumerate(notices):
        kind = extraction if index % 2 else None
        cancelled = appointment(
            PatientFactory(),
            march(8 + index, 14),
            status=AppointmentStatus.CANCELLED,
            cancel_reason="Rang",
            **({"appointment_type": kind} if kind else {}),
        )
        _cancelled_at(cancelled, cancelled.start - notice, manager)
    # Cancelled 100 h ahead, put back, cancelled again 2 h ahead: the last cancellation counts.
    twice = appointment(PatientFactory(), march(25, 9), status=AppointmentStatus.CANCELLED, cancel_reason="Rang")
    _cancelled_at(twice, twice.start - timedelta(hours=100), manager)
    _cancelled_at(twice, twice.start - timedelta(hours=2), manager)
    # Cancelled 2 h ahead, then put back and kept: not a cancellation at all.
    kept = appointment(PatientFactory(), march(26, 9))
    _cancelled_at(kept, kept.start - timedelta(hours=2), manager)
    # Auckland (UTC+13 in March): 12:00 UTC on 28 February is 1 March there, in the range; 12:00
    # UTC on 31 March is 1 April there, outside it.
    harbour = LocationFactory(name="Harbour", time_zone="Pacific/Auckland")
    room = RoomFactory(location=harbour, name="Harbour 1")
    appointment(PatientFactory(), march(1, 12) - timedelta(days=1), room=room)
    appointment(PatientFactory(), march(31, 12), room=room)
    appointment(PatientFactory(), march(16, 12), room=room, status=AppointmentStatus.NO_SHOW)
    summaries.refresh_summaries()
    return harbour


def _cancelled_at(appointment: Any, at: datetime, by: User) -> None:
    AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=AppointmentStatus.BOOKED,
        to_status=AppointmentStatus.CANCELLED,
        by=by,
        at=at,
        reason="Patient rang",
    )


# Late cancellations in _appointment_day_scene for each chosen number of hours, worked out by
# hand from the notices (a cancellation is late when its notice is under the chosen hours).
SCENE_LATE = {1: 3, 2: 4, 24: 6, 25: 7, 48: 7, 336: 9}


def test_appointments_from_the_summary_equal_the_ones_computed_from_the_raw_rows(
    manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    harbour = _appointment_day_scene(manager)
    for late_hours, late in SCENE_LATE.items():
        chosen = replace(filters(central(), late_hours=late_hours), location_ids=(central().pk, harbour.pk))
        from_summary = operations.appointments_build(chosen, manager, Drill("appointments", chosen))
        assert cell(from_summary.tables[0], "All types", "Late cancellations") == str(late)
        # 20 in central (P4's February visit is outside the range), 2 of the 3 at Harbour.
        assert cell(from_summary.tables[0], "All types", "Total") == "22"
        # P1's, P2's and P3's, the kept one on the 26th and Harbour's on (its) 1 March.
        assert cell(from_summary.tables[0], "All types", "First-visit consultations") == "5"
        with monkeypatch.context() as patched:
            raw = f"({summaries.APPOINTMENT_DAY_SQL})"
            patched.setattr(
                operations, "APPOINTMENTS_SQL", operations.APPOINTMENTS_SQL.replace(summaries.APPOINTMENT_DAY, raw)
            )
            from_raw = operations.appointments_build(chosen, manager, Drill("appointments", chosen))
        assert from_raw.tables == from_summary.tables
        assert from_raw.figures == from_summary.figures
        # Each count drills down to exactly the records it counts.
        for row in from_summary.tables[0].rows:
            for figure in row[1:]:
                if figure.href and figure.text.isdigit():
                    params = dict(parse_qsl(urlsplit(figure.href).query))
                    records = operations.appointment_records(chosen, params, manager)
                    assert len(records.rows) == int(figure.text), (late_hours, params)


def test_the_drill_down_lists_each_locations_own_local_days_as_the_report_counts_them(manager: User) -> None:
    harbour = _appointment_day_scene(manager)
    # The viewer's zone is London's; Harbour's range is still 1 to 31 March as the clock there reads.
    chosen = filters(harbour)
    report = operations.appointments_build(chosen, manager, Drill("appointments", chosen))
    assert cell(report.tables[0], "All types", "Total") == "2"
    records = operations.appointment_records(chosen, {}, manager)
    assert [row[0].text for row in records.rows] == ["2026-02-28 12:00", "2026-03-16 12:00"]


def test_the_summary_keeps_a_cancellations_notice_up_to_the_most_hours_the_form_allows() -> None:
    assert LATE_HOURS_MAX == 336
    assert "least(336," in summaries.APPOINTMENT_DAY_SQL


def test_utilisation_is_booked_over_working_minutes(manager: User) -> None:
    practitioner = UserFactory(username="pract", role=Role.SPECIALIST)
    StaffScheduleFactory(staff=practitioner, location=central(), weekday=0)  # Mondays 09:00-17:00: 480 min
    room = RoomFactory(location=central(), name="Room 1")
    patient = PatientFactory()
    # Monday 2 March: 60 booked minutes kept, 45 cancelled (released, not counted).
    appointment(patient, march(2, 10), practitioner=practitioner, room=room)
    appointment(patient, march(2, 12), practitioner=practitioner, room=room, status="cancelled", cancel_reason="x")
    summaries.refresh_summaries()
    report = build(operations.utilisation_build, manager, first=date(2026, 3, 2), last=date(2026, 3, 8), by="day")
    table = report.tables[0]
    rows = {(r[0].text, r[1].text, r[2].text): r for r in table.rows}
    name = practitioner.get_full_name()
    assert rows[("Practitioner", name, "2026-03-02")][4].text == "480"
    # 45 minutes: the consultation type lasts 45 minutes; 45 ÷ 480 = 9.4%.
    assert rows[("Practitioner", name, "2026-03-02")][3].text == "45"
    assert rows[("Practitioner", name, "2026-03-02")][5].text == "9.4%"
    # The room is open when anyone works at its location: 09:00-17:00 on Mondays.
    assert rows[("Room", "Room 1", "2026-03-02")][5].text == "9.4%"


def test_utilisation_subtracts_time_off_from_working_minutes(manager: User) -> None:
    a = UserFactory(username="pract-a", role=Role.SPECIALIST)
    b = UserFactory(username="pract-b", role=Role.AESTHETICIAN)
    StaffScheduleFactory(staff=a, location=central(), weekday=0)  # Mondays 09:00-17:00: 480 min
    StaffScheduleFactory(staff=a, location=central(), weekday=1)  # Tuesdays 09:00-17:00: 480 min
    # B: Mondays 10:00-18:00 (480 min).
    StaffScheduleFactory(staff=b, location=central(), weekday=0, start_time=time(10), end_time=time(18))
    # A on Monday 2 March: off 12:00-14:00 and (booked twice, overlapping) 13:00-15:00: merged,
    # that is 12:00-15:00, 180 minutes, not 240. 480 - 180 = 300.
    TimeOff.objects.create(staff=a, start=march(2, 12), end=march(2, 14), reason="Dentist")
    TimeOff.objects.create(staff=a, start=march(2, 13), end=march(2, 15), reason="Training")
    # A is off all of Tuesday 3 March (Monday 20:00 to Wednesday 08:00): 0 working minutes.
    TimeOff.objects.create(staff=a, start=march(2, 20), end=march(4, 8), reason="Ill")
    # B leaves at 16:00 on Monday: 480 - 120 = 360.
    TimeOff.objects.create(staff=b, start=march(2, 16), end=march(2, 18), reason="School run")
    # Time off on another day (the following Monday) takes nothing from this week.
    TimeOff.objects.create(staff=b, start=march(9, 10), end=march(9, 12), reason="Later")
    room = RoomFactory(location=central(), name="Room 1")
    appointment(PatientFactory(), march(2, 10), practitioner=a, room=room)  # 45 booked minutes
    summaries.refresh_summaries()
    report = build(operations.utilisation_build, manager, first=date(2026, 3, 2), last=date(2026, 3, 8), by="day")
    rows = {(r[0].text, r[1].text, r[2].text): r for r in report.tables[0].rows}
    monday_a = rows[("Practitioner", a.get_full_name(), "2026-03-02")]
    assert monday_a[4].text == "300"
    assert monday_a[5].text == "15.0%"  # 45 / 300
    assert rows[("Practitioner", a.get_full_name(), "2026-03-03")][4].text == "0"
    assert rows[("Practitioner", b.get_full_name(), "2026-03-02")][4].text == "360"
    # Room 1 on Monday: A works 09:00-12:00 and 15:00-17:00, B 10:00-16:00: open 09:00-17:00,
    # 480 minutes (B's 16:00-18:00 off moves the close from 18:00 to 17:00); 45 / 480 = 9.4%.
    monday_room = rows[("Room", "Room 1", "2026-03-02")]
    assert monday_room[4].text == "480"
    assert monday_room[5].text == "9.4%"
    # Nobody works on Tuesday: the room has no open minutes that day.
    assert ("Room", "Room 1", "2026-03-03") not in rows
    weekly = build(operations.utilisation_build, manager, first=date(2026, 3, 2), last=date(2026, 3, 8), by="week")
    by_week = {(r[0].text, r[1].text, r[2].text): r for r in weekly.tables[0].rows}
    assert by_week[("Practitioner", a.get_full_name(), "2026-03-02")][4].text == "300"  # 300 + 0
    assert by_week[("Practitioner", b.get_full_name(), "2026-03-02")][4].text == "360"


def test_utilisation_figures_drill_down_to_the_kept_appointments_of_their_row(manager: User) -> None:
    practitioner = UserFactory(username="pract", role=Role.SPECIALIST)
    StaffScheduleFactory(staff=practitioner, location=central(), weekday=0)
    room = RoomFactory(location=central(), name="Room 1")
    patient = PatientFactory()
    kept = appointment(patient, march(2, 10), practitioner=practitioner, room=room)
    appointment(patient, march(2, 12), practitioner=practitioner, room=room, status="cancelled", cancel_reason="x")
    appointment(patient, march(3, 10), practitioner=practitioner, room=room)  # another day
    summaries.refresh_summaries()
    chosen = filters(central(), first=date(2026, 3, 2), last=date(2026, 3, 8), by="day")
    drill = Drill("utilisation", chosen)
    report = operations.utilisation_build(chosen, manager, drill)
    rows = {(r[0].text, r[1].text, r[2].text): r for r in report.tables[0].rows}
    for key, params in (
        (("Practitioner", practitioner.get_full_name(), "2026-03-02"), {"practitioner": practitioner.pk}),
        (("Room", "Room 1", "2026-03-02"), {"room": room.pk}),
    ):
        href = rows[key][3].href
        assert rows[key][5].href == href
        # The same link (in another order) as the report's drill gives for that row.
        path, query = href.split("?")
        expected_path, expected_query = drill(day="2026-03-02", period="day", status="held", **params).split("?")
        assert path == expected_path
        assert QueryDict(query) == QueryDict(expected_query)
        records = operations.appointment_records(chosen, QueryDict(query).dict(), manager)
        assert [row[0].href for row in records.rows] == [f"/appointments/{kept.pk}/"]


def test_utilisation_shows_booked_minutes_off_schedule_and_working_minutes_with_nothing_booked(
    manager: User,
) -> None:
    booked_only = UserFactory(username="pract-booked", role=Role.SPECIALIST)  # no working hours at all
    working_only = UserFactory(username="pract-working", role=Role.SPECIALIST)
    StaffScheduleFactory(staff=working_only, location=central(), weekday=0)  # Mondays, 480 min
    closed = RoomFactory(location=central(), name="Old room", is_active=False)
    appointment(PatientFactory(), march(3, 10), practitioner=booked_only, room=closed)  # Tuesday, 45 min
    summaries.refresh_summaries()
    report = build(operations.utilisation_build, manager, first=date(2026, 3, 2), last=date(2026, 3, 8), by="week")
    rows = {(r[0].text, r[1].text, r[2].text): [c.text for c in r[3:]] for r in report.tables[0].rows}
    assert rows[("Practitioner", booked_only.get_full_name(), "2026-03-02")] == ["45", "0", "—"]
    assert rows[("Practitioner", working_only.get_full_name(), "2026-03-02")] == ["0", "480", "0.0%"]
    # A room no longer in use has no open minutes, but what was booked in it still shows.
    assert rows[("Room", "Old room", "2026-03-02")] == ["45", "0", "—"]


def test_utilisation_keeps_the_rows_of_two_people_of_the_same_name_together(manager: User) -> None:
    twins = [UserFactory(username=f"twin-{n}", first_name="Sam", last_name="Lee", role=Role.SPECIALIST) for n in (1, 2)]
    for twin in twins:
        for weekday in (0, 1):
            StaffScheduleFactory(staff=twin, location=central(), weekday=weekday)
    summaries.refresh_summaries()
    report = build(operations.utilisation_build, manager, first=date(2026, 3, 2), last=date(2026, 3, 3), by="day")
    rows = [r for r in report.tables[0].rows if r[0].text == "Practitioner"]
    assert [(r[1].text, r[2].text) for r in rows] == [("Sam Lee", "2026-03-02"), ("Sam Lee", "2026-03-03")] * 2
    # Each person's two days, one after the other (ordered by who, then by day).
    who = [QueryDict(r[3].href.split("?")[1])["practitioner"] for r in rows]
    assert who == [str(twins[0].pk)] * 2 + [str(twins[1].pk)] * 2
    # And the chart draws a line for each of them, not one line for the name.
    assert report.chart is not None
    assert [line.label for line in report.chart.lines] == ["Sam Lee", "Sam Lee"]


def test_utilisation_from_the_booked_day_summary_equals_the_one_computed_from_the_raw_rows(
    manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    practitioner = UserFactory(username="pract", role=Role.SPECIALIST)
    StaffScheduleFactory(staff=practitioner, location=central(), weekday=0)
    room = RoomFactory(location=central(), name="Room 1")
    for day, hour in ((2, 10), (2, 12), (9, 9), (10, 15)):
        appointment(PatientFactory(), march(day, hour), practitioner=practitioner, room=room)
    appointment(PatientFactory(), march(9, 11), practitioner=practitioner, room=room, status="no_show")
    summaries.refresh_summaries()
    for by in ("day", "week"):
        from_summary = build(operations.utilisation_build, manager, by=by)
        assert from_summary.tables[0].rows
        with monkeypatch.context() as patched:
            raw = f"({summaries.BOOKED_DAY_SQL})"
            patched.setattr(
                operations, "UTILISATION_SQL", operations.UTILISATION_SQL.replace(summaries.BOOKED_DAY, raw)
            )
            assert build(operations.utilisation_build, manager, by=by).tables == from_summary.tables


def _funnel_scene() -> None:
    # Consultation 1: recommended (signed 2 March), consented 2 days later, session 1 after
    # 5 more days, the one-session plan complete on signing it, reviewed 21 days after that.
    first = ConsultationFactory(
        recommended=True, signed_at=march(2, 11), appointment__start=march(2), appointment__status="completed"
    )
    plan = TreatmentPlanFactory(consultation=first, sessions_planned=1, consented_at=march(4, 11))
    session = signed_session(plan=plan, number=1, start=march(9, 10))  # signed 11:00 on the 9th
    review(plan, decided_at=march(30, 11), present={})
    assert session.signed_at == march(9, 11)
    # Consultation 2: recommended, consented 4 days later, no session yet.
    second = ConsultationFactory(
        recommended=True, signed_at=march(3, 11), appointment__start=march(3), appointment__status="completed"
    )
    TreatmentPlanFactory(consultation=second, consented_at=march(7, 11))
    # Consultation 3: deferred.
    ConsultationFactory(
        recommended=True,
        rules_outcome="defer",
        signed_at=march(5, 11),
        appointment__start=march(5),
        appointment__status="completed",
    )
    summaries.refresh_summaries()


def _funnel_day_scene() -> tuple[Location, dict[str, int]]:
    """Every step reached by someone, whole-day lags with ties, across midnights and the change to
    summer time, and a consultation either side of a range edge at a location whose local day is
    not London's. Returns that location and the consultations' ids by name."""
    ids: dict[str, int] = {}

    def consultation(name: str, start: datetime, signed: datetime, **fields: Any) -> Any:
        made = ConsultationFactory(
            recommended=True, signed_at=signed, appointment__start=start, appointment__status="completed", **fields
        )
        ids[name] = made.pk
        return made

    # C1 (every step): consented 2 days after signing, session 1 signed 5 days later (the
    # one-session plan completed then: 0 days), reviewed 21 days after that (across the change to
    # summer time on the 29th: 21 days of elapsed time).
    plan = TreatmentPlanFactory(
        consultation=consultation("c1", march(2), march(2, 11)), sessions_planned=1, consented_at=march(4, 11)
    )
    signed_session(plan=plan, number=1, start=march(9, 10))  # signed 11:00 on the 9th
    review(plan, decided_at=march(30, 11), present={})
    # C2 (to session 1 of 2): consented 2 days 1 hour after (2 whole days, as C1), session 1
    # signed 4 days 23 hours later (4).
    plan = TreatmentPlanFactory(
        consultation=consultation("c2", march(3), march(3, 11)), sessions_planned=2, consented_at=march(5, 12)
    )
    signed_session(plan=plan, number=1, start=march(10, 10))
    # C3 (every step): signed 23:30 on the 6th, consented 00:30 on the 8th (1 day 1 hour: 1 whole
    # day, two midnights later), session 1 signed 20 days 11.5 hours later (20), reviewed at 11:30
    # UTC on the 29th, 12:30 in London after the clocks went forward: 23.5 hours after the session
    # (0 whole days, though the next day by the clock).
    third = consultation("c3", march(6, 20), march(6, 23, 30))
    plan = TreatmentPlanFactory(consultation=third, sessions_planned=1, consented_at=march(8, 0, 30))
    signed_session(plan=plan, number=1, start=march(28, 11))  # signed 12:00 UTC on the 28th
    review(plan, decided_at=march(29, 11, 30), present={})
    # C4: deferred (step 1 only). C5: recommended, no plan (to step 2).
    consultation("c4", march(12), march(12, 11), rules_outcome="defer")
    consultation("c5", march(13), march(13, 11))
    # Harbour, Auckland (UTC+13 in March): C6 at 11:30 UTC on 28 February, 00:30 on 1 March there
    # (in the range), consented 3 days after signing; C7 at 11:30 UTC on 31 March, 00:30 on 1 April
    # there (outside it), consented too.
    harbour = LocationFactory(name="Harbour", time_zone="Pacific/Auckland")
    room = RoomFactory(location=harbour, name="Harbour 1")
    start = march(1, 11, 30) - timedelta(days=1)
    six = consultation("c6", start, start + timedelta(minutes=30), appointment__room=room)
    TreatmentPlanFactory(consultation=six, consented_at=start + timedelta(days=3, minutes=30))
    seven = consultation("c7", march(31, 11, 30), march(31, 12), appointment__room=room)
    TreatmentPlanFactory(consultation=seven, consented_at=march(31, 13))
    summaries.refresh_summaries()
    return harbour, ids


# Reached and median whole days in _funnel_day_scene at both locations, worked out by hand: C1-C6
# signed; recommended: all but C4; consented: C1, C2, C3, C6 after 2, 2, 1 and 3 whole days
# (median 2); session 1: C1, C2, C3 after 5, 4, 20 (5); completed: C1, C3 after 0, 0 (0); reviewed:
# C1, C3 after 21, 0 (10.5: measured in hours, 21 days and 23.5 hours would give 11.0).
FUNNEL_DAY_REACHED = ["6", "5", "4", "3", "2", "2"]
FUNNEL_DAY_MEDIANS = ["—", "—", "2.0", "5.0", "0.0", "10.5"]
FUNNEL_DAY_STEPS = {
    1: {"c1", "c2", "c3", "c4", "c5", "c6"},
    2: {"c1", "c2", "c3", "c5", "c6"},
    3: {"c1", "c2", "c3", "c6"},
    4: {"c1", "c2", "c3"},
    5: {"c1", "c3"},
    6: {"c1", "c3"},
}


def test_funnel_from_the_day_summary_equals_the_one_computed_from_the_raw_rows(
    manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    harbour, _ = _funnel_day_scene()
    both = replace(filters(central()), location_ids=(central().pk, harbour.pk))
    for chosen in (both, filters(central()), filters(harbour)):
        from_summary = operations.funnel_build(chosen, manager, Drill("funnel", chosen))
        with monkeypatch.context() as patched:
            raw = f"({summaries.FUNNEL_DAY_SQL})"
            patched.setattr(operations, "FUNNEL_SQL", operations.FUNNEL_SQL.replace(summaries.FUNNEL_DAY, raw))
            from_raw = operations.funnel_build(chosen, manager, Drill("funnel", chosen))
        assert from_raw.tables == from_summary.tables
        assert from_raw.chart == from_summary.chart
    table = operations.funnel_build(both, manager, Drill("funnel", both)).tables[0]
    assert [row[1].text for row in table.rows] == FUNNEL_DAY_REACHED
    assert [row[4].text for row in table.rows] == FUNNEL_DAY_MEDIANS


def test_funnel_medians_are_of_whole_days_and_each_location_counts_its_own_local_days(manager: User) -> None:
    harbour, _ = _funnel_day_scene()
    both = replace(filters(central()), location_ids=(central().pk, harbour.pk))
    table = operations.funnel_build(both, manager, Drill("funnel", both)).tables[0]
    assert [row[1].text for row in table.rows] == FUNNEL_DAY_REACHED
    assert [row[4].text for row in table.rows] == FUNNEL_DAY_MEDIANS
    # Central alone: consented after 2, 2 and 1 whole days (median 2).
    table = operations.funnel_build(filters(central()), manager, Drill("funnel", filters(central()))).tables[0]
    assert [row[1].text for row in table.rows] == ["5", "4", "3", "3", "2", "2"]
    assert [row[4].text for row in table.rows] == ["—", "—", "2.0", "5.0", "0.0", "10.5"]
    # Harbour alone, viewed from London: C6 (1 March there) counts, C7 (1 April there) does not.
    table = operations.funnel_build(filters(harbour), manager, Drill("funnel", filters(harbour))).tables[0]
    assert [row[1].text for row in table.rows] == ["1", "1", "1", "0", "0", "0"]
    assert [row[4].text for row in table.rows] == ["—", "—", "3.0", "—", "—", "—"]


def test_funnel_steps_drill_down_to_exactly_the_consultations_counted(manager: User) -> None:
    harbour, ids = _funnel_day_scene()
    both = replace(filters(central()), location_ids=(central().pk, harbour.pk))
    report = operations.funnel_build(both, manager, Drill("funnel", both))
    for row in report.tables[0].rows:
        params = dict(parse_qsl(urlsplit(row[1].href).query))
        records = operations.funnel_records(both, params, manager)
        listed = {reverse_id(r[0].href) for r in records.rows}
        step = int(params["step"])
        assert listed == {ids[name] for name in FUNNEL_DAY_STEPS[step]}, step
        assert len(records.rows) == int(row[1].text)


def reverse_id(href: str) -> int:
    return int(href.rstrip("/").rsplit("/", 1)[1])


def test_funnel_counts_each_step_and_the_median_days_between(manager: User) -> None:
    _funnel_scene()
    table = build(operations.funnel_build, manager).tables[0]
    reached = [row[1].text for row in table.rows]
    assert reached == ["3", "2", "2", "1", "1", "1"]
    assert table.rows[1][2].text == "66.7%"  # 2 of 3 recommended
    # Consented after: 2 and 4 days, median 3; session 1 after 5; completed 0 days after; review 21.
    medians = [row[4].text for row in table.rows]
    assert medians == ["—", "—", "3.0", "5.0", "0.0", "21.0"]


def test_funnel_step_drills_down_to_its_consultations(manager: User) -> None:
    _funnel_scene()
    records = operations.funnel_records(filters(central()), {"step": "4"}, manager)
    assert len(records.rows) == 1


@time_machine.travel("2026-03-31 12:00:00+00:00", tick=False)
def test_rebooking_share_and_the_overdue_worklist(manager: User) -> None:
    a_plan = TreatmentPlanFactory(sessions_planned=3, interval_days=21, starts_on=date(2026, 3, 2))
    b_plan = TreatmentPlanFactory(sessions_planned=3, interval_days=21, starts_on=date(2026, 3, 3))
    signed_session(plan=a_plan, number=1, start=march(2, 10))
    # A booked the next one at 10:30 the same day (for 2 April, still ahead): rebooked, not overdue.
    AppointmentFactory(patient=a_plan.patient, start=march(2) + timedelta(days=31), created_at=march(2, 10, 30))
    signed_session(plan=b_plan, number=1, start=march(3, 10))
    # B's next booking was made two days later and missed: not rebooked, and overdue since the 24th.
    AppointmentFactory(patient=b_plan.patient, start=march(20), created_at=march(5), status="no_show")
    # A plan's last session is not asked to leave with a next one.
    c_plan = TreatmentPlanFactory(sessions_planned=1)
    signed_session(plan=c_plan, number=1, start=march(4, 10))
    summaries.refresh_summaries()
    report = build(operations.rebooking_build, manager)
    share = report.tables[0]
    assert cell(share, "All aestheticians", "Sessions") == "2"
    assert cell(share, "All aestheticians", "Next booked") == "1"
    assert cell(share, "All aestheticians", "Share") == "50.0%"
    overdue = report.tables[1]
    assert [row[0].text for row in overdue.rows] == [b_plan.patient.full_name]
    assert overdue.rows[0][4].text == "2026-03-24"  # 3 March + 21 days
    assert overdue.rows[0][5].text == "7"
    # The desk dials from the national form on screen; the CSV keeps E.164.
    phone = overdue.rows[0][1]
    assert (phone.text, phone.csv_text) == (phones.display(b_plan.patient.phone), b_plan.patient.phone)
    assert phone.text.startswith("07700")
    # Refreshed at 12:00 UTC, shown in London time (BST since 29 March).
    assert "last refreshed 2026-03-31 13:00" in report.notes[1]


def _progress(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        # ``sql`` reads the view or runs its query: constants from reports/summaries.py.
        columns = "plan_id, patient_id, location_id, done, last_start, due_on, booked_ahead"
        cursor.execute(f"SELECT {columns} FROM ({sql}) x ORDER BY 1")  # noqa: S608
        return cursor.fetchall()


@time_machine.travel("2026-03-31 12:00:00+00:00", tick=False)
def test_the_plan_progress_summary_equals_the_figures_computed_from_the_raw_rows(manager: User) -> None:
    # Plans in every state the summary tells apart: no session yet, one of three signed, all
    # signed (left out), on hold, not consented or closed (all three left out).
    fresh = TreatmentPlanFactory(sessions_planned=3, interval_days=21, starts_on=date(2026, 3, 2))
    one = TreatmentPlanFactory(sessions_planned=3, interval_days=14, starts_on=date(2026, 3, 2))
    signed_session(plan=one, number=1, start=march(3, 10))
    done = TreatmentPlanFactory(sessions_planned=1)
    signed_session(plan=done, number=1, start=march(4, 10))
    TreatmentPlanFactory(sessions_planned=3, held_at=march(5), held_reason="Pregnant")
    TreatmentPlanFactory(sessions_planned=3, consented_at=None, consent_name="", consent_version="")
    TreatmentPlanFactory(sessions_planned=3, status="closed")
    summaries.refresh_summaries()
    summary = _progress(f"SELECT * FROM {summaries.PLAN_PROGRESS}")  # noqa: S608  (a constant)
    assert summary == _progress(summaries.PLAN_PROGRESS_SQL)
    # Worked by hand: the fresh plan is due on its start day (2 March); the other on 3 + 14 = 17 March.
    due = {row[0]: (row[3], row[5]) for row in summary}
    assert due == {fresh.pk: (0, date(2026, 3, 2)), one.pk: (1, date(2026, 3, 17))}


@time_machine.travel("2026-03-31 12:00:00+00:00", tick=False)
def test_the_rebooking_report_from_the_summaries_equals_the_one_computed_from_the_raw_rows(
    manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day, interval in ((2, 21), (3, 7), (4, 14)):
        plan = TreatmentPlanFactory(sessions_planned=3, interval_days=interval, starts_on=date(2026, 3, day))
        signed_session(plan=plan, number=1, start=march(day + 1, 10))
    TreatmentPlanFactory(sessions_planned=2, interval_days=10, starts_on=date(2026, 3, 5))  # no session yet
    rebooked = TreatmentPlanFactory(sessions_planned=3, interval_days=21, starts_on=date(2026, 3, 2))
    signed_session(plan=rebooked, number=1, start=march(12, 10))
    AppointmentFactory(patient=rebooked.patient, start=march(12) + timedelta(days=30), created_at=march(12, 11))
    summaries.refresh_summaries()
    from_summary = build(operations.rebooking_build, manager)
    assert len(from_summary.tables[1].rows) == 4
    assert cell(from_summary.tables[0], "All aestheticians", "Next booked") == "1"
    raw = f"({summaries.PLAN_PROGRESS_SQL})"
    monkeypatch.setattr(operations, "OVERDUE_SQL", operations.OVERDUE_SQL.replace(summaries.PLAN_PROGRESS, raw))
    raw = f"({summaries.SESSION_REBOOKED_SQL}) AS raw"
    monkeypatch.setattr(operations, "REBOOKING_SQL", operations.REBOOKING_SQL.replace(summaries.SESSION_REBOOKED, raw))
    from_raw = build(operations.rebooking_build, manager)
    assert from_raw.tables == from_summary.tables
    assert from_raw.figures == from_summary.figures


@time_machine.travel("2026-03-31 12:00:00+00:00", tick=False)
def test_a_session_signed_since_the_refresh_takes_its_plan_off_the_overdue_list_at_once(manager: User) -> None:
    plan = TreatmentPlanFactory(sessions_planned=3, interval_days=21, starts_on=date(2026, 3, 2))
    summaries.refresh_summaries()
    overdue = build(operations.rebooking_build, manager).tables[1]
    assert [row[0].text for row in overdue.rows] == [plan.patient.full_name]
    signed_session(plan=plan, number=1, start=march(30, 10))  # after the refresh
    overdue = build(operations.rebooking_build, manager).tables[1]
    assert overdue.rows == ()


def test_aftercare_figures_lag_and_checkin_answers(manager: User) -> None:
    location = central()
    patient = PatientFactory()

    def message(**fields: Any) -> Any:
        return MessageFactory(patient=patient, location=location, **fields)

    for minutes in (10, 20, 60):  # sent 10, 20 and 60 minutes after due
        kind = "aftercare_right_after" if minutes == 10 else "checkin_day1"
        message(kind=kind, status="sent", due_at=march(9, 9), sent_at=march(9, 9) + timedelta(minutes=minutes))
    message(status="failed", due_at=march(9, 9))
    message(status="skipped_no_consent", due_at=march(9, 9))
    message(status="sent", due_at=march(9, 9) - timedelta(days=30), sent_at=march(9, 9))  # February: outside
    checkin_message = next(
        m for m in patient_messages(patient) if m.kind == "checkin_day1" and m.sent_at == march(9, 9, 20)
    )
    answer = CheckIn.objects.create(
        message=checkin_message, patient=patient, answer="worried", answered_at=march(10, 10)
    )
    SpecialistQueueEntry.objects.create(
        checkin=answer,
        patient=patient,
        location=location,
        resolved_at=march(10, 14),
        resolved_by=manager,
        resolution="Called",
    )
    summaries.refresh_summaries()
    report = build(operations.aftercare_build, manager)
    statuses = report.tables[0]
    assert cell(statuses, "Sent", "Messages") == "3"
    assert cell(statuses, "Failed", "Messages") == "1"
    assert cell(statuses, "Not sent: no consent to email", "Messages") == "1"
    figures = {label: c.text for label, c in report.figures}
    assert figures["Due → sent, p50 (minutes)"] == "20.0"
    # p95 of 10, 20, 60 (linear): 20 + 0.9 × (60 − 20) = 56.
    assert figures["Due → sent, p95 (minutes)"] == "56.0"
    assert figures["“Worried” → resolved, median hours"] == "4.0"
    checkins = report.tables[1]
    assert cell(checkins, "Check-ins sent", "Count") == "2"
    assert cell(checkins, "Answered", "Rate") == "50.0%"
    assert cell(checkins, "Worried", "Rate") == "100.0%"


def patient_messages(patient: Any) -> list[Any]:
    from aftercare.models import Message

    return list(Message.objects.filter(patient=patient))


@pytest.mark.parametrize("spec", operations.SPECS, ids=lambda s: s.slug)
def test_each_operations_report_runs_the_same_number_of_queries_whatever_the_data(spec: Any, manager: User) -> None:
    def count() -> int:
        chosen = filters(central())
        with CaptureQueriesContext(connection) as queries:
            spec.build(chosen, manager, Drill(spec.slug, chosen))
        return len(queries)

    manager.location_ids()  # cached per request, as a page's earlier queries would
    before = count()
    _funnel_scene()
    for day in range(2, 12):
        appointment(PatientFactory(), march(day, 14))
    assert count() == before
