"""tpi's sections of the right-of-access export (clinic.audit.export): the clinical record."""

from django.db.models import Prefetch

from clinic.audit.export import export_section, model_fields, plain
from clinic.models import Patient
from tpi.models import (
    Addendum,
    FollowUp,
    Injection,
    MassageNote,
    PlanOccurrence,
    Procedure,
    RepeatOffer,
    TreatmentPlan,
)


def _procedures(patient: Patient):
    return Procedure.objects.filter(patient=patient).order_by("performed_at", "id")


@export_section("procedures")
def procedures(patient: Patient) -> list[dict]:
    """Every procedure (drafts, signed and voided) with its injections."""
    rows = _procedures(patient).prefetch_related(Prefetch("injections", queryset=Injection.objects.order_by("id")))
    return [model_fields(p) | {"injections": [model_fields(i) for i in p.injections.all()]} for p in rows]


@export_section("massage_notes")
def massage_notes(patient: Patient) -> list[dict]:
    notes = MassageNote.objects.filter(procedure__patient=patient).prefetch_related("sites").order_by("id")
    return [model_fields(n) | {"sites": sorted(s.pk for s in n.sites.all())} for n in notes]


@export_section("addenda")
def addenda(patient: Patient) -> list[dict]:
    return [model_fields(a) for a in Addendum.objects.filter(procedure__patient=patient).order_by("id")]


@export_section("follow_ups")
def follow_ups(patient: Patient) -> list[dict]:
    return [model_fields(f) for f in FollowUp.objects.filter(procedure__patient=patient).order_by("id")]


@export_section("pain_scores")
def pain_scores(patient: Patient) -> list[dict]:
    """Every pain score, LOINC 72514-3 coded, with when and how it was taken (in clinic, SMS, email)."""
    from tpi.api.outcomes import observation
    from tpi.outcomes import procedure_pain_timeline

    rows = _procedures(patient).prefetch_related("follow_ups")
    return [
        {"procedure": p.pk, **observation(point), "effective": plain(point.at)}
        for p in rows
        for point in procedure_pain_timeline(p)
        if point.score is not None
    ]


@export_section("treatment_plans")
def treatment_plans(patient: Patient) -> list[dict]:
    """Every recurring injection plan with its planned occurrences."""
    plans = TreatmentPlan.objects.filter(patient=patient).order_by("id")
    plans = plans.prefetch_related(Prefetch("occurrences", queryset=PlanOccurrence.objects.order_by("sequence")))
    return [model_fields(p) | {"occurrences": [model_fields(o) for o in p.occurrences.all()]} for p in plans]


@export_section("repeat_offers")
def repeat_offers(patient: Patient) -> list[dict]:
    """Every offer to book a repeat by SMS, with the time offered, the visit booked or the desk's item."""
    return [model_fields(o) for o in RepeatOffer.objects.filter(procedure__patient=patient).order_by("id")]
