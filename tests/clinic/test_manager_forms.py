"""The manager's forms speak to a manager: no Django default help, a time zone picked from a list."""

from __future__ import annotations

import zoneinfo

import pytest
from django.test import Client

from clinic.models import Location, User
from clinic.setup_forms import time_zone_choices

pytestmark = pytest.mark.django_db

DJANGO_DEFAULT_HELP = (
    "Designates whether this user should be treated as active",
    "Required. 150 characters or fewer",
    "Enter the same password as before, for verification",
    "Your password can",
)


@pytest.mark.parametrize("path", ["/clinic/staff/new/", "staff-edit"])
def test_the_staff_form_shows_none_of_djangos_default_help_texts(manager: User, client: Client, path: str) -> None:
    client.force_login(manager)
    body = client.get(f"/clinic/staff/{manager.pk}/" if path == "staff-edit" else path).content.decode()
    assert "Untick when someone leaves" in body
    for default in DJANGO_DEFAULT_HELP:
        assert default not in body


def test_the_time_zone_choices_are_every_city_zone_grouped_by_region_and_sorted() -> None:
    groups = dict(time_zone_choices())
    assert "Europe" in groups
    assert "America" in groups
    assert ("Europe/London", "London") in groups["Europe"]
    assert ("America/New_York", "New York") in groups["America"]
    names = [name for zones in groups.values() for name, _label in zones]
    assert names == sorted(names)
    assert set(names) <= zoneinfo.available_timezones()
    assert "US/Eastern" not in names


def test_the_location_form_offers_a_select_of_zones_and_refuses_one_not_listed(
    manager: User, client: Client, location: Location
) -> None:
    client.force_login(manager)
    page = client.get(f"/clinic/setup/locations/{location.pk}/").content.decode()
    assert '<select name="time_zone"' in page
    assert '<optgroup label="Europe">' in page
    posted = {"name": location.name, "address": "1 High St", "phone": "020 7946 0000", "is_active": "on"}
    refused = client.post(f"/clinic/setup/locations/{location.pk}/", {**posted, "time_zone": "Mars/Olympus_Mons"})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    location.refresh_from_db()
    assert location.time_zone != "Mars/Olympus_Mons"
    saved = client.post(f"/clinic/setup/locations/{location.pk}/", {**posted, "time_zone": "Europe/Paris"})
    assert saved.status_code == 302
    location.refresh_from_db()
    assert location.time_zone == "Europe/Paris"
