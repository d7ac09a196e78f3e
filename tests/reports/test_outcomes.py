"""Outcome reports on a hand-made scene of five reviewed plans: every figure worked out here."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pgtrigger
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aftercare.models import CheckIn
from clinic import phones
from clinic.models import AccessEvent, Appointment, Location, User
from clinic.roles import Role
from consultations.models import Consultation
from reports import outcomes, summaries
from reports.forms import Filters
from reports.framework import Drill, Table
from tests.factories import LocationFactory, MessageFactory, RoomFactory, TreatmentPlanFactory, UserFactory
from tests.reports.scene import UTC, central, filters, lot, march, review, signed_session
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db

# Baseline for every plan: forehead 10 open comedones + 10 papules (total 20), IGA 3, GAGS 10.
BASELINE = {"forehead": {"open_comedones": 10, "papules": 10}}
# At the review: (open comedones, papules, IGA, GAGS) per plan.
REVIEWS = [(2, 2, 1, 4), (5, 5, 2, 4), (8, 6, 2, 8), (10, 10, 3, 10), (0, 0, 0, 0)]
# Change of the total: -80%, -50%, -30%, 0%, -100% → median -50%; responders (≥50% fewer):
# plans 1, 2 and 5 = 3 of 5 = 60%. Open comedones: -80, -50, -20, 0, -100 → median -50;
# papules: -80, -50, -40, 0, -100 → median -50. No closed comedones at baseline: n = 0.


@pytest.fixture
def scene() -> dict[str, Any]:
    specialist = UserFactory(username="spec-scene", role=Role.SPECIALIST)
    worker = UserFactory(username="aes-scene", role=Role.AESTHETICIAN, first_name="Ada", last_name="Nurse")
    sessions = []
    for index, (open_comedones, papules, iga, gags) in enumerate(REVIEWS):
        plan = TreatmentPlanFactory(
            sessions_planned=1,
            consultation__lesion_counts=BASELINE,
            consultation__iga=3,
            consultation__gags_score=10,
            consultation__specialist=specialist,
        )
        sessions.append(
            signed_session(
                plan=plan,
                number=1,
                start=march(2 + index),
                aesthetician=worker,
                method="lancet" if index == 4 else "manual_gauze",
                product_lot=lot("BP-9" if index < 2 else "BP-1"),
                complications=["swelling"] if index == 0 else [],
            )
        )
        review(
            plan,
            decided_at=march(20 + index),
            present={"forehead": {"open_comedones": open_comedones, "papules": papules}},
            iga=iga,
            gags=gags,
        )
    # Check-ins: plan 2's session had a "worried" answer, plan 3's a "still red" one.
    for session, answer in ((sessions[1], "worried"), (sessions[2], "red_or_sensitive")):
        message = MessageFactory(
            patient=session.patient,
            kind="checkin_day1",
            status="sent",
            sent_at=march(10),
            source=f"treatment_session:{session.pk}",
        )
        CheckIn.objects.create(message=message, patient=session.patient, answer=answer)
    summaries.refresh_summaries()  # the outcome report reads the plan-outcome summary
    return {"sessions": sessions, "worker": worker}


def _row(table: Table, label: str) -> dict[str, Any]:
    for row in table.rows:
        if row[0].text == label:
            return dict(zip(table.headers, row, strict=True))
    raise AssertionError(f"no row {label!r}")


def _build(build: Any, user: User, by: str) -> Any:
    chosen = filters(central(), by=by)
    return build(chosen, user, Drill("outcomes", chosen))


def test_median_change_by_lesion_type_and_responder_rate(scene: dict[str, Any], manager: User) -> None:
    table = _build(outcomes.outcomes_build, manager, "method").tables[0]
    everyone = _row(table, "All plans")
    assert everyone["Plans"].text == "5"
    assert everyone["Responders (≥50% fewer)"].text == "60%"
    assert everyone["Responders (≥50% fewer)"].n == 5
    assert everyone["Median change, all counted"].text == "-50%"
    assert everyone["Open comedones (blackheads)"].text == "-50%"
    assert everyone["Papules"].text == "-50%"
    assert everyone["Closed comedones (whiteheads)"].text == "too few to tell"
    assert everyone["Closed comedones (whiteheads)"].n == 0


def test_groups_below_the_minimum_n_say_too_few_to_tell(scene: dict[str, Any], manager: User) -> None:
    table = _build(outcomes.outcomes_build, manager, "method").tables[0]
    gauze = _row(table, "Manual, fingers wrapped in gauze")
    assert gauze["Plans"].text == "4"
    assert gauze["Responders (≥50% fewer)"].text == "too few to tell"
    assert gauze["Responders (≥50% fewer)"].n == 4


def test_breakdown_by_aesthetician_and_by_number_of_sessions(scene: dict[str, Any], manager: User) -> None:
    by_worker = _build(outcomes.outcomes_build, manager, "aesthetician").tables[0]
    assert _row(by_worker, "Ada Nurse")["Responders (≥50% fewer)"].text == "60%"
    by_sessions = _build(outcomes.outcomes_build, manager, "sessions").tables[0]
    assert _row(by_sessions, "1")["Plans"].text == "5"
    by_fitzpatrick = _build(outcomes.outcomes_build, manager, "fitzpatrick").tables[0]
    assert _row(by_fitzpatrick, "I–II")["Plans"].text == "5"  # the factory's phototype is II
    by_product = _build(outcomes.outcomes_build, manager, "product").tables[0]
    assert _row(by_product, "Benzoyl peroxide 2.5% gel")["Plans"].text == "5"


def test_iga_and_gags_shift_tables(scene: dict[str, Any], manager: User) -> None:
    report = _build(outcomes.outcomes_build, manager, "method")
    iga = next(t for t in report.tables if t.key == "iga")
    row = _row(iga, "3")
    # From IGA 3: one to 0, one to 1, two to 2, one stayed at 3.
    assert [row[str(n)].text for n in range(5)] == ["1", "1", "2", "1", "0"]
    gags = next(t for t in report.tables if t.key == "gags")
    mild = _row(gags, "1 mild")
    # GAGS 10 (mild) to 4, 4, 8, 10 (mild) and 0 (clear).
    assert mild["0 clear"].text == "1"
    assert mild["1 mild"].text == "4"


def test_outcome_drill_down_names_patients_only_for_clinical_roles(
    scene: dict[str, Any], manager: User, specialist: User
) -> None:
    chosen = filters(central(), by="method")
    for_manager = outcomes.outcome_records(chosen, {"group": "lancet"}, manager)
    assert len(for_manager.rows) == 1
    assert "Patient" not in for_manager.headers
    for_specialist = outcomes.outcome_records(chosen, {"group": "lancet"}, specialist)
    assert for_specialist.rows[0][-1].text == scene["sessions"][4].patient.full_name
    assert for_specialist.rows[0][4].text == "-100%"


def test_adverse_signals_per_100_sessions(scene: dict[str, Any], manager: User) -> None:
    table = _build(outcomes.adverse_build, manager, "method").tables[0]
    row = table.rows[0]
    assert row[0].text == "All sessions"
    assert row[1].text == "5"
    # 1 complication, 1 worried, 1 still red in 5 sessions: 20 per 100 each.
    assert [row[i].text for i in (2, 4, 6)] == ["20.0", "20.0", "20.0"]
    by_lot = _build(outcomes.adverse_build, manager, "lot").tables[0]
    lot_row = _row(by_lot, "Benzoyl peroxide 2.5% gel · BP-9")
    assert lot_row["Sessions"].text == "2"
    assert lot_row["Sessions"].text == "2"
    records = outcomes.adverse_records(filters(central(), by="method"), {"signal": "worried"}, manager)
    assert len(records.rows) == 1


def test_lot_recall_lists_every_session_with_contact_and_is_audited(
    scene: dict[str, Any], specialist: User, client: Client
) -> None:
    chosen_lot = lot("BP-9")
    client.force_login(specialist)
    response = client.get("/reports/recall/", {"lot": chosen_lot.pk})
    assert response.status_code == 200
    body = response.content.decode()
    patients = [s.patient for s in scene["sessions"][:2]]
    for patient in patients:
        assert patient.full_name in body
        # On screen in the national form, as everywhere in the app; never the stored E.164.
        assert phones.display(patient.phone) in body
        assert patient.phone not in body
    events = AccessEvent.objects.filter(user=specialist, page=f"lot_recall:{chosen_lot.pk}", listed=True)
    assert sorted(events.values_list("patient_id", flat=True)) == sorted(p.pk for p in patients)
    export = client.get("/reports/recall/", {"lot": chosen_lot.pk, "export": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    exported = export.content.decode()
    assert patients[0].email in exported
    # The CSV keeps E.164 (what a dialer or an SMS gateway imports), without the formula guard's apostrophe.
    assert f",{patients[0].phone}," in exported


def test_outcome_reports_run_the_same_number_of_queries_whatever_the_data(manager: User) -> None:
    def count(spec: Any) -> int:
        chosen = filters(central(), by="method")
        with CaptureQueriesContext(connection) as queries:
            spec.build(chosen, manager, Drill(spec.slug, chosen))
        return len(queries)

    before = [count(spec) for spec in outcomes.SPECS]
    for index in range(3):
        plan = TreatmentPlanFactory(sessions_planned=1, consultation__lesion_counts=BASELINE)
        signed_session(plan=plan, number=1, start=march(2 + index))
        review(plan, decided_at=march(20 + index), present=BASELINE, iga=2)
    summaries.refresh_summaries()
    assert [count(spec) for spec in outcomes.SPECS] == before


def _texts(report: Any) -> list[list[list[str]]]:
    return [[[c.text for c in row] for row in table.rows] for table in report.tables]


@pytest.mark.parametrize("by", [key for key, _label in outcomes.BREAKDOWNS])
def test_every_outcome_figure_from_the_summary_equals_the_one_computed_from_the_raw_rows(
    scene: dict[str, Any], manager: User, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    from_summary = _build(outcomes.outcomes_build, manager, by)
    assert from_summary.tables[0].rows[0][1].text != "0"  # the scene's plans are in the summary
    # The same report with the summary replaced by its query, run on the raw rows now.
    raw = f"({outcomes.PLAN_OUTCOME_SQL}) AS raw"
    monkeypatch.setattr(outcomes, "OUTCOME_CTE", outcomes.OUTCOME_CTE.replace(summaries.PLAN_OUTCOME, raw))
    monkeypatch.setattr(outcomes, "SHIFT_SQL", outcomes.SHIFT_SQL.replace(summaries.PLAN_OUTCOME, raw))
    assert _texts(_build(outcomes.outcomes_build, manager, by)) == _texts(from_summary)


def test_the_plan_outcome_summary_waits_for_its_refresh(scene: dict[str, Any], manager: User) -> None:
    before = _build(outcomes.outcomes_build, manager, "method").tables[0].rows[0][1].text
    plan = TreatmentPlanFactory(sessions_planned=1, consultation__lesion_counts=BASELINE)
    signed_session(plan=plan, number=1, start=march(25, 16))  # a time the scene leaves free
    review(plan, decided_at=march(28), present=BASELINE, iga=2)
    assert _build(outcomes.outcomes_build, manager, "method").tables[0].rows[0][1].text == before
    summaries.refresh_summaries()
    assert _build(outcomes.outcomes_build, manager, "method").tables[0].rows[0][1].text == str(int(before) + 1)


def _signals_scene() -> tuple[Location, Location]:
    """Sessions with every signal, none, two of one group on one day, no lot, and two locations'
    local days (New York's 31 March ends at 04:00 UTC on 1 April)."""
    ada = UserFactory(username="aes-ada", role=Role.AESTHETICIAN, first_name="Ada", last_name="Nurse")
    bea = UserFactory(username="aes-bea", role=Role.AESTHETICIAN, first_name="Bea", last_name="Smith")
    new_york = LocationFactory(name="Uptown", time_zone="America/New_York")
    uptown_room = RoomFactory(location=new_york, name="Room 1")
    # The database refuses a signed session without a lot (session_signed_is_complete); the
    # summary does not rely on it: a session with none is a group of its own. Dropped inside
    # this test's transaction only.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE treatments_treatmentsession DROP CONSTRAINT session_signed_is_complete")
    scene = (
        # (start, aesthetician, method, lot, complication, check-in answers, in New York)
        (march(2, 9), ada, "manual_gauze", "BP-1", True, (), False),
        (march(2, 14), ada, "manual_gauze", "BP-1", False, (), False),  # the same group, the same day
        (march(3), bea, "lancet", "BP-9", False, ("worried",), False),
        (march(4), ada, "lancet", "BP-9", True, ("worried", "red_or_sensitive"), False),
        (march(5), bea, "manual_gauze", None, False, ("red_or_sensitive",), False),
        (march(6), bea, "comedone_extractor", "BP-1", False, ("fine",), False),
        (march(7), ada, "manual_gauze", None, False, (), False),
        # 00:30 on 1 April in London (BST): not in March.
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), ada, "lancet", "BP-1", True, (), False),
        # 22:00 on 31 March in New York: in March there, though 1 April in London.
        (datetime(2026, 4, 1, 2, tzinfo=UTC), bea, "lancet", "BP-9", False, ("worried",), True),
        # 23:00 on 28 February in New York: not in March there, though 1 March in London.
        (datetime(2026, 3, 1, 4, tzinfo=UTC), ada, "manual_gauze", "BP-1", True, (), True),
    )
    for index, (start, worker, method, lot_number, complication, answers, uptown) in enumerate(scene):
        session = signed_session(
            plan=TreatmentPlanFactory(sessions_planned=3),
            number=1,
            start=start,
            aesthetician=worker,
            method=method,
            complications=["swelling"] if complication else [],
        )
        with pgtrigger.ignore("treatments.TreatmentSession:final_is_locked"):  # a signed session is final
            TreatmentSession.objects.filter(pk=session.pk).update(product_lot=lot(lot_number) if lot_number else None)
        if uptown:
            Appointment.objects.filter(pk=session.appointment_id).update(location=new_york, room=uptown_room)
        for number, answer in enumerate(answers):
            message = MessageFactory(
                patient=session.patient,
                kind="checkin_day1",
                status="sent",
                sent_at=start + timedelta(days=1),
                source=f"treatment_session:{session.pk}",
                idempotency_key=f"signals-{index}-{number}",
            )
            CheckIn.objects.create(message=message, patient=session.patient, answer=answer)
    summaries.refresh_summaries()
    summaries.refresh_summaries()  # concurrently, over the rows already there: the same figures
    return central(), new_york


def _both(locations: tuple[Location, Location], by: str) -> Filters:
    return replace(filters(locations[0], by=by), location_ids=tuple(x.pk for x in locations))


@pytest.mark.parametrize("by", [key for key, _label in outcomes.ADVERSE_BREAKDOWNS])
def test_every_adverse_figure_from_the_summary_equals_the_one_computed_from_the_raw_rows(
    manager: User, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    chosen = _both(_signals_scene(), by)
    from_summary = outcomes.adverse_build(chosen, manager, Drill("adverse", chosen))
    assert from_summary.tables[0].rows[0][1].text == "8"  # the scene's sessions in March, both zones
    raw = f"({summaries.SESSION_SIGNALS_DAY_SQL})"
    monkeypatch.setattr(outcomes, "ADVERSE_SQL", outcomes.ADVERSE_SQL.replace(summaries.SESSION_SIGNALS_DAY, raw))
    assert outcomes.adverse_build(chosen, manager, Drill("adverse", chosen)).tables == from_summary.tables


@pytest.mark.parametrize("by", [key for key, _label in outcomes.ADVERSE_BREAKDOWNS])
def test_the_adverse_drill_down_lists_the_sessions_each_figure_counts(manager: User, by: str) -> None:
    chosen = _both(_signals_scene(), by)
    table = outcomes.adverse_build(chosen, manager, Drill("adverse", chosen)).tables[0]
    for row in table.rows:
        link = parse_qs(urlsplit(row[1].href).query, keep_blank_values=True)
        extra = {"group": link["group"][0]} if "group" in link else {}
        assert str(len(outcomes.adverse_records(chosen, extra, manager).rows)) == row[1].text
        for (signal, _label), cell in zip(outcomes.SIGNALS, row[3::2], strict=True):
            listed = outcomes.adverse_records(chosen, {"signal": signal, **extra}, manager)
            assert str(len(listed.rows)) == cell.text, (row[0].text, signal)


def test_adverse_signals_by_each_locations_local_day(manager: User) -> None:
    chosen = _both(_signals_scene(), "method")
    table = outcomes.adverse_build(chosen, manager, Drill("adverse", chosen)).tables[0]

    # In March: London's 2 (twice), 3, 4, 5, 6 and 7 March, and New York's 31 March: 8 sessions.
    # Complications: 2 and 4 March; worried: 3 and 4 March and New York's 31 March; still red:
    # 4 and 5 March. Neither 1 April in London nor 28 February in New York counts.
    def counts(label: str) -> list[str]:  # sessions, complications, worried, still red
        row = next(r for r in table.rows if r[0].text == label)
        return [row[i].text for i in (1, 3, 5, 7)]

    assert counts("All sessions") == ["8", "2", "3", "2"]
    assert counts("Lancet") == ["3", "1", "3", "1"]  # 3 March, 4 March and New York's 31 March
    assert counts("Manual, fingers wrapped in gauze") == ["4", "1", "0", "1"]  # 2 March twice, 5 and 7 March
    assert counts("Comedone extractor") == ["1", "0", "0", "0"]  # a "fine" answer only
    by_lot = outcomes.adverse_build(replace(chosen, by="lot"), manager, Drill("adverse", chosen)).tables[0]
    assert _row(by_lot, "not recorded")["Sessions"].text == "2"  # 5 and 7 March
    by_worker = outcomes.adverse_build(replace(chosen, by="aesthetician"), manager, Drill("adverse", chosen)).tables[0]
    assert _row(by_worker, "Ada Nurse")["Sessions"].text == "4"  # 2 March twice, 4 and 7 March
    assert _row(by_worker, "Bea Smith")["Sessions"].text == "4"  # 3, 5, 6 March and New York's 31 March


def test_phototype_groups_are_listed_i_ii_then_iii_iv_then_v_vi(scene: dict[str, Any], manager: User) -> None:
    # Five plans: phototypes II, III, V, VI and none recorded. As text "III–IV" sorts before "I–II".
    plans = [session.plan for session in scene["sessions"]]
    # (A signed consultation is final: the scene's phototypes are set past that rule.)
    with pgtrigger.ignore("consultations.Consultation:signed_is_final"):
        for plan, phototype in zip(plans, (2, 3, 5, 6, None), strict=True):
            Consultation.objects.filter(pk=plan.consultation_id).update(fitzpatrick=phototype)
    summaries.refresh_summaries()
    report = _build(outcomes.outcomes_build, manager, "fitzpatrick")
    assert [row[0].text for row in report.tables[0].rows] == ["All plans", "I–II", "III–IV", "V–VI", "not recorded"]
