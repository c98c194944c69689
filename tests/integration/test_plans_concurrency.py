"""Treatment-plan booking at once from several connections on PostgreSQL: one appointment per occurrence."""

import datetime as dt

import pytest
import time_machine
from django.db import connection

from clinic.messaging.models import Message
from scheduling.models import Appointment
from tests.factories import (
    AppointmentTypeFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
    working_week,
)
from tests.racing import race
from tests.tpi.plan_setup import NOW, at
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plans import plan_book_next, plan_create, plans_book_due

THREADS = 4


@pytest.fixture
def setup(transactional_db, settings):
    settings.TIME_ZONE = "America/New_York"
    settings.SMS_BACKEND = "clinic.messaging.backends.locmem.SmsBackend"
    settings.TPI_PLAN_BOOKING_HORIZON_DAYS = 42
    settings.TPI_PLAN_BOOKING_TOLERANCE_DAYS = 2
    assert connection.vendor == "postgresql"
    with time_machine.travel(NOW, tick=False):
        doctor = working_week(ProviderFactory())
        RoomFactory(name="Room 1")
        AppointmentTypeFactory(code="tpi", name="TPI procedure", buffer_after_minutes=10)
        by = UserFactory()
        plans = [
            plan_create(
                patient=PatientFactory(), by=by, provider=doctor, start_date=dt.date(2026, 3, 3),
                preferred_time=dt.time(10), interval_weeks=1, injections=3,
            )
            for _ in range(3)
        ]  # fmt: skip
        yield plans


def test_daily_runs_at_once_book_each_occurrence_once(setup):
    with time_machine.travel(NOW, tick=False):
        results, failures = race(THREADS, lambda _: plans_book_due())

    assert failures == []
    assert sum(r["booked"] for r in results) == 9
    assert Appointment.objects.count() == 9
    assert PlanOccurrence.objects.filter(status="booked").count() == 9
    assert PlanOccurrence.objects.filter(appointment__isnull=False).values("appointment").distinct().count() == 9
    assert Message.objects.count() == 9  # one confirmation per occurrence
    assert set(TreatmentPlan.objects.values_list("status", flat=True)) == {"completed"}
    # One doctor and one room: the three plans share each Tuesday around 10:00 without overlap.
    first_tuesday = sorted(Appointment.objects.filter(start__date=dt.date(2026, 3, 3)).values_list("start", flat=True))
    assert first_tuesday == [at(2026, 3, 3, 9, 15), at(2026, 3, 3, 10), at(2026, 3, 3, 10, 45)]


def test_book_requests_at_once_book_consecutive_occurrences(setup):
    plan = setup[0]

    with time_machine.travel(NOW, tick=False):
        results, failures = race(THREADS, lambda _: plan_book_next(plan=plan))

    assert failures == []
    booked = [r for r in results if r is not None]
    assert sorted(o.sequence for o in booked) == [1, 2, 3]  # the fourth found nothing left to book
    assert Appointment.objects.filter(patient=plan.patient).count() == 3
    assert Message.objects.filter(patient=plan.patient).count() == 3
