"""Celery tasks of treatment plans: thin wrappers that take ids and call tpi.plans.

Imported by TpiConfig.ready(): autodiscovery only imports `tpi.tasks`, which belongs to the follow-ups.
"""

from celery import shared_task

from tpi import plans
from tpi.models import TreatmentPlan


@shared_task(name="tpi.plans_book_due")
def plans_book_due_task() -> None:
    """Beat, daily: book every active plan's occurrences within the horizon."""
    plans.plans_book_due()


@shared_task(name="tpi.plan_book_next")
def plan_book_next_task(plan_id: int) -> None:
    """Book the plan's next open occurrence now (a BOOK reply asked for it)."""
    plan = TreatmentPlan.objects.filter(pk=plan_id).first()
    if plan is not None:
        plans.plan_book_next(plan=plan)
