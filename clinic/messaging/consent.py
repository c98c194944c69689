"""Consent per channel: the one place that changes it, and the rule for whether we may send."""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from clinic.accounts.actors import Actor
from clinic.clock import phone_text
from clinic.messaging.models import Channel, ConsentEvent, InboundMessage
from clinic.models import Patient
from clinic.sweeps import among

_METHOD_FOR_SOURCE: dict[str, str] = {
    ConsentEvent.Source.REPLY: Patient.ConsentMethod.REPLY,
    ConsentEvent.Source.FORM: Patient.ConsentMethod.WEB_FORM,
    ConsentEvent.Source.STAFF: Patient.ConsentMethod.VERBAL,
}


def consent_change(
    *,
    patient: Patient,
    channel: str,
    granted: bool,
    source: str,
    by: Actor = None,
    at: dt.datetime | None = None,
    method: str | None = None,
    inbound: InboundMessage | None = None,
) -> bool:
    """Set the patient's consent for CHANNEL and log it; return False if it already was so.

    METHOD overrides how a grant is recorded on the patient (e.g. "written" for a signed form
    entered by staff); by default it follows SOURCE.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}."})
    if source not in ConsentEvent.Source.values:
        raise ValidationError({"source": f"Unknown consent source {source!r}."})
    at = at or timezone.now()
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if getattr(locked, f"{channel}_consent") == granted:
            return False
        fields = {
            f"{channel}_consent": granted,
            f"{channel}_consent_at": at if granted else None,
            f"{channel}_consent_method": (method or _METHOD_FOR_SOURCE[source]) if granted else "",
        }
        Patient.objects.filter(pk=patient.pk).update(updated_at=timezone.now(), **fields)
        ConsentEvent.objects.create(
            patient=patient, channel=channel, granted=granted, source=source, by=by, at=at, inbound=inbound
        )
    for name, value in fields.items():
        setattr(patient, name, value)
    return True


def skip_reason(*, patient: Patient, channel: str, automated: bool = True, opted_out: bool | None = None) -> str:
    """Return why a message on CHANNEL may not go to PATIENT now, or "" when it may.

    OPTED_OUT: whether the consent log holds a withdrawal for CHANNEL, when the caller looked it up for
    a batch (`opt_outs_find`); None looks it up here.
    """
    if patient.status != Patient.Status.ACTIVE:
        return f"patient is {patient.get_status_display().lower()}"
    if channel == Channel.SMS and not _has_mobile(patient):
        return "no mobile phone number"
    if channel == Channel.EMAIL and not patient.email:
        return "no email address"
    if not automated:
        return ""
    if not getattr(patient, f"{channel}_consent"):
        if opted_out is None:
            opted_out = ConsentEvent.objects.filter(patient=patient, channel=channel, granted=False).exists()
        return f"opted out of {channel}" if opted_out else f"no {channel} consent"
    if patient.preferred_channel == Patient.Channel.NONE:
        return "patient wants no automated messages"
    return ""


def opt_outs_find(*, patient_ids: Iterable[int]) -> set[tuple[int, str]]:
    """Return the (patient id, channel) pairs whose consent log holds a withdrawal, for a batch of patients."""
    pairs = ConsentEvent.objects.filter(among("patient_id", patient_ids), granted=False).values_list(
        "patient_id", "channel"
    )
    return set(pairs.distinct())


_PREFERRED_CHANNELS: dict[str, tuple[str, ...]] = {
    Patient.Channel.SMS: (Channel.SMS,),
    Patient.Channel.EMAIL: (Channel.EMAIL,),
    Patient.Channel.BOTH: (Channel.SMS, Channel.EMAIL),
}


def patient_channels(patient: Patient) -> list[str]:
    """Return the channels the patient prefers automated messages on (consent is checked later)."""
    return list(_PREFERRED_CHANNELS.get(patient.preferred_channel, ()))


def channels_allowed(patient: Patient, *, opted_out: set[tuple[int, str]]) -> tuple[list[str], list[str]]:
    """Return (the channels an automated message may use now, the reasons for the others) for PATIENT.

    OPTED_OUT: `opt_outs_find` for the caller's batch. The sweeps (follow-ups, reminders) record the reasons.
    """
    if patient.status != Patient.Status.ACTIVE:
        return [], [f"patient is {patient.get_status_display().lower()}"]
    channels = patient_channels(patient)
    if not channels:
        return [], ["patient wants no automated messages"]
    allowed, reasons = [], []
    for channel in channels:
        reason = skip_reason(patient=patient, channel=channel, opted_out=(patient.pk, channel) in opted_out)
        if reason:
            reasons.append(f"{channel}: {reason}")
        else:
            allowed.append(channel)
    return allowed, reasons


def _has_mobile(patient: Patient) -> bool:
    """Return bool(patient.mobile_phone) without formatting it: a stored number keeps its raw input, and
    formatting validates the number against every region (the costly part of a sweep's decision)."""
    phone = patient.mobile_phone
    if not isinstance(phone, PhoneNumber):
        return bool(phone)
    return bool(phone.raw_input) or phone.is_valid()


def recipient_for(*, patient: Patient, channel: str) -> str:
    """Return the patient's address on CHANNEL ("" when there is none)."""
    if channel == Channel.SMS:
        return phone_text(patient.mobile_phone)
    return patient.email or ""
