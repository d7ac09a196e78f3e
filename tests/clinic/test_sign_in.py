"""Sign-in to a clinical standard (HIPAA 164.312(d)): lockout, second factor, recovery codes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts import services
from clinic.models import SecurityEvent, SecurityEventKind, User
from clinic.roles import Role
from tests.factories import TEST_PASSWORD, UserFactory, authenticator_for, next_totp_code

pytestmark = pytest.mark.django_db


def _password(client: Client, username: str, password: str = TEST_PASSWORD, **extra: str) -> object:
    return client.post("/sign-in/", {"username": username, "password": password}, **extra)  # type: ignore[arg-type]


def test_the_lockout_threshold_is_five_wrong_passwords() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5


def test_it_locks_an_account_after_five_wrong_passwords(front_desk: User) -> None:
    client = Client()
    for _ in range(5):
        _password(client, front_desk.username, "wrong-password")
    response = _password(client, front_desk.username)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert "locked after too many wrong passwords" in response.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.LOCKED_OUT, user=front_desk).exists()


def test_four_wrong_passwords_do_not_lock_the_account(front_desk: User) -> None:
    client = Client()
    for _ in range(4):
        _password(client, front_desk.username, "wrong-password")
    response = _password(client, front_desk.username)
    assert response.status_code == 302  # type: ignore[attr-defined]


def test_it_locks_out_a_client_address_trying_many_accounts(db: None) -> None:
    names = [UserFactory(username=f"victim{n}").username for n in range(5)]
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for name in names:
        _password(attacker, name, "wrong-password")
    newcomer = UserFactory(username="untouched")
    assert _password(attacker, newcomer.username).status_code == 429  # type: ignore[attr-defined]
    # Another address is not affected: the lock is on that client, not on this account.
    assert _password(Client(REMOTE_ADDR="198.51.100.2"), newcomer.username).status_code == 302  # type: ignore[attr-defined]


def test_the_admin_sign_in_is_the_same_throttled_sign_in(front_desk: User) -> None:
    client = Client()
    response = client.get(f"/{settings.ADMIN_URL}login/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")


def test_the_manager_unlocks_a_locked_account_and_it_is_recorded(front_desk: User, manager: User) -> None:
    for _ in range(5):
        _password(Client(), front_desk.username, "wrong-password")
    mgr = Client()
    mgr.force_login(manager)
    page = mgr.get(f"/clinic/staff/{front_desk.pk}/security/")
    assert "Locked after too many wrong passwords" in page.content.decode()
    mgr.post(f"/clinic/staff/{front_desk.pk}/security/", {"action": "unlock"})
    assert _password(Client(), front_desk.username).status_code == 302  # type: ignore[attr-defined]
    event = SecurityEvent.objects.get(kind=SecurityEventKind.ACCOUNT_UNLOCKED)
    assert (event.user_id, event.actor_id) == (front_desk.pk, manager.pk)


def test_only_the_manager_can_unlock_accounts(front_desk: User, specialist: User) -> None:
    client = Client()
    client.force_login(specialist)
    response = client.post(f"/clinic/staff/{front_desk.pk}/security/", {"action": "unlock"})
    assert response.status_code == 403
    assert not SecurityEvent.objects.filter(kind=SecurityEventKind.ACCOUNT_UNLOCKED).exists()


def test_a_password_alone_opens_no_page(specialist: User) -> None:
    authenticator_for(specialist)
    client = Client()
    _password(client, specialist.username)
    response = client.get("/consultations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/verify/")


def test_the_authenticator_code_completes_the_sign_in(specialist: User) -> None:
    device = authenticator_for(specialist)
    client = Client()
    _password(client, specialist.username)
    response = client.post("/sign-in/verify/", {"token": next_totp_code(device), "next": "/consultations/"})
    assert response["Location"] == "/consultations/"
    assert client.get("/consultations/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SECOND_FACTOR_PASSED, user=specialist).exists()


def test_a_wrong_code_is_refused_and_recorded(specialist: User) -> None:
    authenticator_for(specialist)
    client = Client()
    _password(client, specialist.username)
    response = client.post("/sign-in/verify/", {"token": "000000"})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get("/consultations/").status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SECOND_FACTOR_FAILED, user=specialist).exists()


def test_someone_without_a_second_factor_must_set_one_up_after_the_password(front_desk: User) -> None:
    client = Client()
    _password(client, front_desk.username)
    response = client.get("/front-desk/")
    assert response["Location"].startswith("/account/second-factor/")
    enrol_page = client.get("/account/second-factor/")
    assert enrol_page.status_code == 200
    assert 'src="data:image/svg+xml' in enrol_page.content.decode()  # the QR code, inline (CSP: no other origin)


def test_enrolment_with_the_apps_code_turns_the_second_factor_on_and_gives_recovery_codes(front_desk: User) -> None:
    client = Client()
    _password(client, front_desk.username)
    client.get("/account/second-factor/")
    key = client.session["clinic_enrol_key"]
    unsaved = TOTPDevice(user=front_desk, key=key)
    response = client.post("/account/second-factor/", {"token": next_totp_code_for_unsaved(unsaved)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == services.RECOVERY_CODE_COUNT
    assert TOTPDevice.objects.get(user=front_desk).key == key
    assert client.get("/front-desk/").status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.SECOND_FACTOR_ENROLLED, user=front_desk).exists()


def next_totp_code_for_unsaved(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key).token():06d}"


def test_enrolment_refuses_a_wrong_code(front_desk: User) -> None:
    client = Client()
    _password(client, front_desk.username)
    client.get("/account/second-factor/")
    response = client.post("/account/second-factor/", {"token": "123456"})
    assert "does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=front_desk).exists()


def test_a_recovery_code_signs_in_once(aesthetician: User) -> None:
    authenticator_for(aesthetician)
    with_codes = Client()
    with_codes.force_login(aesthetician)
    codes = with_codes.post("/account/recovery-codes/").context["codes"]
    first = Client()
    _password(first, aesthetician.username)
    assert first.post("/sign-in/verify/", {"token": codes[0]}).status_code == 302
    assert first.get("/treatments/").status_code == 200
    again = Client()
    _password(again, aesthetician.username)
    assert again.post("/sign-in/verify/", {"token": codes[0]}).status_code == 200
    assert again.get("/treatments/").status_code == 302


def test_the_manager_resets_a_second_factor_which_signs_the_person_out_and_is_recorded(
    front_desk: User, manager: User
) -> None:
    desk = Client()
    desk.force_login(front_desk)
    assert desk.get("/front-desk/").status_code == 200
    mgr = Client()
    mgr.force_login(manager)
    mgr.post(f"/clinic/staff/{front_desk.pk}/security/", {"action": "reset_second_factor"})
    assert not TOTPDevice.objects.filter(user=front_desk).exists()
    assert not StaticDevice.objects.filter(user=front_desk).exists()
    assert desk.get("/front-desk/").status_code == 302  # their session ended
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SECOND_FACTOR_RESET)
    assert (event.user_id, event.actor_id) == (front_desk.pk, manager.pk)


def test_the_second_factor_is_required_by_default() -> None:
    assert settings.CLINIC_REQUIRE_2FA is True


def test_the_admin_needs_the_second_factor(db: None) -> None:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    authenticator_for(admin)
    client = Client()
    _password(client, admin.username)
    response = client.get(f"/{settings.ADMIN_URL}")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/verify/")


def test_the_admin_is_unbranded(db: None) -> None:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/{settings.ADMIN_URL}").content.decode()
    assert "Clinic administration" in page
    assert "Django administration" not in page


def test_the_admin_is_not_at_the_address_scanners_try_first() -> None:
    assert settings.ADMIN_URL != "admin/"


def test_every_role_needs_the_second_factor(
    front_desk: User, specialist: User, aesthetician: User, manager: User
) -> None:
    for person in (front_desk, specialist, aesthetician, manager):
        client = Client()
        _password(client, person.username)
        landed = client.get("/", follow=True).redirect_chain[-1][0]
        assert landed.startswith("/account/second-factor/"), (person.username, landed)


@pytest.mark.parametrize("role", list(Role))
def test_signed_in_tests_pass_the_second_factor_with_a_real_device(role: Role) -> None:
    person = UserFactory(username=f"p-{role}", role=role)
    client = Client()
    client.force_login(person)
    assert client.get("/").status_code == 302
    assert not client.get("/", follow=True).redirect_chain[-1][0].startswith(("/account/", "/sign-in/"))
