"""The FHIR API follows the REST API's roles, object rules and read audit."""

import pytest
import time_machine
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from clinic import roles
from clinic.audit.models import AccessLog
from tests.factories import UserFactory
from tests.tpi.fhir.conftest import NOW
from tests.tpi.fhir.helpers import outcome, parsed

pytestmark = pytest.mark.django_db

FD, PR, MT, CA = roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST, roles.CLINIC_ADMIN
ALL, CLINICAL, CHART = (FD, PR, MT, CA), (PR, CA), (PR, MT, CA)
# The REST API's answers for the same rows (tests/clinic/security/test_permission_matrix.py): patients and
# providers for all; procedures for the chart roles; injections and pain scores for clinicians; the
# messaging log and consent for the front desk and clinicians.
READERS = {
    "Patient": ALL,
    "Practitioner": ALL,
    "Procedure": CHART,
    "MedicationAdministration": CLINICAL,
    "Observation": CLINICAL,
    "Appointment": ALL,
    "Consent": (FD, PR, CA),
    "Communication": (FD, PR, CA),
}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _one_id(chart, resource_type: str) -> str:
    first_injection = chart.first.injections.order_by("pk").first().pk
    follow_up = chart.first.follow_ups.get(kind="check_in").pk
    return {
        "Patient": str(chart.patient.pk),
        "Practitioner": str(chart.doctor.pk),
        "Procedure": str(chart.first.pk),
        "MedicationAdministration": f"injection-{first_injection}-anaesthetic",
        "Observation": f"followup-{follow_up}",
        "Appointment": str(chart.appointments[0].pk),
        "Consent": str(chart.patient.consent_events.get().pk),
        "Communication": str(chart.message.pk),
    }[resource_type]


@pytest.mark.parametrize("role", [FD, PR, MT, CA, None], ids=str)
def test_each_role_reads_and_searches_what_the_rest_api_lets_it(chart, as_user, role):
    user = chart.users[role] if role else UserFactory()  # None: signed in, in no role
    client = as_user(user)
    wrong = []
    for resource_type, readers in READERS.items():
        allowed = role in readers
        for url in (f"/fhir/R4/{resource_type}", f"/fhir/R4/{resource_type}/{_one_id(chart, resource_type)}"):
            response = client.get(url)
            if response.status_code != (200 if allowed else 403):
                wrong.append(f"{url}: {response.status_code}")
            parsed(response)  # a resource, a Bundle or an OperationOutcome: always valid FHIR
    assert wrong == []


@pytest.mark.parametrize(
    "resource_type", ["Procedure", "MedicationAdministration", "Observation"], ids=lambda name: name
)
def test_a_provider_reads_only_their_own_clinical_rows(chart, as_user, resource_type):
    client = as_user(chart.doctor.user)
    stranger_id = {
        "Procedure": str(chart.stranger.pk),
        "MedicationAdministration": f"injection-{chart.stranger.injections.get().pk}-anaesthetic",
        "Observation": f"procedure-{chart.stranger.pk}-before",
    }[resource_type]

    assert outcome(client.get(f"/fhir/R4/{resource_type}/{stranger_id}"), 403).startswith("You may not read")
    bundle = parsed(client.get(f"/fhir/R4/{resource_type}?patient={chart.patient.pk}&_count=200"))
    assert stranger_id not in {entry.resource.id for entry in bundle.entry}
    # The other doctor reads theirs and none of the first doctor's.
    other = parsed(as_user(chart.other_doctor.user).get(f"/fhir/R4/{resource_type}?_count=200"))
    assert stranger_id in {entry.resource.id for entry in other.entry}
    assert len(other.entry) == {"Procedure": 1, "MedicationAdministration": 1, "Observation": 2}[resource_type]


def test_a_massage_therapist_reads_procedure_basics_only(chart, as_user):
    procedure = parsed(as_user(chart.users[MT]).get(f"/fhir/R4/Procedure/{chart.first.pk}"))
    assert procedure.code.coding is None  # no CPT (injected or needled)
    assert procedure.reasonCode is None  # no indication
    assert [site.text for site in procedure.bodySite] == ["Upper trapezius, bilateral", "Levator scapulae, right"]


def test_a_session_without_two_factor_sign_in_is_refused(chart, settings):
    settings.OTP_REQUIRED = True
    client = APIClient()
    client.force_login(chart.users[CA])
    assert outcome(client.get("/fhir/R4/Patient"), 403)


def test_a_user_in_no_group_gets_403_not_401(chart, as_user):
    plain = UserFactory()
    assert not Group.objects.filter(user=plain).exists()
    assert outcome(as_user(plain).get("/fhir/R4/Patient"), 403).startswith("You may not read Patient")


def test_reads_are_audited_like_rest_detail_reads(chart, as_user):
    user = chart.doctor.user
    client = as_user(user)
    for resource_type in READERS:
        assert client.get(f"/fhir/R4/{resource_type}/{_one_id(chart, resource_type)}").status_code == 200

    logged = sorted(
        (log.content_type.model, log.object_id, log.action, log.patient_id)
        for log in AccessLog.objects.filter(user=user)
    )
    first_injection = chart.first.injections.order_by("pk").first()
    assert logged == sorted(
        [
            ("patient", str(chart.patient.pk), "view", chart.patient.pk),
            ("procedure", str(chart.first.pk), "view", chart.patient.pk),
            ("injection", str(first_injection.pk), "view", chart.patient.pk),
            ("procedure", str(chart.first.pk), "view", chart.patient.pk),  # the pain score's procedure
            ("appointment", str(chart.appointments[0].pk), "view", chart.patient.pk),
            ("consentevent", _one_id(chart, "Consent"), "view", chart.patient.pk),
            ("message", str(chart.message.pk), "view", chart.patient.pk),
        ]
    )  # the practitioner is nobody's chart: not logged
    assert AccessLog.objects.filter(user=user, path=f"/fhir/R4/Patient/{chart.patient.pk}").count() == 1


def test_a_search_for_one_patient_logs_a_view_of_that_patient_and_a_refused_read_logs_nothing(chart, as_user):
    user = chart.doctor.user
    client = as_user(user)

    client.get(f"/fhir/R4/Observation?patient={chart.patient.pk}")
    client.get("/fhir/R4/Appointment")  # not one patient's records: the REST lists are not logged either
    client.get(f"/fhir/R4/Procedure/{chart.stranger.pk}")  # 403

    assert [(log.object_id, log.action, log.path) for log in AccessLog.objects.filter(user=user)] == [
        (str(chart.patient.pk), "view", "/fhir/R4/Observation")
    ]
