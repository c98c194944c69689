"""Appointment reminders end to end on real PostgreSQL, Redis, Celery worker and beat processes; Twilio is a stub.

Two sweeps in this process and two beats (each sweeping every second) race for the same due reminders:
the stub, which counts what a real provider would have delivered, receives each reminder once.
"""

import collections
import datetime as dt
import threading
import time

import pytest
from django.db import close_old_connections
from django.utils import timezone

from clinic.messaging.models import Message
from scheduling.booking import appointment_book, appointment_move
from scheduling.models import AppointmentReminder
from scheduling.reminder_sweep import reminders_sweep
from tests.celery_worker import BeatProcess, wait_until
from tests.factories import (
    AppointmentTypeFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
)
from tests.integration.test_messaging_outbox import FINAL, daytime_zone, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def visits():
    """Book four visits two days ahead (patients where it is day now), then let their reminders fall due."""
    admin = UserFactory(is_superuser=True)  # books outside any working hours: the clock is wherever CI runs
    provider = ProviderFactory()
    visit_type = AppointmentTypeFactory(code="tpi", name="TPI procedure")
    room = RoomFactory(name="Room 1")
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    booked = []
    for hour in range(4):
        patient = PatientFactory(time_zone=daytime_zone())
        appointment = appointment_book(
            patient=patient, provider=provider, room=room, appointment_type=visit_type,
            start=start + dt.timedelta(hours=hour), by=admin, override_hours=True,
        )  # fmt: skip
        booked.append(appointment)
    appointment_move(appointment=booked[3], start=start + dt.timedelta(hours=5), by=admin, override_hours=True)
    return booked


def two_days_pass():
    """Make the scheduled reminders due (time cannot be frozen across processes); the moved visit's old one stays
    withdrawn."""
    AppointmentReminder.objects.filter(status="scheduled").update(due_at=timezone.now() - dt.timedelta(seconds=30))


def reminder_messages():
    return Message.objects.filter(purpose="appointment_reminder")


def test_two_sweeps_and_two_beats_at_once_send_each_reminder_once(
    visits, twilio_stub, celery_workers, tmp_path, settings
):
    twilio_stub.default_delay = 0.3
    env = worker_env(
        twilio_stub,
        SCHEDULING_REMINDER_SWEEP_SECONDS="1",
        MESSAGING_SWEEP_SECONDS="1",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
    )
    celery_workers(concurrency=2, env=env)
    beats = [BeatProcess(tmp_path, f"beat{i}", env).start() for i in range(2)]
    try:
        wait_until(
            lambda: all("Sending due task scheduling-reminders-sweep" in b.log_path.read_text() for b in beats),
            timeout=90,
            message="both beats to sweep every second",
        )
        two_days_pass()  # the beats' sweeps and the two below race for the same rows

        def sweep():
            try:
                reminders_sweep()
            finally:
                close_old_connections()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        def all_sent():
            statuses = list(reminder_messages().values_list("status", flat=True))
            return len(statuses) == 4 and all(s in FINAL for s in statuses)

        wait_until(all_sent, timeout=90, message="every reminder's SMS to be sent")
        time.sleep(3)  # more sweeps from both beats run meanwhile
    finally:
        for beat in beats:
            beat.stop()

    reminders_sent = collections.Counter(m.to for m in twilio_stub.messages if "reminder of your visit" in m.body)
    assert dict(reminders_sent) == {str(a.patient.mobile_phone): 1 for a in visits}
    moved = visits[3]
    moved.refresh_from_db()
    assert list(
        AppointmentReminder.objects.filter(appointment=moved).order_by("id").values_list("for_start", "status")
    ) == [(moved.start - dt.timedelta(hours=2), "cancelled"), (moved.start, "sent")]
    assert set(AppointmentReminder.objects.exclude(appointment=moved).values_list("status", flat=True)) == {"sent"}
    assert sorted(reminder_messages().values_list("status", "attempts")) == [("sent", 1)] * 4
