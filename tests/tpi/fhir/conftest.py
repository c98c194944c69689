"""A patient's chart for the FHIR tests: two signed procedures (one bilateral with a steroid), pain-score
replies by SMS, appointments, consent changes and a sent message; plus another provider's procedure."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

import pytest
import time_machine
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic import roles
from clinic.messaging.consent import consent_change
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message
from clinic.models import Patient, Provider
from scheduling.booking import appointment_book, appointment_status_set
from scheduling.models import Appointment
from tests.factories import (
    AppointmentTypeFactory,
    InjectionFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    site,
    staff_user,
    working_week,
)
from tpi.models import FollowUp, Procedure
from tpi.signing import procedure_sign

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)  # 10:00 in the clinic (America/New_York, EDT from 8 March)
SIDS = count(1)


@dataclass
class Chart:
    patient: Patient
    doctor: Provider
    other_doctor: Provider
    first: Procedure
    second: Procedure
    stranger: Procedure  # the other doctor's procedure for the same patient
    appointments: list[Appointment]
    message: Message
    users: dict


def _procedure(*, doctor, patient, performed_at, bilateral_steroid: int) -> Procedure:
    with time_machine.travel(performed_at + dt.timedelta(minutes=30), tick=False):
        trapezius = site("Upper trapezius")
        trapezius.snomed_code = "244846005"
        trapezius.save(update_fields=["snomed_code"])
        first = InjectionFactory(
            procedure__patient=patient, procedure__provider=doctor, procedure__performed_at=performed_at,
            site=trapezius, laterality="bilateral" if bilateral_steroid else "left",
            steroid_agent="triamcinolone" if bilateral_steroid else "",
            steroid_dose_mg=Decimal("10.00") if bilateral_steroid else None,
        )  # fmt: skip
        InjectionFactory(procedure=first.procedure, site=site("Levator scapulae"), laterality="right")
        return procedure_sign(procedure=first.procedure, by=doctor.user)


def _answer(procedure: Procedure, *, score: int, at: dt.datetime) -> FollowUp:
    follow_up = procedure.follow_ups.get(kind="check_in")
    FollowUp.objects.filter(pk=follow_up.pk).update(status="sent", sent_at=at - dt.timedelta(hours=1))
    with time_machine.travel(at, tick=False):
        inbound_sms_receive(
            provider_message_id=f"SM{next(SIDS):032d}", from_number=str(procedure.patient.mobile_phone), body=str(score)
        )
    follow_up.refresh_from_db()
    assert follow_up.answer_pain_score == score
    return follow_up


@pytest.fixture
def chart(db) -> Chart:
    users = {role: staff_user(role) for role in (roles.FRONT_DESK, roles.CLINIC_ADMIN)}
    with time_machine.travel(NOW - dt.timedelta(days=40), tick=False):
        doctor = working_week(ProviderFactory(npi="1234567893"))
        other_doctor = ProviderFactory()
        therapist = ProviderFactory(role="massage_therapist", credentials="LMT")
        patient = PatientFactory(legal_first_name="Ana", legal_last_name="Ruiz", preferred_name="Annie")
    users |= {roles.PROVIDER: doctor.user, roles.MASSAGE_THERAPIST: therapist.user, "other": other_doctor.user}
    first = _procedure(doctor=doctor, patient=patient, performed_at=NOW - dt.timedelta(days=30), bilateral_steroid=1)
    _answer(first, score=4, at=NOW - dt.timedelta(days=26, hours=23))
    second = _procedure(doctor=doctor, patient=patient, performed_at=NOW - dt.timedelta(days=5), bilateral_steroid=0)
    _answer(second, score=2, at=NOW - dt.timedelta(days=1, hours=23))
    with time_machine.travel(NOW - dt.timedelta(days=2), tick=False):
        stranger = InjectionFactory(
            procedure__patient=patient, procedure__provider=other_doctor,
            procedure__performed_at=timezone.now() - dt.timedelta(hours=1),
        ).procedure  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        room = RoomFactory()
        visit = AppointmentTypeFactory(code="tpi", name="TPI procedure")
        booked = appointment_book(
            patient=patient, provider=doctor, room=room, appointment_type=visit,
            start=NOW + dt.timedelta(days=7), by=users[roles.FRONT_DESK],
        )  # fmt: skip
        cancelled = appointment_book(
            patient=patient, provider=doctor, room=room, appointment_type=visit,
            start=NOW + dt.timedelta(days=8), by=users[roles.FRONT_DESK],
        )  # fmt: skip
        appointment_status_set(
            appointment=cancelled, status="cancelled", reason="Patient travelling", by=users[roles.FRONT_DESK]
        )
        consent_change(patient=patient, channel="email", granted=False, source="staff", by=users[roles.FRONT_DESK])
        message = Message.objects.create(
            patient=patient, channel="sms", recipient=str(patient.mobile_phone), body="See you on Tuesday.",
            template="appointment_confirmation", purpose="appointment_confirmation", status="sent", sent_at=NOW,
        )  # fmt: skip
    return Chart(
        patient=patient, doctor=doctor, other_doctor=other_doctor, first=first, second=second, stranger=stranger,
        appointments=[booked, cancelled], message=message, users=users,
    )  # fmt: skip


@pytest.fixture
def as_user():
    """Return an API client signed in with USER's token (as an integrator would be)."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    return make
