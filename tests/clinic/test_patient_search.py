"""Patient search as the front desk types it, through the admin search box, the admin pickers and the API."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from clinic.patient_search import search_date_of_birth, search_phone
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/clinic/patient/"
AUTOCOMPLETE = "/admin/autocomplete/"


@pytest.fixture
def patients():
    return {
        "okafor": PatientFactory(
            legal_first_name="Chinwe",
            legal_last_name="Okafor",
            preferred_name="Winnie",
            mobile_phone="+12025550178",
            date_of_birth=dt.date(1985, 9, 3),
        ),
        "rivera": PatientFactory(
            legal_first_name="Ana",
            legal_last_name="Rivera",
            preferred_name="",
            mobile_phone="+12025550143",
            date_of_birth=dt.date(1978, 4, 12),
        ),
        "riviere": PatientFactory(
            legal_first_name="Jean",
            legal_last_name="Riviere",
            preferred_name="",
            mobile_phone="+13125550100",
            date_of_birth=dt.date(2001, 1, 2),
        ),
    }


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


TERMS = [
    ("(202) 555-0178", ["okafor"]),
    ("202-555-0178", ["okafor"]),
    ("+1 202 555 0178", ["okafor"]),
    ("202.555.0178", ["okafor"]),
    ("2025550178", ["okafor"]),
    ("5550178", ["okafor"]),  # the last digits, as before
    ("09/03/1985", ["okafor"]),
    ("9/3/85", ["okafor"]),
    ("1985-09-03", ["okafor"]),
    ("1/2/01", ["riviere"]),
    ("riv", ["rivera", "riviere"]),
    ("ana riv", ["rivera"]),
    ("Rivera, Ana", ["rivera"]),
    ("winnie", ["okafor"]),
    ("chin oka", ["okafor"]),
    ("nobody", []),
]


def _names(patients, pks) -> list[str]:
    by_pk = {p.pk: name for name, p in patients.items()}
    return sorted(by_pk[pk] for pk in pks)


@pytest.mark.parametrize(("term", "expected"), TERMS)
def test_admin_search_box(staff, patients, term, expected):
    response = staff.get(CHANGELIST, {"q": term})

    assert _names(patients, [p.pk for p in response.context["cl"].result_list]) == expected


@pytest.mark.parametrize(("term", "expected"), TERMS)
def test_admin_patient_picker_finds_and_shows_date_of_birth(staff, patients, term, expected):
    params = {"app_label": "scheduling", "model_name": "appointment", "field_name": "patient", "term": term}

    results = staff.get(AUTOCOMPLETE, params).json()["results"]

    assert _names(patients, [int(r["id"]) for r in results]) == expected
    labels = {int(r["id"]): r["text"] for r in results}
    if "okafor" in expected:
        okafor = patients["okafor"]
        assert labels[okafor.pk] == f"Winnie Okafor, DOB 09/03/1985, MRN {okafor.mrn}"


@pytest.mark.parametrize(("term", "expected"), TERMS)
def test_api_search(patients, term, expected):
    api = APIClient()
    api.force_authenticate(UserFactory(is_superuser=True))

    response = api.get("/api/patients/", {"search": term})

    assert response.status_code == 200
    assert _names(patients, [p["id"] for p in response.json()["results"]]) == expected


@pytest.mark.parametrize(
    ("app_label", "model_name"),
    [("scheduling", "appointment"), ("tpi", "procedure"), ("tpi", "treatmentplan"), ("accounts", "breakglassgrant")],
)
def test_every_admin_patient_picker_shows_date_of_birth(staff, patients, app_label, model_name):
    params = {"app_label": app_label, "model_name": model_name, "field_name": "patient", "term": "rivera"}

    results = staff.get(AUTOCOMPLETE, params).json()["results"]

    rivera = patients["rivera"]
    assert results == [{"id": str(rivera.pk), "text": f"Ana Rivera, DOB 04/12/1978, MRN {rivera.mrn}"}]


def test_the_booking_form_shows_the_chosen_patient_with_date_of_birth(staff, patients):
    rivera = patients["rivera"]

    body = staff.get("/admin/scheduling/appointment/book/", {"patient": rivera.pk}).content.decode()

    assert f'<option value="{rivera.pk}" selected>Ana Rivera, DOB 04/12/1978, MRN {rivera.mrn}</option>' in body


def test_a_raw_id_patient_field_shows_date_of_birth(staff, patients):
    rivera = patients["rivera"]

    body = staff.get("/admin/messaging/consentevent/add/", {"patient": rivera.pk}).content.decode()

    assert f'/{rivera.pk}/change/">Ana Rivera, DOB 04/12/1978, MRN {rivera.mrn}</a></strong>' in body


@time_machine.travel(dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC), tick=False)
def test_two_digit_years_are_never_in_the_future():
    assert search_date_of_birth("1/2/30") == dt.date(1930, 1, 2)
    assert search_date_of_birth("1/2/26") == dt.date(2026, 1, 2)
    assert search_date_of_birth("12/31/26") == dt.date(1926, 12, 31)
    assert search_date_of_birth("13/45/1999") is None


def test_phones_are_normalised_to_e164():
    assert search_phone("(202) 555-0178") == "+12025550178"
    assert search_phone("+44 20 7946 0958") == "+442079460958"
    assert search_phone("555-0178") is None  # a fragment: matched by its digits instead
    assert search_phone("Rivera") is None
