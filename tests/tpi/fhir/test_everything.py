"""GET /fhir/R4/Patient/{id}/$everything: the whole chart in one Bundle, parsed back with fhir.resources."""

from collections import Counter

import pytest
import time_machine
from fhir.resources.R4B.bundle import Bundle

from clinic import roles
from clinic.audit.models import AccessLog
from tests.tpi.fhir.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _everything(client, patient):
    response = client.get(f"/fhir/R4/Patient/{patient.pk}/$everything")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    return Bundle.model_validate_json(response.content)


def test_a_patients_bundle_round_trips_with_two_procedures_replies_and_appointments(chart, as_user):
    bundle = _everything(as_user(chart.users[roles.CLINIC_ADMIN]), chart.patient)

    assert bundle.type == "searchset"
    resources = [entry.resource for entry in bundle.entry]
    assert bundle.total == len(resources)
    by_type = Counter(type(r).__name__ for r in resources)
    # 3 procedures (two signed by the doctor, the other doctor's draft); 2 x (before, after) + 2 SMS answers
    # + the draft's 2; 3 anaesthetics (bilateral trapezius + levator) ... per signed procedure, 1 steroid, 1 draft.
    assert by_type == {
        "Patient": 1,
        "Procedure": 3,
        "Observation": 8,
        "MedicationAdministration": 6,
        "Appointment": 2,
        "Consent": 1,
        "Communication": 1,
        "Practitioner": 2,
    }
    ids = {(type(r).__name__, r.id) for r in resources}
    first, second = chart.first, chart.second
    assert ("Procedure", str(first.pk)) in ids
    assert ("Procedure", str(second.pk)) in ids
    assert ("MedicationAdministration", f"injection-{first.injections.order_by('pk').first().pk}-steroid") in ids

    patient = resources[0]
    assert patient.id == str(chart.patient.pk)
    assert patient.identifier[0].value == chart.patient.mrn
    assert [(n.use, n.family, n.given) for n in patient.name] == [
        ("official", "Ruiz", ["Ana"]),
        ("usual", "Ruiz", ["Annie"]),
    ]
    assert str(patient.birthDate) == "1980-05-17"

    procedures = {r.id: r for r in resources if type(r).__name__ == "Procedure"}
    signed = procedures[str(first.pk)]
    assert signed.status == "completed"
    assert [(c.system, c.code) for c in signed.code.coding] == [("http://www.ama-assn.org/go/cpt", "20552")]
    assert signed.performer[0].actor.reference == f"Practitioner/{chart.doctor.pk}"
    assert signed.performedDateTime.isoformat() == "2026-02-08T10:00:00-05:00"  # clinic time, EST then
    trapezius, levator = signed.bodySite
    assert [(c.system, c.code) for c in trapezius.coding] == [("http://snomed.info/sct", "244846005")]
    assert trapezius.extension[0].valueCodeableConcept.coding[0].code == "51440002"  # right and left
    assert trapezius.text == "Upper trapezius, bilateral"
    assert levator.coding is None  # no SNOMED code on file for this site: text and side only
    assert levator.extension[0].valueCodeableConcept.coding[0].code == "24028007"
    assert procedures[str(chart.stranger.pk)].status == "in-progress"  # a draft

    answers = sorted(
        (r.effectiveDateTime.isoformat(), r.valueInteger, r.method.text)
        for r in resources
        if type(r).__name__ == "Observation" and r.id.startswith("followup-")
    )
    assert answers == [
        ("2026-02-11T11:00:00-05:00", 4, "SMS reply"),
        ("2026-03-08T12:00:00-04:00", 2, "SMS reply"),
    ]
    in_clinic = {r.id: r.valueInteger for r in resources if type(r).__name__ == "Observation" and "procedure-" in r.id}
    assert in_clinic[f"procedure-{first.pk}-before"] == 7
    assert in_clinic[f"procedure-{first.pk}-after"] == 3
    assert all(r.code.coding[0].code == "72514-3" for r in resources if type(r).__name__ == "Observation")

    injection = first.injections.order_by("pk").first()
    steroid = next(r for r in resources if r.id == f"injection-{injection.pk}-steroid")
    assert steroid.medicationCodeableConcept.text == "Triamcinolone acetonide"
    assert (float(steroid.dosage.dose.value), steroid.dosage.dose.unit) == (10.0, "mg")
    assert steroid.dosage.route.coding[0].code == "78421000"
    anaesthetic = next(r for r in resources if r.id == f"injection-{injection.pk}-anaesthetic")
    assert (float(anaesthetic.dosage.dose.value), anaesthetic.dosage.dose.unit) == (4.0, "mL")  # 2 mL per side
    assert anaesthetic.dosage.text == "1% lidocaine, 2 mL per side"

    appointments = sorted((r.status, r.start.isoformat()) for r in resources if type(r).__name__ == "Appointment")
    assert appointments == [("booked", "2026-03-17T11:00:00-04:00"), ("cancelled", "2026-03-18T11:00:00-04:00")]
    consent = next(r for r in resources if type(r).__name__ == "Consent")
    assert (consent.status, consent.provision.type) == ("active", "deny")
    communication = next(r for r in resources if type(r).__name__ == "Communication")
    assert communication.payload[0].contentString == "See you on Tuesday."
    assert communication.medium[0].coding[0].code == "SMSWRIT"


def test_everything_is_audited_as_an_export_of_the_chart(chart, as_user):
    user = chart.users[roles.CLINIC_ADMIN]
    _everything(as_user(user), chart.patient)

    log = AccessLog.objects.get(user=user)
    assert (log.patient, log.action, log.object_id) == (chart.patient, "export", str(chart.patient.pk))
    assert log.path == f"/fhir/R4/Patient/{chart.patient.pk}/$everything"


def test_a_provider_gets_only_what_the_rest_api_shows_them(chart, as_user):
    bundle = _everything(as_user(chart.doctor.user), chart.patient)

    procedures = {e.resource.id for e in bundle.entry if type(e.resource).__name__ == "Procedure"}
    assert procedures == {str(chart.first.pk), str(chart.second.pk)}  # not the other doctor's
    parts = {
        e.resource.partOf[0].reference
        for e in bundle.entry
        if type(e.resource).__name__ in ("Observation", "MedicationAdministration")
    }
    assert parts == {f"Procedure/{chart.first.pk}", f"Procedure/{chart.second.pk}"}


def test_a_massage_therapist_gets_procedure_basics_and_no_medication_or_pain_scores(chart, as_user):
    bundle = _everything(as_user(chart.users[roles.MASSAGE_THERAPIST]), chart.patient)

    kinds = Counter(type(e.resource).__name__ for e in bundle.entry)
    assert kinds == {"Patient": 1, "Procedure": 3, "Appointment": 2, "Practitioner": 2}
    wanted = ("Procedure", str(chart.first.pk))
    procedure = next(e.resource for e in bundle.entry if (type(e.resource).__name__, e.resource.id) == wanted)
    assert procedure.code.coding is None
    assert procedure.reasonCode is None
    assert len(procedure.bodySite) == 2


def test_the_front_desk_gets_demographics_appointments_consent_and_messages(chart, as_user):
    bundle = _everything(as_user(chart.users[roles.FRONT_DESK]), chart.patient)

    kinds = Counter(type(e.resource).__name__ for e in bundle.entry)
    assert kinds == {"Patient": 1, "Appointment": 2, "Consent": 1, "Communication": 1, "Practitioner": 1}


def test_an_unknown_patient_is_a_404_outcome(chart, as_user):
    response = as_user(chart.users[roles.CLINIC_ADMIN]).get("/fhir/R4/Patient/999999/$everything")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
