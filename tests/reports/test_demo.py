from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.models import User
from reports import demo
from reports.forms import Filters
from reports.framework import Drill
from reports.views import SPECS

pytestmark = pytest.mark.django_db


def test_the_demo_is_a_clinic_some_months_in_and_a_second_run_adds_nothing() -> None:
    first = demo.seed()
    assert first["history_patients"] == demo.PATIENTS
    assert first["history_sessions"] > 60
    assert demo.seed() == {"history_patients": 0}
    manager = User.objects.get(username="manager")
    today = timezone.localdate()
    chosen = Filters(
        first_day=today - timedelta(days=demo.DAYS),
        last_day=today,
        start=timezone.now() - timedelta(days=demo.DAYS + 1),
        end=timezone.now() + timedelta(days=1),
        location_ids=tuple(sorted(manager.location_ids())),
        zone="Europe/London",
        late_hours=24,
        by="",
    )
    outcomes = SPECS["outcomes"].build(chosen, manager, Drill("outcomes", chosen))
    everyone = outcomes.tables[0].rows[0]
    assert everyone[0].text == "All plans"
    assert int(everyone[1].text) >= 10  # enough reviewed plans for figures, not "too few to tell"
    assert everyone[2].text.endswith("%")
    rebooking = SPECS["rebooking"].build(chosen, manager, Drill("rebooking", chosen))
    assert rebooking.tables[1].rows  # patients overdue for the desk to call
    share = rebooking.tables[0].rows[-1][3].text
    assert share not in ("0.0%", "—")
