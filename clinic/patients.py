"""Patient services: the one place that creates and changes patient records."""

import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.accounts.actors import Actor
from clinic.models import Patient
from clinic.validators import luhn_is_valid

MRN_ATTEMPTS = 5


def mrn_generate() -> str:
    """Return a random 8-digit medical record number whose last digit is a Luhn check digit."""
    body = f"{secrets.randbelow(10**7):07d}"
    check = next(d for d in "0123456789" if luhn_is_valid(body + d))
    return body + check


EARLIEST_CONSENT_YEAR = 1900


def _stamp_consent(patient: Patient) -> None:
    """Consent given without a time was given now (the database insists on a time); no consent, no time.

    Refuses consent times from before EARLIEST_CONSENT_YEAR (typos; they cannot be written as ISO 8601
    with their historical UTC offset either).
    """
    now = timezone.now()
    for channel in ("sms", "email"):
        at_field = f"{channel}_consent_at"
        if not getattr(patient, f"{channel}_consent"):
            setattr(patient, at_field, None)
            setattr(patient, f"{channel}_consent_method", "")
        at = getattr(patient, at_field)
        if at is not None and at.year < EARLIEST_CONSENT_YEAR:
            raise ValidationError({at_field: f"Give a time after {EARLIEST_CONSENT_YEAR}."})
    if patient.sms_consent and patient.sms_consent_at is None:
        patient.sms_consent_at = now
    if patient.email_consent and patient.email_consent_at is None:
        patient.email_consent_at = now


CONSENT_CHANNELS = ("sms", "email")


def _consent_values(patient: Patient, channel: str) -> tuple[bool, Any, str]:
    return (
        getattr(patient, f"{channel}_consent"),
        getattr(patient, f"{channel}_consent_at"),
        getattr(patient, f"{channel}_consent_method"),
    )


def _set_consent(patient: Patient, channel: str, values: tuple[bool, Any, str]) -> None:
    for suffix, value in zip(("", "_at", "_method"), values, strict=True):
        setattr(patient, f"{channel}_consent{suffix}", value)


def _consent_apply(*, patient: Patient, wanted: dict[str, tuple[bool, Any, str]], by: Actor, source: str) -> None:
    """Grant or revoke through clinic.messaging.consent_change, so every change leaves a ConsentEvent."""
    from clinic.messaging.consent import consent_change  # inside the core; imported late (app loading)

    for channel, (granted, at, method) in wanted.items():
        consent_change(
            patient=patient,
            channel=channel,
            granted=granted,
            source=source,
            by=by if getattr(by, "is_authenticated", False) else None,
            at=at if granted else None,
            method=(method or None) if granted else None,
        )


MRN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,11}$")


def patient_create(
    *, by: Actor = None, consent_source: str = "staff", mrn: str | None = None, **fields: Any
) -> Patient:
    """Create a patient with a freshly generated, unique MRN; validates every field first.

    MRN is given only by an import from the clinic's previous system (clinic.imports.patients): the
    chart number staff already know, 1-12 letters, digits or hyphens, refused when taken.
    Consent given at registration is recorded through consent_change (source "staff", "form" or
    "import"), so it has its ConsentEvent like every later change.
    """
    patient = Patient(**fields)
    if mrn is not None and not MRN_PATTERN.match(mrn):
        raise ValidationError({"mrn": "An MRN is 1 to 12 letters, digits or hyphens."})
    patient.mrn = mrn if mrn is not None else mrn_generate()
    _stamp_consent(patient)
    patient.full_clean()
    wanted = {c: _consent_values(patient, c) for c in CONSENT_CHANNELS if getattr(patient, f"{c}_consent")}
    for channel in wanted:
        _set_consent(patient, channel, (False, None, ""))
    with transaction.atomic():
        for attempt in range(MRN_ATTEMPTS):
            try:
                with transaction.atomic():
                    patient.save(force_insert=True)
                break
            except IntegrityError:
                if mrn is not None:
                    raise ValidationError({"mrn": f"MRN {mrn} is taken."}) from None
                if Patient.objects.filter(mrn=patient.mrn).exists() and attempt < MRN_ATTEMPTS - 1:
                    patient.mrn = mrn_generate()
                    continue
                raise
        _consent_apply(patient=patient, wanted=wanted, by=by, source=consent_source)
    return patient


# Fields staff may change after registration; the MRN never changes.
PATIENT_UPDATABLE_FIELDS = frozenset(f.name for f in Patient._meta.concrete_fields) - {
    "id",
    "mrn",
    "created_at",
    "updated_at",
}


@transaction.atomic
def patient_update(*, patient: Patient, by: Actor = None, consent_source: str = "staff", **fields: Any) -> Patient:
    """Change a patient's record; validates every field, and the MRN stays as generated.

    A consent granted or revoked here goes through consent_change (a ConsentEvent with BY and
    CONSENT_SOURCE); correcting the time or method of a standing consent is a plain (audited) write.
    """
    unknown = sorted(set(fields) - PATIENT_UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    before = {c: _consent_values(locked, c) for c in CONSENT_CHANNELS}
    for name, value in fields.items():
        setattr(locked, name, value)
    _stamp_consent(locked)
    locked.full_clean()
    wanted = {}
    for channel in CONSENT_CHANNELS:
        if getattr(locked, f"{channel}_consent") != before[channel][0]:
            wanted[channel] = _consent_values(locked, channel)
            _set_consent(locked, channel, before[channel])
    locked.save()
    _consent_apply(patient=locked, wanted=wanted, by=by, source=consent_source)
    return locked
