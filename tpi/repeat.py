"""The providers' "consider repeat" list: relief has worn off and nothing is planned for the patient.

A signed procedure is on the list when its one-month answer (the last answer a procedure gets) is
back at or above `TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT` of the score before (`tpi.outcomes.worn_off`,
the same rule as relief duration), that answer came within `TPI_OUTCOMES_REPEAT_LOOKBACK_DAYS`, and
the patient has nothing ahead: no later procedure, no visit from now on that still holds its time,
and no active treatment plan with an injection left to book. One query, whatever the table size.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from clinic.accounts.actors import AnyUser
from scheduling.models import Appointment
from tpi.models import PlanOccurrence, Procedure, TreatmentPlan
from tpi.outcome_stats import results_see_all
from tpi.outcomes import with_outcomes, worn_off


def repeat_candidates(*, user: AnyUser | None, now: dt.datetime) -> QuerySet[Procedure]:
    """Return the procedures USER should consider repeating (their own, or all with view_all_outcomes)."""
    later_procedure = Procedure.objects.filter(
        patient_id=OuterRef("patient_id"), performed_at__gt=OuterRef("performed_at")
    ).exclude(status=Procedure.Status.VOIDED)
    visit_ahead = Appointment.objects.filter(patient_id=OuterRef("patient_id"), start__gte=now).exclude(
        status__in=Appointment.INACTIVE_STATUSES
    )
    plan_ahead = PlanOccurrence.objects.filter(
        plan__patient_id=OuterRef("patient_id"),
        plan__status=TreatmentPlan.Status.ACTIVE,
        status__in=PlanOccurrence.OPEN_STATUSES,
    )
    since = now - dt.timedelta(days=settings.TPI_OUTCOMES_REPEAT_LOOKBACK_DAYS)
    queryset = with_outcomes(Procedure.objects.filter(status=Procedure.Status.SIGNED)).filter(
        Q(worn_off(F("reassessment__answer_pain_score"))), Q(reassessment_at__gte=since)
    )
    if not results_see_all(user):
        queryset = queryset.filter(provider__user_id=getattr(user, "pk", None) or 0)
    return (
        queryset.filter(~Exists(later_procedure), ~Exists(visit_ahead), ~Exists(plan_ahead))
        .select_related("patient", "provider__user")
        .order_by("-reassessment_at", "-id")
    )
