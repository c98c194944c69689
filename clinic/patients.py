"""Patient services: the one place that creates and changes patient records."""

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.models import Patient
from clinic.validators import luhn_is_valid

MRN_ATTEMPTS = 5


def mrn_generate() -> str:
    """Return a random 8-digit medical record number whose last digit is a Luhn check digit."""
    body = f"{secrets.randbelow(10**7):07d}"
    check = next(d for d in "0123456789" if luhn_is_valid(body + d))
    return body + check


def _stamp_consent(patient: Patient) -> None:
    """Consent given without a time was given now (the database insists on a time)."""
    now = timezone.now()
    if patient.sms_consent and patient.sms_consent_at is None:
        patient.sms_consent_at = now
    if patient.email_consent and patient.email_consent_at is None:
        patient.email_consent_at = now


def patient_create(**fields: Any) -> Patient:
    """Create a patient with a freshly generated, unique MRN; validates every field first."""
    patient = Patient(**fields)
    patient.mrn = mrn_generate()
    _stamp_consent(patient)
    patient.full_clean()
    for attempt in range(MRN_ATTEMPTS):
        try:
            with transaction.atomic():
                patient.save(force_insert=True)
            return patient
        except IntegrityError:
            if Patient.objects.filter(mrn=patient.mrn).exists() and attempt < MRN_ATTEMPTS - 1:
                patient.mrn = mrn_generate()
                continue
            raise
    raise AssertionError("unreachable")


# Fields staff may change after registration; the MRN never changes.
PATIENT_UPDATABLE_FIELDS = frozenset(f.name for f in Patient._meta.concrete_fields) - {
    "id",
    "mrn",
    "created_at",
    "updated_at",
}


@transaction.atomic
def patient_update(*, patient: Patient, **fields: Any) -> Patient:
    """Change a patient's record; validates every field, and the MRN stays as generated."""
    unknown = sorted(set(fields) - PATIENT_UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    _stamp_consent(locked)
    locked.full_clean()
    locked.save()
    return locked
