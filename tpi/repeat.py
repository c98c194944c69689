"""The providers' "consider repeat" list: relief has worn off and nothing is planned for the patient.

A signed procedure is on the list when its one-month answer (the last answer a procedure gets) is
back at or above `TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT` of the score before (`tpi.outcomes.worn_off`,
the same rule as relief duration), that answer came within `TPI_OUTCOMES_REPEAT_LOOKBACK_DAYS`, and
the patient has nothing ahead: no later procedure, no visit from now on that still holds its time,
and no active treatment plan with an injection left to book. One query, whatever the table size: on
PostgreSQL it reads the latest one-month answers from their partial index (tpi_followup
`followup_reassessment_answered`, newest first) and stops at the page's 200 rows, each patient's checks
by index (a visit ahead: the patient-first no-overlap GiST index, scheduling migration 0014).
The offer to book a repeat by SMS (tpi.repeat_offers) asks the same question (`worn_off_with_nothing_ahead`).
"""

import datetime as dt

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from clinic.accounts.actors import AnyUser
from clinic.models import Patient
from scheduling.models import Appointment
from tpi.models import PlanOccurrence, Procedure, TreatmentPlan
from tpi.outcome_stats import results_see_all
from tpi.outcomes import with_answer, worn_off


def _visits_ahead(now: dt.datetime) -> QuerySet[Appointment]:
    return Appointment.objects.filter(start__gte=now).exclude(status__in=Appointment.INACTIVE_STATUSES)


def _plans_ahead() -> QuerySet[PlanOccurrence]:
    return PlanOccurrence.objects.filter(
        plan__status=TreatmentPlan.Status.ACTIVE, status__in=PlanOccurrence.OPEN_STATUSES
    )


def worn_off_with_nothing_ahead(queryset: QuerySet[Procedure], *, now: dt.datetime) -> QuerySet:
    """Return the signed procedures of QUERYSET whose one-month answer shows the pain back and whose patient has
    nothing ahead (no later procedure, no visit from NOW on, no active plan with an injection left to book),
    annotated with `pain_reassessment` and `reassessment_at` (tpi.outcomes.with_answer)."""
    later_procedure = Procedure.objects.filter(
        patient_id=OuterRef("patient_id"), performed_at__gt=OuterRef("performed_at")
    ).exclude(status=Procedure.Status.VOIDED)
    visit_ahead = _visits_ahead(now).filter(patient_id=OuterRef("patient_id"))
    plan_ahead = _plans_ahead().filter(plan__patient_id=OuterRef("patient_id"))
    return (
        # The one-month answer only (`pain_reassessment`, `reassessment_at`): the list shows nothing else, and
        # each join more costs planning time. The annotation, not "reassessment__...": a lookup through the
        # relation in a new filter() would join the follow-ups a second time.
        with_answer(queryset.filter(status=Procedure.Status.SIGNED), "reassessment")
        .filter(Q(worn_off(F("pain_reassessment"))))
        .filter(~Exists(later_procedure), ~Exists(visit_ahead), ~Exists(plan_ahead))
    )


def patient_has_something_ahead(*, patient: Patient, now: dt.datetime) -> bool:
    """Return True when PATIENT has a visit from NOW on or an active plan with an injection left to book."""
    return _visits_ahead(now).filter(patient=patient).exists() or _plans_ahead().filter(plan__patient=patient).exists()


def repeat_candidates(*, user: AnyUser | None, now: dt.datetime) -> QuerySet[Procedure]:
    """Return the procedures USER should consider repeating (their own, or all with view_all_outcomes)."""
    since = now - dt.timedelta(days=settings.TPI_OUTCOMES_REPEAT_LOOKBACK_DAYS)
    queryset = Procedure.objects.all()
    if not results_see_all(user):
        queryset = queryset.filter(provider__user_id=getattr(user, "pk", None) or 0)
    return (
        worn_off_with_nothing_ahead(queryset, now=now)
        .filter(reassessment_at__gte=since)
        .select_related("patient", "provider__user", "repeat_offer")
        .order_by("-reassessment_at", "-id")
    )
