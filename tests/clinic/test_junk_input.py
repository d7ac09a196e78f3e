"""Junk posted to every form: never a server error, and nothing written when the form is refused.

Every URL in the permission matrix (tests/<app>/matrix.py) is a target, requested as a
persona allowed to use it, plus the patients' signed-link pages with valid tokens. The
field names come from the page's own POST forms (or the matrix row's data for POST-only
URLs); hypothesis fills them with generated junk: control characters, 100,000-character
text, the years 0001 and 9999, numbers past bigint, lists where one value is expected, and
missing fields. Each example runs in a savepoint that is rolled back, so each starts from
the same world.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftercare.links import booking_path, checkin_path
from aftercare.models import AppointmentReplyAnswer, CheckIn, CheckInAnswer
from tests.clinic import test_permissions
from tests.clinic.test_permissions import MATRIX
from tests.factories import MessageFactory
from tests.matrix import FORBIDDEN, LOGIN, PERSONAS

# Bounded so the whole file runs in about two minutes on two idle cores.
JUNK_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    database=None,
    # The same examples every run: a red suite means a change broke a form, not a new draw.
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Rows written as a side effect of looking at a page, whatever the form's fate: the record
# access log (who opened whose record) and the dispatcher's heartbeat.
NOT_FORM_STATE = ("clinic_accessevent", "clinic_heartbeat")
APP_PREFIXES = ("clinic_", "consultations_", "treatments_", "aftercare_", "photos_", "pghistory_")

# The permission matrix's fixture: the records its URLs point at.
world = test_permissions.world

HUGE = "x" * 100_000
EDGE_VALUES = [
    "",
    " ",
    "\x00",
    "\r\nBcc: someone@example.com",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31 23:59",
    "2026-02-30",
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "99999999999999999999999",
    "-9223372036854775809",
    "9223372036854775807",
    "abc",
    "patients",
    "on",
    "true",
    "25:61",
    "{}",
    "[]",
    '{"a": [1, 2, {"b": null}]}',
    "<script>alert(1)</script>",
    "'; DROP TABLE clinic_patient; --",
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "javascript:alert(1)",
    HUGE,
    "\n" * 5000,
]

junk_text = st.text(st.characters(codec="utf-8"), max_size=60)
junk_number = st.integers(min_value=-(2**70), max_value=2**70).map(str)
junk_scalar = st.one_of(st.sampled_from(EDGE_VALUES), junk_text, junk_number)
junk_value = st.one_of(junk_scalar, st.lists(junk_scalar, min_size=2, max_size=3))

FIELD_NAME = re.compile(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", re.IGNORECASE)
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.IGNORECASE | re.DOTALL)
NOT_POSTED = {"csrfmiddlewaretoken"}


def _form_fields(html: str) -> list[str]:
    names: list[str] = []
    for form in POST_FORM.findall(html):
        names.extend(name for name in FIELD_NAME.findall(form) if name not in NOT_POSTED and name not in names)
    return names


@functools.cache
def _state_query() -> str:
    tables = [
        table
        for table in connection.introspection.table_names()
        if table.startswith(APP_PREFIXES) and not table.startswith(NOT_FORM_STATE)
    ]
    # Table names come from the database's own catalogue, not from input.
    row = "SELECT '{0}', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{0}\" t"
    return " UNION ALL ".join(row.format(table) for table in tables)


def _state() -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every row, per app table (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_state_query())
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


# How the app's templates show a refused form: crispy's invalid fields and error lists.
ERROR_MARKS = ("is-invalid", "errorlist", "invalid-feedback", "alert-danger")


def _refused(response: HttpResponse) -> bool:
    """The form was turned down: an error status, a page showing errors, or a redirect saying one."""
    if response.status_code >= 400:
        return True
    if response.status_code == 302:
        return any(m.level >= message_levels.ERROR for m in get_messages(response.wsgi_request))
    content = response.content.decode(errors="replace")
    return any(mark in content for mark in ERROR_MARKS)


def _post_junk(client: Client, path: str, data: dict[str, Any]) -> None:
    # Only this request's messages say whether it was refused: drop any left from the last.
    client.cookies.pop("messages", None)
    before = _state()
    response = client.post(path, data)
    assert response.status_code < 500, f"{path} gave {response.status_code} for {data!r:.300}"
    if _refused(response):
        after = _state()
        changed = {table for table in before if before[table] != after.get(table)}
        assert changed == set(), f"{path} refused ({response.status_code}) yet wrote to {sorted(changed)}"


def _fuzz(client: Client, path: str, fields: list[str]) -> None:
    # "next" rides along everywhere: any view that reads it must survive it.
    names = sorted({*fields, "next"})

    @JUNK_SETTINGS
    @given(data=st.dictionaries(st.sampled_from(names), junk_value, max_size=len(names)))
    def post(data: dict[str, Any]) -> None:
        with transaction.atomic():
            _post_junk(client, path, data)
            transaction.set_rollback(True)

    post()


def _allowed(name: str) -> list[str]:
    expect = MATRIX[name].expect
    allowed = [persona for persona in PERSONAS if expect[persona] not in (FORBIDDEN, LOGIN)]
    return [persona for persona in allowed if persona != "anonymous" or allowed == ["anonymous"]] or ["anonymous"]


# A POST-only URL, by every persona allowed to use it; a page, by the first such persona (the
# permission matrix already shows the others get the same page).
CASES = [
    (name, persona)
    for name in sorted(MATRIX)
    for persona in (_allowed(name) if MATRIX[name].method == "post" else _allowed(name)[:1])
]


def _client(request: pytest.FixtureRequest, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), CASES)
def test_junk_posted_to_each_form_gives_no_server_error_and_writes_nothing_when_refused(
    name: str, persona: str, request: pytest.FixtureRequest
) -> None:
    world = request.getfixturevalue("world")
    row = MATRIX[name]
    client = _client(request, persona)
    path = row.path(world)
    fields = list(row.data(world))
    if row.method == "get":
        page = client.get(path)
        assert page.status_code < 500
        if not page.streaming:  # a file (a photo) has no form to read
            fields += _form_fields(page.content.decode())
    _fuzz(client, path, fields)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(n for n, row in MATRIX.items() if row.method == "get"))
def test_junk_in_the_query_string_of_each_page_gives_no_server_error(name: str, request: pytest.FixtureRequest) -> None:
    world = request.getfixturevalue("world")
    row = MATRIX[name]
    client = _client(request, _allowed(name)[0])
    path = row.path(world)
    keys = ["date", "day", "cols", "by", "appointment_type", "practitioner", "location", "q", "page", "next"]

    @settings(JUNK_SETTINGS, max_examples=8)
    @given(query=st.dictionaries(st.sampled_from(keys), junk_scalar.filter(lambda v: len(v) < 5000), max_size=4))
    def get(query: dict[str, str]) -> None:
        with transaction.atomic():
            response = client.get(path, query)
            assert response.status_code < 500, f"{path} gave {response.status_code} for {query!r:.300}"
            transaction.set_rollback(True)

    get()


PatientLink = Callable[[dict[str, Any]], str]


def _checkin_link(world: dict[str, Any]) -> str:
    message = MessageFactory(patient=world["patient"], kind="checkin_day1")
    CheckIn.objects.create(message=message, patient=world["patient"], answer=CheckInAnswer.WORRIED)
    return checkin_path(message.token, CheckInAnswer.WORRIED)


def _booking_link(world: dict[str, Any]) -> str:
    message = MessageFactory(patient=world["patient"], kind="booking_reminder")
    return booking_path(message.token, AppointmentReplyAnswer.CONFIRM)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "link",
    [
        pytest.param(lambda w: f"/consultations/questionnaire/{w['questionnaire_token']}/", id="questionnaire"),
        pytest.param(_checkin_link, id="checkin"),
        pytest.param(_booking_link, id="appointment_reply"),
    ],
)
def test_junk_posted_through_a_patients_valid_link_gives_no_server_error(
    link: PatientLink, request: pytest.FixtureRequest
) -> None:
    world = request.getfixturevalue("world")
    client = Client()
    path = link(world)
    page = client.get(path)
    assert page.status_code < 500
    _fuzz(client, path, _form_fields(page.content.decode()))
