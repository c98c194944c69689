"""Patient admin: search by MRN, name, phone and date of birth; procedures on the page; no delete."""

import datetime as dt

import pytest
import time_machine

from clinic.models import Patient
from tests.factories import InjectionFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/clinic/patient/"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


@pytest.fixture
def patients():
    return {
        "rivera": PatientFactory(
            legal_last_name="Rivera", mobile_phone="+12025550143", date_of_birth=dt.date(1978, 4, 12)
        ),
        "okafor": PatientFactory(
            legal_last_name="Okafor", mobile_phone="+12025550178", date_of_birth=dt.date(1985, 9, 3)
        ),
    }


@pytest.mark.parametrize(
    ("term", "expected"),
    [("rivera", ["rivera"]), ("5550178", ["okafor"]), ("1978-04-12", ["rivera"]), ("09/03/1985", ["okafor"])],
)
def test_search(admin_client, patients, term, expected):
    response = admin_client.get(CHANGELIST, {"q": term})

    assert [p.pk for p in response.context["cl"].result_list] == [patients[name].pk for name in expected]


def test_search_by_mrn(admin_client, patients):
    response = admin_client.get(CHANGELIST, {"q": patients["okafor"].mrn})

    assert list(response.context["cl"].result_list) == [patients["okafor"]]


def test_add_generates_the_mrn(admin_client):
    response = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "legal_first_name": "Ann",
            "legal_last_name": "Lee",
            "preferred_name": "",
            "date_of_birth": "1970-01-02",
            "sex": "female",
            "mobile_phone": "+12025550111",
            "email": "",
            "preferred_channel": "sms",
            "sms_consent_method": "",
            "email_consent_method": "",
            "time_zone": "America/New_York",
            "preferred_language": "en",
            "allergies": "",
            "anticoagulant_details": "",
            "status": "active",
            "procedures-TOTAL_FORMS": "0",
            "procedures-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    patient = Patient.objects.get()
    assert len(patient.mrn) == 8
    assert str(patient.mobile_phone) == "+12025550111"


def test_invalid_phone_is_shown_on_the_form(admin_client):
    patient = PatientFactory()
    page = admin_client.get(f"{CHANGELIST}{patient.pk}/change/")
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data.update({"mobile_phone": "12", "procedures-TOTAL_FORMS": "0", "procedures-INITIAL_FORMS": "0"})

    response = admin_client.post(f"{CHANGELIST}{patient.pk}/change/", data)

    assert response.status_code == 200
    assert "mobile_phone" in response.context["adminform"].form.errors


def test_patient_page_lists_the_procedures_and_offers_no_delete(admin_client):
    procedure = InjectionFactory().procedure

    page = admin_client.get(f"{CHANGELIST}{procedure.patient.pk}/change/")

    assert page.status_code == 200
    assert f"/admin/tpi/procedure/{procedure.pk}/change/" in page.content.decode()
    assert admin_client.get(f"{CHANGELIST}{procedure.patient.pk}/delete/").status_code == 403


@pytest.mark.parametrize("rows", [3, 30])
def test_changelist_runs_a_constant_number_of_queries(admin_client, rows, django_assert_max_num_queries):
    PatientFactory.create_batch(rows)

    with django_assert_max_num_queries(8):
        response = admin_client.get(CHANGELIST)

    assert response.context["cl"].result_count == rows


@pytest.mark.parametrize("channel", ["sms", "email"])
@time_machine.travel(dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC), tick=False)
def test_ticking_consent_records_now_and_who_without_more_clicks(client, channel):
    staff = UserFactory(is_superuser=True)
    client.force_login(staff)
    patient = PatientFactory(
        sms_consent=False, sms_consent_at=None, sms_consent_method="",
        email_consent=False, email_consent_at=None, email_consent_method="",
    )  # fmt: skip
    url = f"{CHANGELIST}{patient.pk}/change/"
    page = client.get(url)
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data = {k: v for k, v in data.items() if not k.endswith("_consent_at") and v is not False}
    data.update({f"{channel}_consent": "on", "procedures-TOTAL_FORMS": "0", "procedures-INITIAL_FORMS": "0"})
    at = dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC)

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    patient.refresh_from_db()
    assert getattr(patient, f"{channel}_consent") is True
    assert getattr(patient, f"{channel}_consent_at") == at
    event = patient.consent_events.get()
    assert (event.channel, event.granted, event.source, event.at, event.by) == (channel, True, "staff", at, staff)
