from __future__ import annotations

from typing import Any

import pghistory.models
import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from clinic.audit import acting_as
from clinic.models import AccessEvent, Patient, User
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _events(obj: Patient | User) -> list[Any]:
    # By id: inside one test transaction now() is constant, so pgh_created_at ties.
    event_model = type(obj).pgh_event_models["insert"]  # type: ignore[union-attr]
    return list(event_model.objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id"))


def test_it_records_every_change_to_a_patient_with_the_acting_user(front_desk: User, client: Client) -> None:
    patient = PatientFactory(first_name="Anna")
    client.force_login(front_desk)
    with pghistory.context(user=front_desk.pk, url="/test"):
        Patient.objects.filter(pk=patient.pk).update(first_name="Anne")
    events = _events(patient)
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert events[-1].first_name == "Anne"
    assert events[-1].pgh_context.metadata["user"] == front_desk.pk


def test_it_catches_bulk_updates_that_bypass_save() -> None:
    patients = PatientFactory.create_batch(3)
    Patient.objects.all().update(front_desk_notes="Prefers mornings")
    for patient in patients:
        assert _events(patient)[-1].front_desk_notes == "Prefers mornings"


def test_it_records_deletion_of_a_patient() -> None:
    patient = PatientFactory()
    pk = patient.pk
    patient.delete()
    labels = list(
        pghistory.models.Events.objects.filter(pgh_obj_id=str(pk), pgh_obj_model="clinic.Patient").values_list(
            "pgh_label", flat=True
        )
    )
    assert "delete" in labels


@pytest.mark.parametrize("statement", ["UPDATE {table} SET first_name = 'X'", "DELETE FROM {table}"])
def test_audit_rows_cannot_be_updated_or_deleted(statement: str) -> None:
    PatientFactory()
    table = Patient.pgh_event_models["insert"]._meta.db_table  # type: ignore[attr-defined]
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=table))


def test_access_events_cannot_be_updated_or_deleted(front_desk: User) -> None:
    patient = PatientFactory()
    event = AccessEvent.objects.create(user=front_desk, patient=patient, page="test", path="/")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(page="changed")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).delete()


def test_reading_a_patient_record_writes_an_access_event(specialist: User, client: Client) -> None:
    patient = PatientFactory()
    client.force_login(specialist)
    response = client.get(f"/patients/{patient.pk}/")
    assert response.status_code == 200
    event = AccessEvent.objects.for_patient(patient.pk).get()
    assert (event.user_id, event.page, event.path) == (specialist.pk, "patient_detail", f"/patients/{patient.pk}/")


def test_a_refused_read_writes_no_access_event(outsider: User, client: Client) -> None:
    patient = PatientFactory()
    client.force_login(outsider)
    assert client.get(f"/patients/{patient.pk}/").status_code == 403
    assert not AccessEvent.objects.for_patient(patient.pk).exists()


def test_a_change_made_through_a_page_is_attributed_to_the_signed_in_user_and_page(
    manager: User, client: Client
) -> None:
    from clinic.roles import Role
    from tests.factories import UserFactory

    person = UserFactory(username="renamed", first_name="Old", role=Role.FRONT_DESK)
    client.force_login(manager)
    response = client.post(
        f"/clinic/staff/{person.pk}/",
        {
            "first_name": "New",
            "last_name": "Name",
            "username": "renamed",
            "role": Role.FRONT_DESK.value,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    event = _events(person)[-1]
    assert event.first_name == "New"
    assert event.pgh_context.metadata["user"] == manager.pk
    # The page by its URL name: a path may hold a patient's link token (README, Audit).
    assert event.pgh_context.metadata["url"] == "clinic:staff_edit"


def test_a_service_outside_any_request_records_its_acting_user(front_desk: User) -> None:
    patient = PatientFactory(first_name="Ina")
    with acting_as(front_desk, service="test"):
        Patient.objects.filter(pk=patient.pk).update(first_name="Ines")
    context = _events(patient)[-1].pgh_context
    assert context is not None
    assert context.metadata["user"] == front_desk.pk
    assert context.metadata["service"] == "test"


def test_a_system_write_is_attributed_to_the_system_not_left_anonymous() -> None:
    patient = PatientFactory(first_name="Ola")
    with acting_as(None):
        Patient.objects.filter(pk=patient.pk).update(first_name="Olga")
    context = _events(patient)[-1].pgh_context
    assert context is not None
    assert context.metadata == {"user": None, "actor": "system"}
