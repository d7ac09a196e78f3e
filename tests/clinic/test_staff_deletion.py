"""Staff are deactivated, never deleted: the admin offers no delete, the database refuses one
for anybody with history, and deletions and role changes are audited."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.audit import acting_as
from clinic.models import AccessEvent, User, UserGroupsEvent
from clinic.roles import ROLES, Role
from clinic.services import staff_save
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _raw_delete(user: User) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_user WHERE id = %s", [user.pk])


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@clinic.test", "a-long-admin-password"))
    return client


def test_the_admin_offers_no_delete_for_staff(admin_client: Client, specialist: User) -> None:
    assert admin_client.get(reverse("admin:clinic_user_delete", args=[specialist.pk])).status_code == 403
    change_page = admin_client.get(reverse("admin:clinic_user_change", args=[specialist.pk]))
    assert change_page.status_code == 200
    assert reverse("admin:clinic_user_delete", args=[specialist.pk]) not in change_page.content.decode()
    changelist = admin_client.get(reverse("admin:clinic_user_changelist"))
    assert b"delete_selected" not in changelist.content
    assert User.objects.filter(pk=specialist.pk).exists()


def test_the_database_refuses_deleting_a_user_who_has_signed_in(specialist: User) -> None:
    User.objects.filter(pk=specialist.pk).update(last_login=timezone.now())
    with pytest.raises(IntegrityError, match="has signed in.*deactivate them"):
        _raw_delete(specialist)
    assert User.objects.filter(pk=specialist.pk).exists()


def test_the_database_refuses_deleting_a_user_with_admin_history(manager: User) -> None:
    LogEntry.objects.create(
        user=manager,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(manager.pk),
        object_repr=str(manager),
        action_flag=CHANGE,
    )
    with pytest.raises(IntegrityError, match="made changes the audit trail attributes to them"):
        _raw_delete(manager)


def test_the_database_refuses_deleting_a_user_the_audit_trail_names(front_desk: User) -> None:
    with acting_as(front_desk):
        PatientFactory()
    with pytest.raises(IntegrityError, match="made changes the audit trail attributes to them"):
        _raw_delete(front_desk)


def test_the_database_refuses_deleting_a_user_named_in_records(specialist: User) -> None:
    AccessEvent.objects.create(user=specialist, patient=PatientFactory(), page="patient_detail", path="/")
    with pytest.raises(IntegrityError, match="named in clinic_accessevent records"):
        _raw_delete(specialist)


def test_the_orm_delete_through_the_admin_path_is_refused_and_keeps_the_admin_log(manager: User) -> None:
    """Django deletes a user's admin log rows before the user; the refusal undoes both."""
    User.objects.filter(pk=manager.pk).update(last_login=timezone.now())
    LogEntry.objects.create(
        user=manager,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(manager.pk),
        object_repr=str(manager),
        action_flag=CHANGE,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.get(pk=manager.pk).delete()
    assert LogEntry.objects.filter(user_id=manager.pk).count() == 1


def test_deleting_a_mistaken_account_with_no_history_is_audited(manager: User) -> None:
    mistake = UserFactory(username="typo", role=Role.FRONT_DESK)
    mistake_pk = mistake.pk
    with acting_as(manager):
        mistake.delete()
    deleted = User.pgh_event_models["delete"].objects.get(pgh_obj_id=mistake_pk, pgh_label="delete")
    assert deleted.username == "typo"
    assert deleted.pgh_context.metadata["user"] == manager.pk
    removed = UserGroupsEvent.objects.get(user_id=mistake_pk, pgh_label="role.remove")
    assert removed.group.name == ROLES[Role.FRONT_DESK].group_name
    assert removed.pgh_context.metadata["user"] == manager.pk


def test_changing_a_role_writes_an_audit_event_naming_who_made_it(manager: User) -> None:
    staff = UserFactory(username="moving", role=Role.FRONT_DESK)
    with acting_as(manager):
        staff_save(acting_user=manager, staff=staff, role=Role.MANAGER)
    events = {
        (event.pgh_label, event.group.name): event.pgh_context.metadata["user"]
        for event in UserGroupsEvent.objects.filter(user_id=staff.pk, pgh_context__isnull=False).select_related(
            "group", "pgh_context"
        )
    }
    assert events == {
        ("role.remove", ROLES[Role.FRONT_DESK].group_name): manager.pk,
        ("role.add", ROLES[Role.MANAGER].group_name): manager.pk,
    }


def test_a_role_change_on_the_staff_page_names_the_manager(client: Client, manager: User) -> None:
    staff = UserFactory(username="promoted", role=Role.FRONT_DESK)
    client.force_login(manager)
    response = client.post(
        f"/clinic/staff/{staff.pk}/",
        {
            "first_name": staff.first_name,
            "last_name": staff.last_name,
            "username": staff.username,
            "email": staff.email,
            "is_active": "on",
            "role": Role.MANAGER.value,
        },
    )
    assert response.status_code == 302, response.content
    added = UserGroupsEvent.objects.get(
        user_id=staff.pk, pgh_label="role.add", group__name=ROLES[Role.MANAGER].group_name
    )
    assert added.pgh_context.metadata["user"] == manager.pk
    assert Group.objects.get(name=ROLES[Role.MANAGER].group_name).user_set.filter(pk=staff.pk).exists()
