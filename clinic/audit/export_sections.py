"""The core's sections of the right-of-access export: demographics, contact, consents, safety."""

from clinic.audit.export import export_section, plain
from clinic.models import Patient

DEMOGRAPHICS = ("mrn", "legal_first_name", "legal_last_name", "preferred_name", "date_of_birth", "sex", "status")
CONTACT = ("mobile_phone", "email", "preferred_channel", "preferred_language", "time_zone")
CONSENTS = (
    "sms_consent",
    "sms_consent_at",
    "sms_consent_method",
    "email_consent",
    "email_consent_at",
    "email_consent_method",
)
SAFETY = ("allergies", "local_anaesthetic_allergy", "on_anticoagulants", "anticoagulant_details")


def _pick(patient: Patient, names: tuple[str, ...]) -> dict:
    return {name: plain(getattr(patient, name)) for name in names}


@export_section("demographics")
def demographics(patient: Patient) -> dict:
    return _pick(patient, DEMOGRAPHICS) | {"created_at": plain(patient.created_at)}


@export_section("contact")
def contact(patient: Patient) -> dict:
    return _pick(patient, CONTACT)


@export_section("consents")
def consents(patient: Patient) -> dict:
    return _pick(patient, CONSENTS)


@export_section("safety")
def safety(patient: Patient) -> dict:
    return _pick(patient, SAFETY)
