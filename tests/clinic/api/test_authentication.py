import base64

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from clinic import roles
from tests.factories import PatientFactory, staff_user

pytestmark = pytest.mark.django_db


def test_everything_under_api_needs_a_user():
    patient = PatientFactory()
    client = APIClient()
    for url in ["/api/schema/?format=json", f"/api/patients/{patient.pk}/export/"]:
        response = client.get(url)
        # 401 with the challenge (RFC 7235): TokenAuthentication comes first and names its scheme.
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Token"
        assert response.json() == {
            "detail": "Authentication credentials were not provided.",
            "code": "not_authenticated",
        }


def test_health_check_needs_no_user(client):
    assert client.get("/healthz").status_code in (200, 503)  # reachable without credentials, never 401/403


def test_token_authentication_for_integrations():
    user = staff_user(roles.CLINIC_ADMIN)
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/schema/?format=json").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Invalid token.", "code": "authentication_failed"}


def test_basic_authentication_is_not_accepted():
    staff_user(roles.CLINIC_ADMIN, username="basic")
    client = APIClient()
    credentials = base64.b64encode(b"basic:correct-horse-battery").decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {credentials}")
    response = client.get("/api/schema/?format=json")
    assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token")


def test_session_api_writes_need_csrf():
    user = staff_user(roles.CLINIC_ADMIN)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(f"/api/patients/{PatientFactory().pk}/export/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.urls("tests.urls")
def test_anonymous_and_user_throttling(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"})
    anonymous = APIClient()
    assert [anonymous.get("/api/public-ping/").status_code for _ in range(3)] == [200, 200, 429]
    client = APIClient()
    client.force_authenticate(staff_user(roles.CLINIC_ADMIN))
    url = f"/api/patients/{PatientFactory().pk}/export/"
    assert [client.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get(url).json()["detail"].startswith("Request was throttled.")


def test_an_unmatched_api_url_is_a_json_404_and_other_urls_keep_the_html_page(client):
    response = client.get("/api/patients/-1/export/")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found.", "code": "not_found"})
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
