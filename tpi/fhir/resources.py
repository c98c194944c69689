"""Build FHIR resources from the clinic's rows; every one is validated by fhir.resources' R4B models.

Each builder takes a row with its relations loaded (see tpi.fhir.types for the querysets) and returns
the resource as a JSON-ready dict. Ids are the database ids of the rows; the resources derived from one
row carry the row's id and a suffix (Observation "procedure-12-before", "followup-7"; MedicationAdministration
"injection-5-anaesthetic", "injection-5-steroid"), so an id stays the same on every read and export.
Times are instants in the clinic's zone with their offset ("2026-11-30T10:15:00-05:00").
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from fhir.resources.R4B import get_fhir_model_class

from clinic.clock import local_time
from clinic.messaging.models import ConsentEvent, Message
from clinic.models import Patient, Provider
from clinic.models.providers import staff_name
from scheduling.models import Appointment
from tpi.fhir import codes
from tpi.models import FollowUp, Injection, Procedure

Resource = dict[str, Any]


def validated(data: Resource) -> Resource:
    """Return DATA as its fhir.resources R4B model dumps it; a wrong structure raises pydantic's ValidationError."""
    model = get_fhir_model_class(data["resourceType"])
    return model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_none=True)


def instant(value: dt.datetime) -> str:
    """Return VALUE as a FHIR dateTime in clinic time with its offset."""
    return local_time(value).isoformat(timespec="seconds")


def _decimal(value: Decimal) -> float | int:
    normalized = value.normalize()
    return int(normalized) if normalized == normalized.to_integral_value() else float(normalized)


def reference(resource_type: str, pk: Any, display: str = "") -> dict[str, str]:
    ref = {"reference": f"{resource_type}/{pk}"}
    return ref | {"display": display} if display else ref


def patient_reference(patient: Patient) -> dict[str, str]:
    return reference("Patient", patient.pk, patient.display_name)


def practitioner_reference(provider: Provider) -> dict[str, str]:
    return reference("Practitioner", provider.pk, str(provider))


def patient_resource(patient: Patient) -> Resource:
    """Return the Patient: MRN, names, gender, birth date, phone and email, language, active or deceased."""
    names = [{"use": "official", "family": patient.legal_last_name, "given": [patient.legal_first_name]}]
    if patient.preferred_name:
        names.append({"use": "usual", "family": patient.legal_last_name, "given": [patient.preferred_name]})
    telecom = []
    if patient.mobile_phone:
        telecom.append({"system": "phone", "value": str(patient.mobile_phone), "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    data: Resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": {"lastUpdated": instant(patient.updated_at)},
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": codes.V2_IDENTIFIER_TYPE, "code": "MR"}], "text": "MRN"},
                "system": settings.TPI_FHIR_MRN_SYSTEM,
                "value": patient.mrn,
            }
        ],
        "active": patient.status == Patient.Status.ACTIVE,
        "name": names,
        "telecom": telecom or None,
        "gender": codes.GENDER[patient.sex],
        "birthDate": patient.date_of_birth.isoformat(),
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.preferred_language}]},
                "preferred": True,
            }
        ],
    }
    if patient.status == Patient.Status.DECEASED:
        data["deceasedBoolean"] = True
    return validated(data)


def practitioner_resource(provider: Provider) -> Resource:
    """Return the Practitioner: NPI, name, credentials, active."""
    user = provider.user
    name: Resource = {"text": str(provider), "family": user.last_name or user.get_username()}
    if user.first_name:
        name["given"] = [user.first_name]
    if provider.credentials:
        name["suffix"] = [provider.credentials]
    data: Resource = {
        "resourceType": "Practitioner",
        "id": str(provider.pk),
        "active": provider.is_active,
        "name": [name],
        "qualification": [{"code": {"text": provider.get_role_display()}}],
    }
    if provider.npi:
        data["identifier"] = [{"system": codes.NPI, "value": provider.npi}]
    return validated(data)


def body_site(injection: Injection) -> Resource:
    """Return the treated site: the catalogue's SNOMED CT code where set, the side as a SNOMED qualifier."""
    site = injection.site
    side_code, side_display = codes.LATERALITY[injection.laterality]
    concept: Resource = {
        "extension": [
            {
                "url": codes.LATERALITY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": codes.SNOMED, "code": side_code, "display": side_display}]
                },
            }
        ],
        "text": f"{site.name}, {injection.get_laterality_display().lower()}",
    }
    if site.snomed_code:
        concept["coding"] = [{"system": codes.SNOMED, "code": site.snomed_code, "display": site.name}]
    return concept


def procedure_resource(procedure: Procedure, *, detail: bool = True) -> Resource:
    """Return the Procedure: status, CPT code(s), performer, time, body sites; indication and complications
    only with DETAIL (massage therapists read the basics: what was treated, where and when)."""
    seen: set[tuple[int, str]] = set()
    sites = []
    injections = list(procedure.injections.all())
    needled_only = bool(injections) and all(injection.dry_needling for injection in injections)
    for injection in injections:
        if (injection.site_id, injection.laterality) not in seen:
            seen.add((injection.site_id, injection.laterality))
            sites.append(body_site(injection))
    data: Resource = {
        "resourceType": "Procedure",
        "id": str(procedure.pk),
        "meta": {"lastUpdated": instant(procedure.updated_at)},
        "status": codes.PROCEDURE_STATUS[procedure.status],
        "subject": patient_reference(procedure.patient),
        "performedDateTime": instant(procedure.performed_at),
        "performer": [{"actor": practitioner_reference(procedure.provider)}],
        "bodySite": sites or None,
        "code": {"text": "Trigger point dry needling" if needled_only else "Trigger point injection"},
    }
    if detail:
        data["code"]["coding"] = [
            {"system": codes.CPT, "code": code, "display": text} for code, text in procedure.cpt_descriptions
        ] or None
        data["reasonCode"] = [
            {
                "coding": [{"system": codes.ICD10, "code": procedure.indication_icd10}]
                if procedure.indication_icd10
                else None,
                "text": procedure.indication,
            }
        ]
        if procedure.complications:
            data["complication"] = [{"text": procedure.complications}]
        if procedure.status == Procedure.Status.VOIDED:
            data["statusReason"] = {"text": procedure.void_reason}
    return validated(data)


def _medication(agent: str, label: str) -> Resource:
    code, display = codes.RXNORM_INGREDIENT[agent]
    return {"coding": [{"system": codes.RXNORM, "code": code, "display": display}], "text": label}


def medication_administrations(injection: Injection) -> list[Resource]:
    """Return the anaesthetic (and, when given, the steroid) of one injected site; none for dry needling."""
    if injection.dry_needling:
        return []
    procedure = injection.procedure
    common: Resource = {
        "resourceType": "MedicationAdministration",
        "status": codes.MEDICATION_STATUS[procedure.status],
        "subject": patient_reference(procedure.patient),
        "effectiveDateTime": instant(procedure.performed_at),
        "performer": [{"actor": practitioner_reference(procedure.provider)}],
        "partOf": [reference("Procedure", procedure.pk)],
    }
    site = body_site(injection)
    # The database requires agent, concentration and volume on every injected (not needled) site.
    volume = injection.anaesthetic_volume_total_ml or Decimal(0)
    concentration = injection.anaesthetic_concentration_percent or Decimal(0)
    per_side = " per side" if injection.laterality == "bilateral" else ""
    anaesthetic = common | {
        "id": f"injection-{injection.pk}-anaesthetic",
        "medicationCodeableConcept": _medication(
            injection.anaesthetic_agent, injection.get_anaesthetic_agent_display()
        ),
        "dosage": {
            "text": (
                f"{_decimal(concentration)}% "
                f"{injection.get_anaesthetic_agent_display().lower()}, "
                f"{_decimal(injection.anaesthetic_volume_ml or Decimal(0))} mL{per_side}"
            ),
            "site": site,
            "route": {"coding": [codes.INTRAMUSCULAR_ROUTE]},
            "dose": {"value": _decimal(volume), "unit": "mL", "system": codes.UCUM, "code": "mL"},
        },
    }
    found = [validated(anaesthetic)]
    if injection.steroid_agent and injection.steroid_dose_mg is not None:
        steroid = common | {
            "id": f"injection-{injection.pk}-steroid",
            "medicationCodeableConcept": _medication(injection.steroid_agent, injection.get_steroid_agent_display()),
            "dosage": {
                "site": site,
                "route": {"coding": [codes.INTRAMUSCULAR_ROUTE]},
                "dose": {
                    "value": _decimal(injection.steroid_dose_mg),
                    "unit": "mg",
                    "system": codes.UCUM,
                    "code": "mg",
                },
            },
        }
        found.append(validated(steroid))
    return found


def _pain_observation(
    *, id: str, procedure: Procedure, score: int, at: dt.datetime, method: str, note: str, performer: dict
) -> Resource:
    return validated(
        {
            "resourceType": "Observation",
            "id": id,
            "status": codes.OBSERVATION_STATUS[procedure.status],
            "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
            "code": {"coding": [codes.PAIN_SCORE], "text": "Pain score (0-10)"},
            "subject": patient_reference(procedure.patient),
            "partOf": [reference("Procedure", procedure.pk)],
            "effectiveDateTime": instant(at),
            "performer": [performer],
            "valueInteger": score,
            "method": {"text": method},
            "note": [{"text": note}],
        }
    )


def followup_answer_method(follow_up: FollowUp) -> str:
    """Return how the patient answered: the reply's channel as the follow-up recorded it (SMS unless it says email)."""
    return "Email reply" if "email" in follow_up.status_reason.lower() else "SMS reply"


def pain_observations(procedure: Procedure) -> list[Resource]:
    """Return the procedure's pain scores: before and right after (in clinic), then the patient's answers."""
    provider = practitioner_reference(procedure.provider)
    found = [
        _pain_observation(
            id=f"procedure-{procedure.pk}-before", procedure=procedure, score=procedure.pain_before,
            at=procedure.performed_at, method="In clinic", note="Before the injection", performer=provider,
        )
    ]  # fmt: skip
    if procedure.pain_after is not None:
        found.append(
            _pain_observation(
                id=f"procedure-{procedure.pk}-after", procedure=procedure, score=procedure.pain_after,
                at=procedure.performed_at, method="In clinic", note="Right after the injection", performer=provider,
            )
        )  # fmt: skip
    for follow_up in procedure.follow_ups.all():
        if follow_up.answer_pain_score is None or follow_up.answered_at is None:
            continue
        found.append(
            _pain_observation(
                id=f"followup-{follow_up.pk}", procedure=procedure, score=follow_up.answer_pain_score,
                at=follow_up.answered_at, method=followup_answer_method(follow_up),
                note=f"Answer to the {follow_up.get_kind_display().lower()}",
                performer=patient_reference(procedure.patient),
            )
        )  # fmt: skip
    return found


def appointment_resource(appointment: Appointment) -> Resource:
    """Return the Appointment: status, visit type, start and end, the patient and the provider."""
    accepted = "accepted" if appointment.status != Appointment.Status.BOOKED else "needs-action"
    data: Resource = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "status": codes.APPOINTMENT_STATUS[appointment.status],
        "appointmentType": {"text": appointment.appointment_type.name},
        "start": instant(appointment.start),
        "end": instant(appointment.end),
        "minutesDuration": int((appointment.end - appointment.start).total_seconds() // 60),
        "created": instant(appointment.created_at) if appointment.created_at else None,
        "participant": [
            {"actor": patient_reference(appointment.patient), "required": "required", "status": accepted},
            {"actor": practitioner_reference(appointment.provider), "required": "required", "status": "accepted"},
            {"actor": {"display": str(appointment.room)}, "required": "required", "status": "accepted"},
        ],
    }
    if appointment.status == Appointment.Status.CANCELLED and appointment.cancellation_reason:
        data["cancelationReason"] = {"text": appointment.cancellation_reason}
    return validated(data)


def consent_resource(event: ConsentEvent, *, current: bool) -> Resource:
    """Return one change of messaging consent: permit or deny for a channel; active while CURRENT, else inactive."""
    channel = event.get_channel_display()
    data: Resource = {
        "resourceType": "Consent",
        "id": str(event.pk),
        "status": "active" if current else "inactive",
        "scope": {"coding": [{"system": codes.CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": codes.LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": patient_reference(event.patient),
        "dateTime": instant(event.at),
        "policyRule": {
            "coding": [{"system": codes.ACT_CODE, "code": "OPTIN" if event.granted else "OPTOUT"}],
            "text": f"Automated {channel} messages from the clinic",
        },
        "provision": {
            "type": "permit" if event.granted else "deny",
            "period": {"start": instant(event.at)},
            "action": [{"text": f"Automated {channel} messages"}],
        },
    }
    if event.source == ConsentEvent.Source.REPLY:
        data["performer"] = [patient_reference(event.patient)]
    elif event.by is not None:
        provider = getattr(event.by, "provider", None)
        recorder = practitioner_reference(provider) if provider is not None else {"display": staff_name(event.by)}
        data["performer"] = [recorder]
    return validated(data)


def communication_resource(message: Message) -> Resource:
    """Return one message sent to the patient: channel, time, purpose and text."""
    sent_at: dt.datetime = message.sent_at or message.updated_at
    data: Resource = {
        "resourceType": "Communication",
        "id": str(message.pk),
        "status": "completed",
        "category": [{"text": message.purpose.replace("_", " ")}],
        "medium": [{"coding": [codes.MEDIUM[message.channel]]}],
        "subject": patient_reference(message.patient),
        "recipient": [patient_reference(message.patient)],
        "sent": instant(sent_at),
        "payload": [{"contentString": message.body}] if message.body else None,
    }
    if message.subject:
        data["topic"] = {"text": message.subject}
    if message.delivered_at:
        data["received"] = instant(message.delivered_at)
    return validated(data)
