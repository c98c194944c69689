"""A real worker on Redis and PostgreSQL runs the plan booking tasks from the broker."""

import datetime as dt

import pytest
from django.utils import timezone

from clinic.messaging.models import Message
from scheduling.clock import local_date, local_datetime
from tests.celery_worker import wait_until
from tests.factories import (
    AppointmentTypeFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
    working_week,
)
from tpi.models import PlanOccurrence
from tpi.plan_tasks import plan_book_next_task, plans_book_due_task
from tpi.plans import plan_create

pytestmark = pytest.mark.slow


def _plan(start_date: dt.date, injections: int = 2):
    doctor = working_week(ProviderFactory())
    RoomFactory(name="Room 1")
    AppointmentTypeFactory(code="tpi", name="TPI procedure", buffer_after_minutes=10)
    return plan_create(
        patient=PatientFactory(), by=UserFactory(), provider=doctor, start_date=start_date,
        preferred_time=dt.time(10), interval_weeks=4, injections=injections,
    )  # fmt: skip


def _booked(plan, count):
    occurrences = list(PlanOccurrence.objects.filter(plan=plan, status="booked").select_related("appointment"))
    return occurrences if len(occurrences) == count else None


def test_the_daily_task_books_from_the_broker(celery_worker):
    start = local_date(timezone.now()) + dt.timedelta(days=3)
    plan = _plan(start)  # second injection 4 weeks later, inside the 42-day horizon

    plans_book_due_task.delay()

    booked = wait_until(lambda: _booked(plan, 2), timeout=60, message="the worker to book both injections")
    assert sorted(o.appointment.start for o in booked) == [
        local_datetime(start, dt.time(10)),
        local_datetime(start + dt.timedelta(weeks=4), dt.time(10)),
    ]
    assert Message.objects.filter(patient=plan.patient, template="appointment_booked").count() == 2


def test_the_book_task_books_the_next_injection_from_the_broker(celery_worker):
    start = local_date(timezone.now()) + dt.timedelta(days=90)  # beyond the horizon
    plan = _plan(start)

    plan_book_next_task.delay(plan.pk)

    booked = wait_until(lambda: _booked(plan, 1), timeout=60, message="the worker to book the next injection")
    assert booked[0].sequence == 1
    assert booked[0].appointment.start == local_datetime(start, dt.time(10))
    assert PlanOccurrence.objects.get(plan=plan, sequence=2).status == "planned"
