"""The API conventions every endpoint inherits (docs/decisions.md "API conventions"), checked exactly.

One error shape with a stable `code`; 401 with a challenge for missing or bad credentials, 403 for a
signed-in user without the right; strict filters (bad values and unknown parameters are 400);
`page_size` on every list; staff users as {"id", "name"}.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.viewsets import GenericViewSet

from clinic import roles
from clinic.api.filters import ClinicFilterBackend, ClinicFilterSet
from clinic.api.pagination import PagePagination
from scheduling.booking import appointment_book
from tests.clinic.security.test_permission_matrix import CA, FD, MT, api_operations, world  # noqa: F401
from tests.factories import signed_procedure
from tpi.signing import procedure_sign

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 7, 30, tzinfo=dt.UTC)


@pytest.fixture
def admin_api(world):  # noqa: F811
    client = APIClient()
    client.force_authenticate(world["users"][CA])
    return client


# --- errors --------------------------------------------------------------------------------------
def test_every_kind_of_4xx_carries_its_stable_code(world, admin_api):  # noqa: F811
    ids = world["ids"]
    therapist = APIClient()
    therapist.force_authenticate(world["users"][MT])
    with time_machine.travel(NOW, tick=False):
        signed = procedure_sign(procedure=world["doctor"].procedures.get(pk=ids["procedure"]), by=world["users"][CA])
    cases = [
        (admin_api.post("/api/patients/", {"sex": "x"}, format="json"), 400, "invalid"),
        (
            admin_api.generic("POST", "/api/patients/", "{not json", content_type="application/json"),
            400,
            "parse_error",
        ),
        (admin_api.get("/api/patients/999999/"), 404, "not_found"),
        (admin_api.get("/api/no-such-endpoint/"), 404, "not_found"),
        (admin_api.delete(f"/api/patients/{ids['patient']}/"), 405, "method_not_allowed"),
        (admin_api.get("/api/patients/", HTTP_ACCEPT="application/xml"), 406, "not_acceptable"),
        (
            admin_api.generic("POST", "/api/patients/", "a=b", content_type="text/plain"),
            415,
            "unsupported_media_type",
        ),
        (therapist.get(f"/api/procedures/{ids['procedure']}/warnings/"), 403, "permission_denied"),
        (admin_api.post(f"/api/procedures/{signed.pk}/sign/", {}, format="json"), 409, "procedure_signed"),
        (admin_api.patch(f"/api/procedures/{signed.pk}/", {"indication": "x"}, format="json"), 409, "procedure_signed"),
        (APIClient().get("/api/patients/"), 401, "not_authenticated"),
    ]
    assert [(r.status_code, r.json()["code"]) for r, _, _ in cases] == [(s, c) for _, s, c in cases]
    assert all(isinstance(r.json()["detail"], str) and r.json()["detail"] for r, _, _ in cases)


def test_a_booking_clash_and_a_procedure_state_answer_the_same_shape(world, admin_api):  # noqa: F811
    ids = world["ids"]
    appointment = admin_api.get(f"/api/appointments/{ids['appointment']}/").json()
    clash = admin_api.post(
        "/api/appointments/",
        {k: appointment[k] for k in ("patient", "provider", "room", "appointment_type", "start")},
        format="json",
    )
    with time_machine.travel(NOW, tick=False):
        signed = signed_procedure(performed_at=NOW - dt.timedelta(hours=1), provider=world["doctor"])
    state = admin_api.post(f"/api/procedures/{signed.pk}/sign/", {}, format="json")

    assert (clash.status_code, clash.json()["code"]) == (409, "conflict")
    assert [c["id"] for c in clash.json()["conflicts"]] == [ids["appointment"]]
    assert state.json() == {"detail": "This procedure is already signed.", "code": "procedure_signed"}


# --- authentication ------------------------------------------------------------------------------
def test_bad_revoked_or_inactive_credentials_get_401_with_the_challenge(world):  # noqa: F811
    user = world["users"][FD]
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/patients/").status_code == 200

    token.delete()  # revoked
    revoked = client.get("/api/patients/")
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    inactive = client.get("/api/patients/")
    client.credentials(HTTP_AUTHORIZATION="Token")  # no key at all
    malformed = client.get("/api/patients/")

    assert [(r.status_code, r["WWW-Authenticate"], r.json()["code"]) for r in (revoked, inactive, malformed)] == [
        (401, "Token", "authentication_failed"),
        (401, "Token", "authentication_failed"),
        (401, "Token", "authentication_failed"),
    ]
    assert revoked.json()["detail"] == "Invalid token."
    assert inactive.json()["detail"] == "User inactive or deleted."


def test_a_signed_in_user_without_the_right_gets_403_without_a_challenge(world):  # noqa: F811
    token = Token.objects.create(user=world["users"][FD])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get("/api/procedures/")

    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    assert response.json() == {
        "detail": "You do not have permission to perform this action.",
        "code": "permission_denied",
    }


# --- filters -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "params", "field", "reason"),
    [
        ("/api/procedures/", {"with_steroid": "maybe"}, "with_steroid", "Select a valid choice. maybe is not one"),
        ("/api/providers/", {"is_active": "perhaps"}, "is_active", "Select a valid choice. perhaps is not one"),
        ("/api/rooms/", {"is_active": "1"}, "is_active", "Select a valid choice. 1 is not one"),
        ("/api/appointments/", {"status": "lost"}, "status", "Select a valid choice. lost is not one"),
        ("/api/appointments/", {"date_from": "2026-13-01"}, "date_from", "Enter a valid date."),
        ("/api/plan-occurrences/", {"plan": "abc"}, "plan", "Enter a whole number."),
        ("/api/appointments/", {"stauts": "booked"}, "stauts", "Unknown query parameter; this endpoint takes: "),
        ("/api/patients/", {"q": "Rivera"}, "q", "Unknown query parameter; this endpoint takes: "),
    ],
)
def test_a_bad_or_unknown_filter_is_a_400_naming_it(admin_api, url, params, field, reason):
    response = admin_api.get(url, params)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("invalid", [field])
    assert body["errors"][field][0].startswith(reason), body


def test_the_unknown_parameter_answer_lists_what_the_endpoint_takes(admin_api):
    body = admin_api.get("/api/patients/", {"q": "x"}).json()

    assert body["errors"] == {
        "q": [
            "Unknown query parameter; this endpoint takes: date_of_birth, mrn, page, page_size, "
            "preferred_channel, search, status."
        ]
    }


def test_good_boolean_filters_still_filter(world, admin_api):  # noqa: F811
    assert admin_api.get("/api/providers/", {"is_active": "true"}).json()["count"] == 2
    assert admin_api.get("/api/providers/", {"is_active": "false"}).json()["count"] == 0
    assert admin_api.get("/api/procedures/", {"with_steroid": "false"}).json()["count"] == 2


def _viewsets() -> list[type]:
    found = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                cls = getattr(pattern.callback, "cls", None)
                if cls is not None and issubclass(cls, GenericViewSet) and cls not in found:
                    found.append(cls)

    walk(get_resolver().url_patterns)
    return found


def test_every_viewset_inherits_the_conventions():
    viewsets = _viewsets()
    assert len(viewsets) >= 14
    for cls in viewsets:
        assert any(issubclass(b, ClinicFilterBackend) for b in cls.filter_backends), cls
        assert issubclass(cls.pagination_class, PagePagination), cls
        filterset = getattr(cls, "filterset_class", None)
        assert filterset is None or issubclass(filterset, ClinicFilterSet), cls


# --- pagination ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_list_honours_page_size(world, admin_api):  # noqa: F811
    lists = [path for verb, path in api_operations() if verb == "get" and "{" not in path]
    wrong = []
    for path in lists:
        full = admin_api.get(path)
        if "results" not in full.json():
            continue  # free-slots: a plain array with its own `limit`
        one = admin_api.get(path, {"page_size": 1}).json()
        if len(one["results"]) != min(1, full.json()["count"]) or one["count"] != full.json()["count"]:
            wrong.append(f"{path}: {len(one['results'])} of {one['count']}")
        zero = admin_api.get(path, {"page_size": 0})
        if (zero.status_code, zero.json().get("code")) != (400, "invalid"):
            wrong.append(f"{path} page_size=0: {zero.status_code}")
    assert wrong == []
    assert len(lists) >= 15


def test_the_schedule_lists_page_by_page_size(world, admin_api):  # noqa: F811
    first = admin_api.get("/api/appointments/", {"page_size": 2}).json()
    second = admin_api.get(first["next"]).json()

    assert (first["count"], len(first["results"]), len(second["results"])) == (3, 2, 1)
    assert admin_api.get("/api/series/", {"page_size": 1}).json()["count"] == 1
    assert admin_api.get("/api/appointments/", {"page_size": "ten"}).json()["errors"] == {
        "page_size": ["A whole number from 1 to 200."]
    }


# --- users ---------------------------------------------------------------------------------------
def test_who_overrode_the_hours_reads_as_id_and_name(world, admin_api):  # noqa: F811
    doctor, manager = world["doctor"], world["users"][CA]
    appointment = admin_api.get(f"/api/appointments/{world['ids']['appointment']}/").json()
    with time_machine.travel(NOW, tick=False):
        from scheduling.models import Appointment

        seed = Appointment.objects.get(pk=appointment["id"])
        late = appointment_book(
            patient=seed.patient,
            provider=doctor,
            room=seed.room,
            appointment_type=seed.appointment_type,
            start=dt.datetime(2026, 12, 2, 4, tzinfo=dt.UTC),  # 23:00 clinic time, outside the hours
            override_hours=True,
            by=manager,
        )

    body = admin_api.get(f"/api/appointments/{late.pk}/").json()

    assert body["hours_override_by"] == {"id": manager.pk, "name": manager.get_full_name() or manager.username}
    assert appointment["hours_override_by"] is None
    assert roles.is_clinic_admin(manager)
