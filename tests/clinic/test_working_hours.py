"""Working hours: one person works one shift at a time, refused by the database as well as the form."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from clinic.models import Location, StaffSchedule, User
from clinic.roles import Role
from tests.factories import LocationFactory, StaffScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db

MONDAY = 0


@pytest.fixture
def person() -> User:
    return UserFactory(username="amira", role=Role.AESTHETICIAN)


@pytest.fixture
def central() -> Location:
    return LocationFactory(name="Central")


def shift(person: User, location: Location, start: int, end: int, weekday: int = MONDAY) -> StaffSchedule:
    return StaffSchedule.objects.create(
        staff=person, location=location, weekday=weekday, start_time=time(start), end_time=time(end)
    )


def test_the_database_refuses_an_overlapping_shift_for_the_same_person(person: User, central: Location) -> None:
    shift(person, central, 9, 13)
    with pytest.raises(IntegrityError, match="staff_schedule_no_overlap"), transaction.atomic():
        shift(person, central, 12, 17)
    assert StaffSchedule.objects.count() == 1


def test_the_database_refuses_an_overlapping_shift_at_another_location(person: User, central: Location) -> None:
    shift(person, central, 9, 13)
    with pytest.raises(IntegrityError, match="staff_schedule_no_overlap"), transaction.atomic():
        shift(person, LocationFactory(name="North"), 10, 11)


def test_touching_shifts_are_allowed(person: User, central: Location) -> None:
    shift(person, central, 9, 12)
    shift(person, LocationFactory(name="North"), 12, 17)
    assert StaffSchedule.objects.filter(staff=person).count() == 2


def test_other_people_and_other_days_may_overlap(person: User, central: Location) -> None:
    shift(person, central, 9, 17)
    shift(UserFactory(username="noor", role=Role.AESTHETICIAN), central, 9, 17)
    shift(person, central, 9, 17, weekday=MONDAY + 1)
    assert StaffSchedule.objects.count() == 3


def test_the_form_shows_an_overlap_beside_the_start_time(
    client: Client, manager: User, person: User, central: Location
) -> None:
    shift(person, central, 9, 13)
    client.force_login(manager)
    data = {"staff": person.pk, "location": central.pk, "weekday": MONDAY, "start_time": "12:00", "end_time": "17:00"}
    response = client.post("/clinic/setup/working-hours/new/", data)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "start_time": ["These hours overlap hours this person already works that day."]
    }
    assert StaffSchedule.objects.count() == 1


def test_a_clash_saved_by_someone_else_after_the_check_is_shown_beside_the_field_not_a_500(
    client: Client, manager: User, person: User, central: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clinic.views

    real_save = clinic.views.setup_record_save

    def another_manager_saves_first(**kwargs: Any) -> object:
        # Between this form's check and its INSERT, a concurrent request stores a clashing shift.
        StaffScheduleFactory(staff=person, location=central, weekday=MONDAY, start_time=time(8), end_time=time(10))
        return real_save(**kwargs)

    monkeypatch.setattr(clinic.views, "setup_record_save", another_manager_saves_first)
    client.force_login(manager)
    data = {"staff": person.pk, "location": central.pk, "weekday": MONDAY, "start_time": "09:00", "end_time": "13:00"}
    response = client.post("/clinic/setup/working-hours/new/", data)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "start_time": ["These hours overlap hours this person already works that day."]
    }
    assert list(StaffSchedule.objects.values_list("start_time", flat=True)) == [time(8)]


def test_moving_a_shift_onto_another_is_refused_beside_the_field(
    client: Client, manager: User, person: User, central: Location
) -> None:
    shift(person, central, 9, 12)
    later = shift(person, central, 13, 17)
    client.force_login(manager)
    data = {"staff": person.pk, "location": central.pk, "weekday": MONDAY, "start_time": "11:00", "end_time": "17:00"}
    response = client.post(f"/clinic/setup/working-hours/{later.pk}/", data)
    assert response.status_code == 400
    assert "start_time" in response.context["form"].errors
    later.refresh_from_db()
    assert later.start_time == time(13)
