"""A seeded set of signed procedures with answers, providers, sites, treatments and two locations."""

import datetime as dt
from decimal import Decimal

import time_machine

from scheduling.booking import appointment_book
from tests.factories import (
    AppointmentTypeFactory,
    InjectionFactory,
    LocationFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    site,
    working_week,
)
from tpi.models import FollowUp, Procedure
from tpi.signing import procedure_sign

NOW = dt.datetime(2026, 6, 10, 15, 0, tzinfo=dt.UTC)
FIRST = dt.datetime(2026, 1, 5, 14, 0, tzinfo=dt.UTC)
SITES = ["Upper trapezius", "Levator scapulae", "Rhomboids"]


def outcome_clinic(count: int = 24) -> dict:
    """Seed COUNT signed procedures (every fourth at the North location) and return the cast."""
    doctors = [
        working_week(ProviderFactory(user__first_name="Dana", user__last_name="Lee")),
        working_week(ProviderFactory(user__first_name="Raj", user__last_name="Patel")),
    ]
    north = LocationFactory(name="North")
    room = RoomFactory(name="North 1", location=north)
    visit_type = AppointmentTypeFactory(code="tpi", name="TPI procedure")
    patients = [PatientFactory() for _ in range(6)]
    procedures = []
    for i in range(count):
        performed_at = FIRST + dt.timedelta(days=5 * i)
        doctor, patient = doctors[i % 2], patients[i % 6]
        appointment = None
        if i % 4 == 0:
            with time_machine.travel(performed_at - dt.timedelta(days=2), tick=False):
                appointment = appointment_book(
                    patient=patient, provider=doctor, room=room, appointment_type=visit_type,
                    start=performed_at - dt.timedelta(minutes=30), by=None,
                )  # fmt: skip
        treatment = ["steroid", "anaesthetic", "dry_needling"][i % 3]
        medication = {
            "steroid": {"steroid_agent": "triamcinolone", "steroid_dose_mg": Decimal(10 + 10 * (i % 4))},
            "anaesthetic": {},
            "dry_needling": {
                "dry_needling": True, "anaesthetic_agent": "", "anaesthetic_concentration_percent": None,
                "anaesthetic_volume_ml": None,
            },
        }[treatment]  # fmt: skip
        with time_machine.travel(performed_at + dt.timedelta(hours=1), tick=False):
            first = InjectionFactory(
                procedure__patient=patient, procedure__provider=doctor, procedure__performed_at=performed_at,
                procedure__pain_before=4 + i % 7, procedure__appointment=appointment, site=site(SITES[i % 3]),
                **medication,
            )  # fmt: skip
            procedure = first.procedure
            if i % 2:  # a second site on every other procedure
                InjectionFactory(procedure=procedure, site=site(SITES[(i + 1) % 3]), laterality="right", **medication)
            procedure_sign(procedure=procedure, by=doctor.user)
        answers = {
            "check_in": None if i % 5 == 0 else (i * 3) % 11,
            "reassessment": None if i % 4 == 1 else (i * 7) % 11,
        }
        offsets = {"check_in": dt.timedelta(days=3, hours=i), "reassessment": dt.timedelta(days=30 + i % 9)}
        for kind, score in answers.items():
            sent = i % 6 != 3 or score is not None  # a few never sent (skipped: no consent)
            FollowUp.objects.filter(procedure=procedure, kind=kind).update(
                status="answered" if score is not None else ("sent" if sent else "skipped"),
                sent_at=performed_at + offsets[kind] - dt.timedelta(hours=2) if sent else None,
                answer_pain_score=score,
                answered_at=performed_at + offsets[kind] if score is not None else None,
                answer_method="sms" if score is not None else "",
            )
        procedures.append(procedure)
    return {"doctors": doctors, "patients": patients, "north": north, "procedures": procedures}


def procedure_ids() -> list[int]:
    return list(Procedure.objects.values_list("pk", flat=True))
