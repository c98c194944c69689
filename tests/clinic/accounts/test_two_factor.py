import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic import roles
from tests.factories import PatientFactory, staff_user

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def current_token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrolled_admin():
    user = staff_user(roles.CLINIC_ADMIN, username="boss")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def test_otp_is_off_in_development_and_tests(client, settings):
    assert settings.OTP_REQUIRED is False
    client.force_login(staff_user(roles.FRONT_DESK))
    assert client.get("/admin/").status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_password_only_session_is_refused_by_the_admin_when_otp_is_required(client):
    user, _ = enrolled_admin()
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@override_settings(OTP_REQUIRED=True)
def test_login_without_a_token_fails_and_with_a_valid_token_succeeds(client):
    _, device = enrolled_admin()
    page = client.get(LOGIN)
    assert "otp_token" in page.content.decode()
    no_token = client.post(LOGIN, {"username": "boss", "password": "correct-horse-battery"})
    assert no_token.status_code == 200
    assert "_auth_user_id" not in client.session
    wrong = client.post(LOGIN, {"username": "boss", "password": "correct-horse-battery", "otp_token": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session
    response = client.post(
        LOGIN,
        {
            "username": "boss",
            "password": "correct-horse-battery",
            "otp_device": device.persistent_id,
            "otp_token": current_token(device),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_api_refuses_an_unverified_session_but_accepts_integration_tokens():
    user, _ = enrolled_admin()
    url = f"/api/patients/{PatientFactory().pk}/export/"
    session = APIClient()
    session.force_login(user)
    assert session.get(url).status_code == 403
    integration = APIClient()
    integration.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert integration.get(url).status_code == 200


def test_otp_enrol_command_creates_a_device_and_prints_a_qr_code(tmp_path):
    user = staff_user(roles.PROVIDER, username="drlee")
    out = io.StringIO()
    call_command("otp_enrol", "drlee", stdout=out)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert "TOTP device" in out.getvalue()
    assert len(out.getvalue().splitlines()) > 10  # the QR code drawn in the terminal
    svg = tmp_path / "qr.svg"
    call_command("otp_enrol", "drlee", "--replace", "--qr-file", str(svg), stdout=io.StringIO())
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert svg.read_text().startswith("<?xml")


@override_settings(OTP_REQUIRED=True)
def test_verified_login_helper_passes_the_two_factor_gate(client):
    from tests.clinic.accounts.helpers import verified_login

    user, _ = enrolled_admin()
    verified_login(client, user)
    assert client.get("/admin/").status_code == 200
    api = APIClient()
    verified_login(api, user)
    assert api.get(f"/api/patients/{PatientFactory().pk}/export/").status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_default_api_permissions_and_the_schema_need_two_factor_for_sessions():
    from django.conf import settings

    assert settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"][-1] == "clinic.roles.OTPSatisfied"
    user, _ = enrolled_admin()
    session = APIClient()
    session.force_login(user)
    response = session.get("/api/schema/?format=json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Sign in with your authenticator code first.", "code": "permission_denied"}
    from tests.clinic.accounts.helpers import verified_login

    verified_login(session, user)
    assert session.get("/api/schema/?format=json").status_code == 200
