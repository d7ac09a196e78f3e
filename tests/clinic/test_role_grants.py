"""A clinical role needs a second person: the manager asks, a different specialist approves."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from clinic.audit import acting_as
from clinic.models import RoleGrant, RoleGrantStatus, User, UserGroups, UserLocations
from clinic.roles import ROLES, Role
from clinic.services import RoleGrantRefused, role_grant_decide, staff_save
from tests.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

UserGroupsEvent = UserGroups.pgh_event_models["role.add"]


def _new_staff_form(role: Role, username: str = "nora") -> dict[str, str]:
    return {
        "first_name": "Nora",
        "last_name": "Quinn",
        "username": username,
        "email": f"{username}@clinic.test",
        "role": role.value,
        "home_location": str(LocationFactory(name="Central").pk),
        "locations": str(LocationFactory(name="Central").pk),
        "is_active": "on",
        "password1": "a-long-and-unusual-passphrase",
        "password2": "a-long-and-unusual-passphrase",
    }


def test_a_manager_giving_a_clinical_role_only_requests_it(client: Client, manager: User) -> None:
    client.force_login(manager)
    response = client.post("/clinic/staff/new/", _new_staff_form(Role.SPECIALIST), follow=True)
    assert response.status_code == 200
    nora = User.objects.get(username="nora")
    assert nora.role_specs == []
    assert not nora.has_perm("clinic.work_consultations")
    grant = RoleGrant.objects.get(staff=nora)
    assert (grant.role, grant.status, grant.requested_by_id) == (Role.SPECIALIST, RoleGrantStatus.PENDING, manager.pk)
    assert "waits for a specialist" in response.content.decode()


def test_a_manager_cannot_read_clinical_notes_through_an_account_they_made(client: Client, manager: User) -> None:
    client.force_login(manager)
    client.post("/clinic/staff/new/", _new_staff_form(Role.SPECIALIST, username="mgr-alt"))
    # Past the first sign-in's own password, so only the role decides what the account reads.
    User.objects.filter(username="mgr-alt").update(must_change_password=False)
    alt = Client()
    alt.force_login(User.objects.get(username="mgr-alt"))
    assert alt.get("/consultations/").status_code == 403


def test_a_second_specialist_approves_and_the_role_is_given(manager: User, specialist: User) -> None:
    nora = UserFactory(username="nora")
    grant = staff_save(acting_user=manager, staff=nora, role=Role.AESTHETICIAN)
    assert grant is not None
    role_grant_decide(acting_user=specialist, grant=grant, approve=True)
    grant.refresh_from_db()
    assert (grant.status, grant.decided_by_id) == (RoleGrantStatus.APPROVED, specialist.pk)
    nora = User.objects.get(pk=nora.pk)
    assert [spec.role for spec in nora.role_specs] == [Role.AESTHETICIAN]
    added = UserGroupsEvent.objects.get(user_id=nora.pk, group__name=ROLES[Role.AESTHETICIAN].group_name)
    assert added.pgh_context.metadata["user"] == specialist.pk
    assert added.pgh_context.metadata["role_grant"] == grant.pk


def test_a_refused_grant_gives_nothing(manager: User, specialist: User) -> None:
    nora = UserFactory(username="nora")
    grant = staff_save(acting_user=manager, staff=nora, role=Role.SPECIALIST)
    assert grant is not None
    role_grant_decide(acting_user=specialist, grant=grant, approve=False)
    assert User.objects.get(pk=nora.pk).role_specs == []


def test_the_requester_cannot_approve_their_own_request(specialist: User) -> None:
    # A specialist who is also the one asking (or a manager holding both roles) is not a second person.
    nora = UserFactory(username="nora")
    grant = RoleGrant.objects.create(staff=nora, role=Role.AESTHETICIAN.value, requested_by=specialist)
    with pytest.raises(RoleGrantRefused, match="second person"):
        role_grant_decide(acting_user=specialist, grant=grant, approve=True)
    assert User.objects.get(pk=nora.pk).role_specs == []


def test_nobody_approves_their_own_clinical_role(manager: User) -> None:
    other_specialist = UserFactory(username="spec2", role=Role.SPECIALIST)
    grant = RoleGrant.objects.create(staff=other_specialist, role=Role.AESTHETICIAN.value, requested_by=manager)
    with pytest.raises(RoleGrantRefused, match="second person"):
        role_grant_decide(acting_user=other_specialist, grant=grant, approve=True)


def test_only_a_specialist_approves(manager: User, aesthetician: User) -> None:
    grant = RoleGrant.objects.create(staff=UserFactory(), role=Role.SPECIALIST.value, requested_by=manager)
    with pytest.raises(RoleGrantRefused, match="Only a specialist"):
        role_grant_decide(acting_user=aesthetician, grant=grant, approve=True)


def test_the_database_refuses_a_grant_decided_by_its_requester(manager: User) -> None:
    grant = RoleGrant.objects.create(staff=UserFactory(), role=Role.SPECIALIST.value, requested_by=manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.filter(pk=grant.pk).update(
            status=RoleGrantStatus.APPROVED, decided_by=manager, decided_at=timezone.now()
        )


def test_a_non_clinical_role_is_given_at_once(manager: User) -> None:
    nora = UserFactory(username="nora")
    assert staff_save(acting_user=manager, staff=nora, role=Role.FRONT_DESK) is None
    assert [spec.role for spec in User.objects.get(pk=nora.pk).role_specs] == [Role.FRONT_DESK]


def test_switching_someone_off_is_audited_with_who_did_it(manager: User) -> None:
    nora = UserFactory(username="nora", role=Role.FRONT_DESK)
    nora.is_active = False
    staff_save(acting_user=manager, staff=nora, role=Role.FRONT_DESK)
    event = User.pgh_event_models["update"].objects.filter(pgh_obj_id=nora.pk, is_active=False).get()
    assert event.pgh_context.metadata["user"] == manager.pk


def test_the_approval_page_lists_waiting_grants_for_a_specialist(
    client: Client, manager: User, specialist: User
) -> None:
    with acting_as(manager):
        grant = staff_save(acting_user=manager, staff=UserFactory(username="nora"), role=Role.SPECIALIST)
    assert grant is not None
    client.force_login(specialist)
    page = client.get("/clinic/role-grants/")
    assert f'data-role-grant="{grant.pk}"' in page.content.decode()
    assert client.post(f"/clinic/role-grants/{grant.pk}/", {"decision": "approve"}).status_code == 302
    grant.refresh_from_db()
    assert grant.status == RoleGrantStatus.APPROVED


def test_a_change_of_locations_is_audited_with_who_made_it(manager: User) -> None:
    nora = UserFactory(username="nora", role=Role.FRONT_DESK, locations=[])
    riverside = LocationFactory(name="Riverside")
    staff_save(acting_user=manager, staff=nora, role=Role.FRONT_DESK, locations=[riverside])
    added = UserLocations.pgh_event_models["location.add"].objects.get(user_id=nora.pk)
    assert added.location_id == riverside.pk
    assert added.pgh_context.metadata["user"] == manager.pk
