from __future__ import annotations

from base64 import b32encode
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp import match_token

from clinic import demo
from clinic.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_accounts_come_with_their_second_factor_set_up() -> None:
    demo.seed()
    for person in demo.DEMO_STAFF:
        user = User.objects.get(username=person.username)
        assert match_token(user, demo.demo_totp_code(person.username)) is not None
        assert match_token(user, demo.demo_recovery_codes(person.username)[0]) is not None


def test_a_demo_account_signs_in_with_the_password_and_the_printed_code() -> None:
    demo.seed()
    client = Client()
    client.post("/sign-in/", {"username": "manager", "password": demo.DEMO_PASSWORD})
    response = client.post("/sign-in/verify/", {"token": demo.demo_totp_code("manager"), "next": "/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/clinic/"


def test_demo_signins_prints_the_code_key_and_recovery_codes_of_each_account() -> None:
    out = StringIO()
    call_command("demo_signins", stdout=out)
    printed = out.getvalue()
    for person in demo.DEMO_STAFF:
        assert demo.demo_totp_code(person.username) in printed
        assert b32encode(bytes.fromhex(demo.demo_totp_key(person.username))).decode() in printed
        assert demo.demo_recovery_codes(person.username)[0] in printed


def test_the_staff_page_links_to_their_sign_in_and_security_page(manager: User, front_desk: User) -> None:
    client = Client()
    client.force_login(manager)
    page = client.get(f"/clinic/staff/{front_desk.pk}/").content.decode()
    assert f"/clinic/staff/{front_desk.pk}/security/" in page
