"""Demo data for tpi: a signed procedure (three injections, a massage note), a treatment plan, about six
months of signed procedures with answered follow-ups per patient (the charts and results need a history),
and an urgent reply about the procedure in the triage inbox. Idempotent."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from clinic.clock import staff_datetime
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import TriageItem
from clinic.messaging.triage import triage_open
from clinic.models import Patient, Provider
from tpi.massage import massage_note_create, massage_note_sign
from tpi.models import FollowUp, Procedure, StockLot, TreatmentPlan, TriggerPointSite
from tpi.outcome_totals import outcome_totals_refresh
from tpi.plans import plan_book_due, plan_create
from tpi.procedures import procedure_create
from tpi.replies import followup_answer
from tpi.signing import procedure_sign

DEMO_INDICATION = "Myofascial pain of the left neck and shoulder girdle (demo)"
HISTORY_INDICATION = "Myofascial pain, recurring (demo history)"
# Per patient: provider, sites (name, side), treatment, then per visit (pain before, right after, at 72 h,
# at one month; None: not answered). Visits are HISTORY_SPACING apart, the last one HISTORY_LAST_DAYS ago.
HISTORY_SPACING_DAYS = 35
HISTORY_LAST_DAYS = 40
Visit = tuple[int, int, int | None, int | None]
HISTORY: dict[tuple[str, str], tuple[str, list[tuple[str, str]], str, list[Visit]]] = {
    # Helped by anaesthetic with steroid, about a month each time (the plan continues it).
    ("Jordan", "Rivera"): ("drlee", [("Upper trapezius", "left"), ("Levator scapulae", "left")], "steroid",
                           [(8, 4, 3, 5), (7, 3, 2, 6), (7, 3, 3, 4), (6, 2, 2, 5)]),
    # Anaesthetic alone: good at 72 hours, worn off by a month.
    ("Sam", "Okafor"): ("drlee", [("Rhomboids", "right")], "anaesthetic",
                        [(6, 3, 3, 6), (7, 3, 4, 7), (6, 2, 3, 5), (6, 3, 2, None)]),
    # Dry needling, little change: a non-responder.
    ("Alex", "Nguyen"): ("drpatel", [("Upper trapezius", "bilateral")], "dry_needling",
                         [(7, 6, 7, 7), (7, 6, 6, 7), (8, 7, None, 7)]),
    # Substantial with steroid, close together: the steroid total over 90 days is above the threshold.
    ("Maria", "Garcia"): ("drpatel", [("Levator scapulae", "right"), ("Upper trapezius", "right")], "steroid",
                          [(9, 3, 2, 3), (8, 2, 1, 2), (8, 2, 2, 3), (7, 2, 1, 2), (7, 1, 1, 4)]),
    # Relief wore off at the last one-month answer and nothing is booked: on "consider repeat".
    ("Chris", "Baker"): ("drlee", [("Rhomboids", "left")], "anaesthetic",
                         [(7, 3, 3, 5), (8, 3, 4, 7), (7, 3, 3, 7)]),
}  # fmt: skip


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
    _history()
    if not TreatmentPlan.objects.filter(patient=patient).exists():
        # Relief may last about a month: three more injections, every four weeks, at 10:00.
        start = timezone.localdate() + timedelta(days=27)
        plan = plan_create(
            patient=patient, by=drlee.user, provider=drlee, start_date=start, preferred_time=time(10),
            interval_weeks=4, injections=3,
        )  # fmt: skip
        plan_book_due(plan=plan)
    _triage(patient)
    # The results dashboard reads the settled months from stored totals (beat refreshes them too).
    outcome_totals_refresh(now=timezone.now())


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


def _history() -> None:
    """Seed each demo patient's months of signed procedures with answered follow-ups (once)."""
    from clinic.clock import clinic_tz

    providers = {p.user.username: p for p in Provider.objects.select_related("user")}
    sites = {s.name: s for s in TriggerPointSite.objects.all()}
    today = timezone.localdate()
    for (first, last), (username, treated, treatment, visits) in HISTORY.items():
        patient = Patient.objects.filter(legal_first_name=first, legal_last_name=last).first()
        provider = providers.get(username)
        if patient is None or provider is None:
            continue
        if Procedure.objects.filter(patient=patient, indication=HISTORY_INDICATION).exists():
            continue
        for n, (before, after, check_in, reassessment) in enumerate(visits):
            day = today - timedelta(days=HISTORY_LAST_DAYS + HISTORY_SPACING_DAYS * (len(visits) - 1 - n))
            while day.weekday() >= 5:  # a weekday visit
                day -= timedelta(days=1)
            performed_at = datetime.combine(day, time(10, 30), tzinfo=clinic_tz())
            medication = _medication(treatment, dose=Decimal("25.00") if first == "Maria" else Decimal("10.00"))
            procedure = procedure_create(
                by=provider.user, patient=patient, provider=provider, performed_at=performed_at,
                indication=HISTORY_INDICATION, indication_icd10="M79.18", pain_before=before, pain_after=after,
                consent_obtained=True, consent_obtained_at=performed_at - timedelta(minutes=10), guidance="landmark",
                injections=[{"site": sites[name], "laterality": side, **medication} for name, side in treated],
            )  # fmt: skip
            procedure_sign(procedure=procedure, by=provider.user)
            for kind, score, hours in (("check_in", check_in, 5), ("reassessment", reassessment, 26)):
                follow_up = FollowUp.objects.get(procedure=procedure, kind=kind)
                if score is None:  # sent, never answered
                    FollowUp.objects.filter(pk=follow_up.pk).update(status="sent", sent_at=follow_up.due_at)
                    continue
                FollowUp.objects.filter(pk=follow_up.pk).update(status="sent", sent_at=follow_up.due_at)
                followup_answer(follow_up=follow_up, pain_score=score, at=follow_up.due_at + timedelta(hours=hours))


def _medication(treatment: str, *, dose: Decimal) -> dict:
    if treatment == "dry_needling":
        return {"dry_needling": True}
    lidocaine = {
        "anaesthetic_agent": "lidocaine",
        "anaesthetic_concentration_percent": Decimal("1.00"),
        "anaesthetic_volume_ml": Decimal("2.00"),
        "needle_gauge": 25,
        "lot_number": "LIDO-2026-087",
    }
    if treatment == "steroid":
        return {**lidocaine, "steroid_agent": "triamcinolone", "steroid_dose_mg": dose}
    return lidocaine
