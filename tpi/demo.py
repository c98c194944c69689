"""Demo data for tpi: a signed procedure (three injections, a massage note) and a treatment plan. Idempotent."""

from datetime import time, timedelta
from decimal import Decimal

from django.utils import timezone

from clinic.models import Patient, Provider
from tpi.massage import massage_note_create, massage_note_sign
from tpi.models import Procedure, StockLot, TreatmentPlan, TriggerPointSite
from tpi.plans import plan_book_due, plan_create
from tpi.procedures import procedure_create
from tpi.signing import procedure_sign

DEMO_INDICATION = "Myofascial pain of the left neck and shoulder girdle (demo)"


# The clinic's stocked anaesthetic lots (quick picks): two current, one expired.
DEMO_STOCK = [
    ("lidocaine", Decimal("1.00"), "LIDO-2026-114", 400),
    ("bupivacaine", Decimal("0.25"), "BUPI-2026-031", 200),
    ("lidocaine", Decimal("1.00"), "LIDO-2025-870", -30),
]


def seed() -> None:
    today = timezone.localdate()
    for agent, strength, lot, days in DEMO_STOCK:
        StockLot.objects.get_or_create(
            agent=agent,
            lot_number=lot,
            defaults={"concentration_percent": strength, "expires_on": today + timedelta(days=days)},
        )
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
