"""Working hours edited as a week grid for each person, validated beside the cell."""

from __future__ import annotations

from datetime import time

import pytest
from django.test import Client

from clinic.models import Location, StaffSchedule, User
from clinic.roles import Role
from tests.factories import LocationFactory, StaffScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grid(client: Client, manager: User, location: Location) -> tuple[Client, User, str]:
    client.force_login(manager)
    amira = UserFactory(username="amira", first_name="Amira", last_name="Cole", role=Role.AESTHETICIAN)
    return client, amira, f"/clinic/setup/working-hours/staff/{amira.pk}/"


def _week(**days: tuple[str, str]) -> dict[str, str]:
    data = {f"{edge}_{day}": "" for day in range(7) for edge in ("start", "end")}
    for key, (start, end) in days.items():
        day = int(key.removeprefix("d"))
        data[f"start_{day}"], data[f"end_{day}"] = start, end
    return data


def test_the_manager_sets_a_persons_week_in_one_grid(grid: tuple[Client, User, str], location: Location) -> None:
    client, amira, url = grid
    StaffScheduleFactory(staff=amira, location=location, weekday=6, start_time=time(10), end_time=time(14))
    page = client.get(url).content.decode()
    assert page.count('type="time"') == 14
    assert 'value="10:00"' in page  # Sunday's existing shift is in its row
    workdays = {f"d{day}": ("09:00", "17:00") for day in range(5)}
    response = client.post(url, _week(**workdays))
    assert response.status_code == 302
    hours = list(StaffSchedule.objects.filter(staff=amira).values_list("weekday", "start_time", "end_time"))
    assert sorted(hours) == [(day, time(9), time(17)) for day in range(5)]  # Sunday cleared


def test_a_day_that_ends_before_it_starts_is_refused_beside_its_cell(grid: tuple[Client, User, str]) -> None:
    client, amira, url = grid
    response = client.post(url, _week(d0=("09:00", "17:00"), d2=("17:00", "09:00"), d3=("09:00", "")))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["end_2"] == ["Working hours end after they start."]
    assert form.errors["end_3"] == ["Give both times, or neither for a day off."]
    assert 'id="id_end_2-error"' in response.content.decode()
    assert not StaffSchedule.objects.filter(staff=amira).exists()


def test_hours_overlapping_another_locations_are_refused_and_the_constraint_still_holds(
    grid: tuple[Client, User, str], location: Location
) -> None:
    client, amira, url = grid
    riverside = LocationFactory(name="Riverside")
    StaffScheduleFactory(staff=amira, location=riverside, weekday=1, start_time=time(8), end_time=time(12))
    response = client.post(url, _week(d1=("11:00", "15:00")))
    assert response.status_code == 400
    assert "overlap" in response.context["form"].errors["start_1"][0]
    assert "Riverside 08:00–12:00" in response.content.decode()
    assert StaffSchedule.objects.filter(staff=amira).count() == 1
    # Touching is fine (half-open ranges).
    assert client.post(url, _week(d1=("12:00", "16:00"))).status_code == 302
    assert StaffSchedule.objects.filter(staff=amira, location=location, weekday=1).count() == 1


def test_a_day_with_several_shifts_is_shown_and_kept(grid: tuple[Client, User, str], location: Location) -> None:
    client, amira, url = grid
    StaffScheduleFactory(staff=amira, location=location, weekday=4, start_time=time(8), end_time=time(12))
    StaffScheduleFactory(staff=amira, location=location, weekday=4, start_time=time(13), end_time=time(17))
    page = client.get(url).content.decode()
    assert "Several shifts" in page
    assert 'name="start_4"' not in page
    assert client.post(url, _week(d0=("09:00", "17:00"))).status_code == 302
    assert StaffSchedule.objects.filter(staff=amira, weekday=4).count() == 2


def test_the_working_hours_list_links_each_persons_week(grid: tuple[Client, User, str]) -> None:
    client, amira, url = grid
    assert f'href="{url}"' in client.get("/clinic/setup/working-hours/").content.decode()
