"""Demo data for tpi: a signed procedure (three injections, a massage note), a treatment plan and an urgent reply
about the procedure in the triage inbox. Idempotent."""

from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from clinic.clock import staff_datetime
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import TriageItem
from clinic.messaging.triage import triage_open
from clinic.models import Patient, Provider
from tpi.massage import massage_note_create, massage_note_sign
from tpi.models import FollowUp, Procedure, TreatmentPlan, TriggerPointSite
from tpi.plans import plan_book_due, plan_create
from tpi.procedures import procedure_create
from tpi.signing import procedure_sign

DEMO_INDICATION = "Myofascial pain of the left neck and shoulder girdle (demo)"


def seed() -> None:
    drlee = Provider.objects.select_related("user").get(user__username="drlee")
    pasi = Provider.objects.get(user__username="pasi")
    patient = Patient.objects.get(legal_first_name="Jordan", legal_last_name="Rivera")
    if not Procedure.objects.filter(patient=patient, indication=DEMO_INDICATION).exists():
        _signed_procedure(drlee, pasi, patient)
    if not TreatmentPlan.objects.filter(patient=patient).exists():
        # Relief may last about a month: three more injections, every four weeks, at 10:00.
        start = timezone.localdate() + timedelta(days=27)
        plan = plan_create(
            patient=patient, by=drlee.user, provider=drlee, start_date=start, preferred_time=time(10),
            interval_weeks=4, injections=3,
        )  # fmt: skip
        plan_book_due(plan=plan)
    _triage(patient)


def _triage(patient: Patient) -> None:
    """An urgent reply in the triage inbox, linked to yesterday's procedure and its check-in."""
    inbound, created = inbound_sms_receive(
        provider_message_id="SMdemo00000000000000000000000004", from_number=str(patient.mobile_phone),
        body="Some bleeding at the injection site since this morning",
    )  # fmt: skip
    procedure = Procedure.objects.filter(patient=patient, indication=DEMO_INDICATION).first()
    if not created or procedure is None:
        return
    check_in = procedure.follow_ups.filter(kind=FollowUp.Kind.CHECK_IN).first()
    triage_open(
        patient=patient, reason=TriageItem.Reason.SYMPTOM, urgency=TriageItem.Urgency.URGENT, inbound=inbound,
        concerns=procedure, concerns_label=f"TPI procedure {staff_datetime(procedure.performed_at)}",
        answers=check_in, answers_label="72-hour check-in" if check_in else "",
    )  # fmt: skip


def _signed_procedure(drlee: Provider, pasi: Provider, patient: Patient) -> None:
    site = {s.name: s for s in TriggerPointSite.objects.all()}
    performed_at = timezone.now() - timedelta(days=1)
    lidocaine = {
        "anaesthetic_agent": "lidocaine",
        "anaesthetic_concentration_percent": Decimal("1.00"),
        "needle_gauge": 25,
        "lot_number": "LIDO-2026-114",
    }
    procedure = procedure_create(
        by=drlee.user,
        patient=patient,
        provider=drlee,
        performed_at=performed_at,
        indication=DEMO_INDICATION,
        indication_icd10="M79.18",
        pain_before=7,
        pain_after=3,
        consent_obtained=True,
        consent_obtained_at=performed_at - timedelta(minutes=10),
        guidance="landmark",
        injections=[
            {
                "site": site["Upper trapezius"],
                "laterality": "left",
                **lidocaine,
                "anaesthetic_volume_ml": Decimal("2.00"),
                "steroid_agent": "triamcinolone",
                "steroid_dose_mg": Decimal("10.00"),
            },
            {
                "site": site["Levator scapulae"],
                "laterality": "left",
                **lidocaine,
                "anaesthetic_volume_ml": Decimal("1.50"),
            },
            {"site": site["Rhomboids"], "laterality": "left", **lidocaine, "anaesthetic_volume_ml": Decimal("1.50")},
        ],
    )
    note = massage_note_create(
        procedure=procedure,
        therapist=pasi,
        performed_at=performed_at + timedelta(minutes=15),
        sites=[site["Upper trapezius"], site["Levator scapulae"], site["Rhomboids"]],
        duration_minutes=10,
        technique="effleurage",
        tolerance="good",
        notes="Spread the medication over the treated muscles; patient relaxed.",
    )
    procedure_sign(procedure=procedure, by=drlee.user)
    massage_note_sign(note=note, by=pasi.user)
