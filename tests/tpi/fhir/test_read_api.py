"""The FHIR read API: every resource type read and searched, each answer validated with fhir.resources."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from clinic import roles
from tests.factories import InjectionFactory, PatientFactory
from tests.tpi.fhir.conftest import NOW
from tests.tpi.fhir.helpers import outcome, parsed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def admin(chart, as_user):
    return as_user(chart.users[roles.CLINIC_ADMIN])


def _search(client, query: str):
    response = client.get(f"/fhir/R4/{query}")
    assert response.status_code == 200, response.content
    bundle = parsed(response)
    assert bundle.type == "searchset"
    return bundle


def _ids(bundle) -> list[str]:
    return [entry.resource.id for entry in bundle.entry or []]


def test_metadata_is_a_capability_statement_listing_every_type(client):
    response = APIClient().get("/fhir/R4/metadata")  # public: clients read it before signing in

    assert response.status_code == 200
    statement = parsed(response)
    assert statement.fhirVersion == "4.3.0"
    assert statement.format == ["application/fhir+json"]
    served = {r.type: sorted(p.name for p in r.searchParam or []) for r in statement.rest[0].resource}
    assert served == {
        "Patient": ["_id", "birthdate", "family", "given", "identifier", "name"],
        "Practitioner": ["_id", "identifier", "name"],
        "Procedure": ["_id", "patient", "status", "subject"],
        "MedicationAdministration": ["patient", "subject"],
        "Observation": ["patient", "subject"],
        "Appointment": ["_id", "actor", "date", "patient"],
        "Consent": ["_id", "patient"],
        "Communication": ["_id", "patient", "subject"],
    }
    assert statement.rest[0].operation[0].name == "export"


TYPES = [
    "Patient",
    "Practitioner",
    "Procedure",
    "MedicationAdministration",
    "Observation",
    "Appointment",
    "Consent",
    "Communication",
]


@pytest.mark.parametrize("resource_type", TYPES)
def test_every_resource_found_by_search_reads_back_the_same(chart, admin, resource_type):
    bundle = _search(admin, f"{resource_type}?_count=200")

    assert bundle.entry, "the chart has some of each"
    for entry in bundle.entry:
        resource = entry.resource
        assert type(resource).__name__ == resource_type
        assert entry.fullUrl == f"http://testserver/fhir/R4/{resource_type}/{resource.id}"
        read = parsed(admin.get(f"/fhir/R4/{resource_type}/{resource.id}"))
        assert read.model_dump() == resource.model_dump()


def test_counts_of_the_chart(chart, admin):
    assert len(_ids(_search(admin, "Observation?_count=200"))) == 8
    assert len(_ids(_search(admin, "MedicationAdministration?_count=200"))) == 6
    assert _search(admin, "Appointment").total == 2
    assert _search(admin, "Communication").total == 1
    assert _search(admin, "Consent").total == 1


def test_consent_history_marks_only_the_latest_change_per_channel_active(chart, admin):
    from clinic.messaging.consent import consent_change

    consent_change(patient=chart.patient, channel="email", granted=True, source="staff", by=chart.doctor.user)

    bundle = _search(admin, f"Consent?patient={chart.patient.pk}")
    changes = [(e.resource.provision.type, e.resource.status) for e in bundle.entry]
    assert changes == [("deny", "inactive"), ("permit", "active")]
    assert bundle.entry[1].resource.performer[0].reference == f"Practitioner/{chart.doctor.pk}"


def test_patient_search_by_identifier_name_and_birthdate(chart, admin):
    PatientFactory(legal_first_name="Bruno", legal_last_name="Ruizsmith", date_of_birth=dt.date(1990, 1, 2))
    mrn = chart.patient.mrn
    me = [str(chart.patient.pk)]

    assert _ids(_search(admin, f"Patient?identifier={mrn}")) == me
    assert _ids(_search(admin, f"Patient?identifier=urn:tpi-clinic:mrn|{mrn}")) == me
    assert _ids(_search(admin, f"Patient?identifier=urn:other:mrn|{mrn}")) == []
    assert _ids(_search(admin, "Patient?name=annie")) == me  # preferred name, any case, from the start
    assert len(_ids(_search(admin, "Patient?name=ruiz"))) == 2
    assert _ids(_search(admin, "Patient?family=ruiz&birthdate=1980-05-17")) == me
    assert _ids(_search(admin, "Patient?family=ruiz&birthdate=ge1985-01-01")) != me
    assert _ids(_search(admin, "Patient?name=uiz")) == []  # names match from their start


def test_searches_by_patient(chart, admin):
    other = InjectionFactory().procedure
    for query in (f"patient={chart.patient.pk}", f"subject=Patient/{chart.patient.pk}"):
        ids = set(_ids(_search(admin, f"Procedure?{query}")))
        assert ids == {str(chart.first.pk), str(chart.second.pk), str(chart.stranger.pk)}
    assert _ids(_search(admin, f"Procedure?patient={other.patient_id}")) == [str(other.pk)]
    assert _ids(_search(admin, f"Procedure?patient={chart.patient.pk}&status=entered-in-error")) == []
    booked = _search(admin, f"Appointment?actor=Practitioner/{chart.doctor.pk}&date=2026-03-17")
    assert _ids(booked) == [str(chart.appointments[0].pk)]


def test_search_pages_with_count_and_next_links(chart, admin):
    first = _search(admin, "Appointment?_count=1")
    assert first.total == 2
    assert len(first.entry) == 1
    links = {link.relation: link.url for link in first.link}
    assert links["next"] == "http://testserver/fhir/R4/Appointment?_count=1&_page=2"
    second = _search(admin, "Appointment?_count=1&_page=2")
    assert "next" not in {link.relation for link in second.link}
    assert _ids(first) + _ids(second) == [str(a.pk) for a in chart.appointments]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("Patient?colour=blue", "Unknown search parameter 'colour' for Patient"),
        ("Patient?birthdate=17/05/1980", "birthdate: '17/05/1980' is not a date"),
        ("Patient?birthdate=ne1980-05-17", "birthdate: the prefix 'ne' is not supported"),
        ("Procedure?patient=abc", "patient: 'abc' is not an id"),
        ("Procedure?patient=", "patient: give a value"),
        ("Observation?code=72514-3", "Unknown search parameter 'code' for Observation"),
        ("Appointment?_count=0", "_count must be 1 to 200"),
        ("Appointment?_count=many", "_count and _page take whole numbers"),
        ("Patient?_format=xml", "_format: only JSON is served"),
    ],
)
def test_bad_search_parameters_are_a_400_outcome(chart, admin, query, reason):
    assert outcome(admin.get(f"/fhir/R4/{query}"), 400).startswith(reason)


def test_errors_are_operation_outcomes(chart, admin):
    assert outcome(admin.get("/fhir/R4/Patient/999999"), 404) == "Patient/999999 is not known."
    assert outcome(admin.get("/fhir/R4/Observation/procedure-1-during"), 404).endswith("is not known.")
    assert outcome(admin.get("/fhir/R4/Encounter"), 404) == "Unknown resource type 'Encounter'."
    assert outcome(admin.get("/fhir/R4/Patient/1/_history/2"), 404).startswith("No such FHIR endpoint")
    assert outcome(admin.post("/fhir/R4/Patient", {}, format="json"), 405).startswith('Method "POST" not allowed')
    assert outcome(admin.delete(f"/fhir/R4/Patient/{chart.patient.pk}"), 405)


def test_missing_or_bad_credentials_get_401_with_the_scheme(chart):
    for client in (APIClient(), APIClient(HTTP_AUTHORIZATION="Token not-a-real-token")):
        response = client.get(f"/fhir/R4/Patient/{chart.patient.pk}")
        outcome(response, 401)
        assert response["WWW-Authenticate"] == "Token"


def test_any_accept_header_gets_fhir_json(chart, admin):
    for accept in ("application/json", "application/fhir+json", "*/*", "text/html"):
        response = admin.get(f"/fhir/R4/Patient/{chart.patient.pk}", HTTP_ACCEPT=accept)
        assert response.status_code == 200
        parsed(response)


@pytest.mark.parametrize("resource_type", ["Procedure", "Observation", "MedicationAdministration", "Appointment"])
def test_searches_run_a_constant_number_of_queries(chart, admin, resource_type, django_assert_max_num_queries):
    for _ in range(5):
        InjectionFactory(procedure__patient=chart.patient)
    # auth (token, user, groups and permissions) + count + rows + injections and follow-ups prefetched
    with django_assert_max_num_queries(9):
        _search(admin, f"{resource_type}?_count=200")


def test_a_voided_procedure_and_its_records_are_entered_in_error(chart, admin):
    from tpi.signing import procedure_void

    procedure_void(procedure=chart.first, by=chart.doctor.user, reason="Wrong patient")

    procedure = parsed(admin.get(f"/fhir/R4/Procedure/{chart.first.pk}"))
    assert (procedure.status, procedure.statusReason.text) == ("entered-in-error", "Wrong patient")
    for resource_type in ("Observation", "MedicationAdministration"):
        bundle = _search(admin, f"{resource_type}?patient={chart.patient.pk}&_count=200")
        statuses = {
            entry.resource.status
            for entry in bundle.entry
            if entry.resource.partOf[0].reference.endswith(f"/{chart.first.pk}")
        }
        assert statuses == {"entered-in-error"}


def test_dry_needling_is_a_procedure_without_medication(chart, admin):
    needled = InjectionFactory(
        procedure__patient=chart.patient, dry_needling=True, anaesthetic_agent="",
        anaesthetic_concentration_percent=None, anaesthetic_volume_ml=None,
    ).procedure  # fmt: skip

    procedure = parsed(admin.get(f"/fhir/R4/Procedure/{needled.pk}"))
    assert procedure.code.text == "Trigger point dry needling"
    assert [coding.code for coding in procedure.code.coding] == ["20560"]
    given = _search(admin, f"MedicationAdministration?patient={chart.patient.pk}&_count=200")
    assert not [e for e in given.entry if e.resource.partOf[0].reference == f"Procedure/{needled.pk}"]
