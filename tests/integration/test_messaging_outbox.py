"""The outbox against real PostgreSQL, Redis and Celery worker processes, Twilio being a local stub.

Each test starts its own stub (counting the sends it accepted) and its own workers pointed at it.
"""

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections
from django.utils import timezone

from clinic.messaging.models import Message
from clinic.messaging.outbox import message_queue, messages_sweep
from clinic.messaging.tasks import message_deliver_task, messages_sweep_task
from tests.celery_worker import ROOT, BeatProcess, database_url_for_tests, purge_broker, wait_until
from tests.factories import PatientFactory
from tests.twilio_stub import ACCOUNT_SID, AUTH_TOKEN, TwilioStub

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
FINAL = ("sent", "delivered", "failed", "skipped")
UNREACHABLE_BROKER = "redis://127.0.0.1:6390/0"  # nothing listens there


def daytime_zone() -> str:
    """Return a time zone where it is now mid-day, so quiet hours never delay these tests."""
    now = timezone.now()
    for name in ("UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Pacific/Auckland", "America/New_York",
                 "America/Chicago", "America/Los_Angeles", "Pacific/Honolulu", "America/Sao_Paulo"):  # fmt: skip
        if 10 <= now.astimezone(ZoneInfo(name)).hour < 18:
            return name
    raise AssertionError("no daytime zone found")


def worker_env(stub: TwilioStub, **extra: str) -> dict[str, str]:
    """Return a worker's environment pointing its Twilio backend at STUB."""
    return {
        "SMS_BACKEND": "clinic.messaging.backends.twilio.SmsBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": stub.url,
        "TWILIO_HTTP_TIMEOUT_SECONDS": "30",
        **extra,
    }


def queue_check_in(patient, key: str) -> Message:
    return message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={},
                         source_key=key)  # fmt: skip


def status_of(message: Message) -> str:
    return Message.objects.get(pk=message.pk).status


def test_two_concurrent_deliveries_and_two_sweeps_send_once(twilio_stub, celery_workers):
    twilio_stub.default_delay = 1.0  # both workers are inside message_deliver at the same time
    celery_workers(concurrency=2, env=worker_env(twilio_stub))
    patient = PatientFactory(time_zone=daytime_zone())
    message = queue_check_in(patient, "followup:1:check_in")  # autocommit: enqueued at once
    message_deliver_task.delay(message.pk)
    message_deliver_task.delay(message.pk)

    def sweep():
        try:
            messages_sweep()
        finally:
            close_old_connections()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until(lambda: status_of(message) in FINAL, timeout=60, message="the message to be sent")
    # Give any duplicate task time to run (it must find the message already taken).
    time.sleep(2)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert twilio_stub.accepted == 1
    assert message.provider_message_id == twilio_stub.messages[0].sid
    assert list(message.events.values_list("to_status", flat=True)) == ["queued", "sending", "sent"]


def test_sigkill_during_send_then_restart_never_sends_twice(twilio_stub, celery_workers):
    """The worker dies while Twilio holds the request: reconciled as sent, never resent."""
    twilio_stub.default_delay = 8.0
    env = worker_env(twilio_stub, MESSAGING_SENDING_TIMEOUT_SECONDS="3")
    first = celery_workers(env=env)
    patient = PatientFactory(time_zone=daytime_zone())
    message = queue_check_in(patient, "followup:2:check_in")
    wait_until(lambda: twilio_stub.accepted == 1, timeout=60, message="the send to reach the stub")
    assert status_of(message) == "sending"
    first.kill()
    twilio_stub.default_delay = 0.0
    celery_workers(env=env)

    def settled():
        messages_sweep_task.delay()  # what beat does every minute
        return status_of(message) in FINAL

    wait_until(settled, timeout=90, interval=1.0, message="the message to reach a final state")
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider_message_id == twilio_stub.messages[0].sid
    assert message.attempts == 1
    assert twilio_stub.accepted == 1
    assert list(message.events.values_list("to_status", flat=True)) == ["queued", "sending", "unknown", "sent"]


def test_worker_killed_before_the_provider_got_it_is_sent_once_after_restart(twilio_stub, celery_workers):
    """A claim left in "sending" with nothing at the provider: reconciled, queued again, sent once."""
    env = worker_env(twilio_stub, MESSAGING_SENDING_TIMEOUT_SECONDS="2")
    patient = PatientFactory(time_zone=daytime_zone())
    message = queue_check_in(patient, "followup:3:check_in")  # no worker yet: the task waits in Redis
    purge_broker()  # and is lost with the broker's queue, as a crash between claim and send would lose it
    Message.objects.filter(pk=message.pk).update(
        status="sending", attempts=1, last_attempt_at=timezone.now() - dt.timedelta(seconds=5)
    )
    celery_workers(env=env)

    def settled():
        messages_sweep_task.delay()
        return status_of(message) in FINAL

    wait_until(settled, timeout=90, interval=1.0, message="the message to reach a final state")
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert twilio_stub.accepted == 1


def test_nothing_is_lost_while_the_broker_is_down(twilio_stub, celery_workers):
    """Queue with the broker unreachable: the row stays due and the next sweep sends it."""
    patient = PatientFactory(time_zone=daytime_zone())
    script = (
        "import django; django.setup()\n"
        "from clinic.models import Patient\n"
        "from clinic.messaging.outbox import message_queue\n"
        f"m = message_queue(patient=Patient.objects.get(pk={patient.pk}), channel='sms', purpose='check_in',"
        " template='check_in', context={}, source_key='followup:4:check_in')\n"
        "print('queued', m.pk, m.status)\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": UNREACHABLE_BROKER,
        "CELERY_BROKER_CONNECTION_TIMEOUT": "1",
        "TESTING": "true",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "could not enqueue delivery" in done.stderr
    message = Message.objects.get(source_key="followup:4:check_in")
    assert done.stdout.strip() == f"queued {message.pk} queued"
    assert message.status == "queued"
    assert twilio_stub.accepted == 0
    celery_workers(env=worker_env(twilio_stub))
    assert messages_sweep()["due"] == 1  # the broker is back: the sweep finds the due row
    wait_until(lambda: status_of(message) in FINAL, timeout=60, message="the message to be sent")
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert twilio_stub.accepted == 1


def test_two_beats_sweeping_every_second_send_a_due_message_once(twilio_stub, celery_workers, tmp_path, settings):
    twilio_stub.default_delay = 0.5
    env = worker_env(twilio_stub, MESSAGING_SWEEP_SECONDS="1", CELERY_BROKER_URL=settings.CELERY_BROKER_URL)
    celery_workers(concurrency=2, env=env)
    beats = [BeatProcess(tmp_path, f"beat{i}", env).start() for i in range(2)]
    try:
        patient = PatientFactory(time_zone=daytime_zone())
        soon = timezone.now() + dt.timedelta(seconds=3)
        message = message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={},
                                source_key="followup:5:check_in", send_after=soon)  # fmt: skip
        assert message.status == "queued"  # not enqueued: only the beats' sweeps will find it
        wait_until(lambda: status_of(message) in FINAL, timeout=90, message="a beat-driven sweep to send it")
        time.sleep(3)  # more sweeps from both beats run meanwhile
    finally:
        for beat in beats:
            beat.stop()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert twilio_stub.accepted == 1
    assert all("Sending due task messaging-sweep" in beat.log_path.read_text() for beat in beats)


def test_a_batch_published_once_is_spread_by_a_worker_and_each_message_sent_once(twilio_stub, celery_workers):
    """More messages than one delivery task takes: the batch goes to the broker as one task, a worker publishes
    the chunks, and every message reaches the provider exactly once (the stub counts what it accepted)."""
    from django.conf import settings

    from clinic.messaging.publish import deliveries_publish

    worker = celery_workers(concurrency=2, env=worker_env(twilio_stub))
    zone = daytime_zone()
    count = settings.MESSAGING_DELIVER_CHUNK * 2 + 3  # three chunks
    patients = [PatientFactory(time_zone=zone) for _ in range(count)]
    messages = Message.objects.bulk_create(  # stored without publishing, as a sweep's batch is
        Message(
            patient=p,
            channel="sms",
            recipient=str(p.mobile_phone),
            body="Checking in.",
            template="check_in",
            purpose="check_in",
            next_attempt_at=timezone.now(),
        )
        for p in patients
    )
    ids = [m.pk for m in messages]
    deliveries_publish(ids)
    wait_until(lambda: Message.objects.filter(pk__in=ids, status__in=FINAL).count() == count, timeout=90,
               interval=0.5, message="every message of the batch to be sent")  # fmt: skip
    assert set(Message.objects.filter(pk__in=ids).values_list("status", "attempts")) == {("sent", 1)}
    assert twilio_stub.accepted == count
    assert sorted(m.to for m in twilio_stub.messages) == sorted(m.recipient for m in messages)
    log = worker.log()
    assert (log.count("Task messaging.deliveries_publish["), log.count("Task messaging.messages_deliver[")) == (2, 6)
