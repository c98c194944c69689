import datetime as dt

import pytest

from clinic.celery import app as celery_app
from clinic.messaging.backends import SendError, locmem
from clinic.messaging.models import Message
from clinic.messaging.outbox import message_deliver, message_queue, message_reconcile, messages_sweep
from clinic.messaging.tasks import messages_sweep_task
from tests.clinic.messaging.conftest import NOON_NY
from tests.factories import PatientFactory
from tests.twilio_stub import Scripted

pytestmark = pytest.mark.django_db
TIMEOUT = dt.timedelta(seconds=300)


def queued(**kwargs):
    return message_queue(patient=PatientFactory(), channel="sms", purpose="check_in", template="check_in",
                         context={}, **kwargs)  # fmt: skip


def test_beat_runs_the_sweep_every_minute():
    entry = celery_app.conf.beat_schedule["messaging-sweep"]
    assert entry == {"task": "messaging.messages_sweep", "schedule": 60}


def test_sweep_enqueues_due_messages_after_commit(sms_outbox, noon, django_capture_on_commit_callbacks):
    due = queued()
    later = queued(send_after=NOON_NY + dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        counts = messages_sweep()
    assert counts == {"stale": 0, "reconcile": 0, "due": 1}
    assert Message.objects.get(pk=due.pk).status == "sent"
    assert Message.objects.get(pk=later.pk).status == "queued"
    noon.move_to(NOON_NY + dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        messages_sweep_task.delay()
    assert Message.objects.get(pk=later.pk).status == "sent"
    assert len(sms_outbox) == 2


def test_sweep_twice_still_sends_once(sms_outbox, noon, django_capture_on_commit_callbacks):
    message = queued()
    with django_capture_on_commit_callbacks(execute=True):
        messages_sweep()
        messages_sweep()
    assert Message.objects.get(pk=message.pk).attempts == 1
    assert len(sms_outbox) == 1


def test_stuck_sending_becomes_unknown_then_reconciled_as_sent(twilio_stub, noon, django_capture_on_commit_callbacks):
    """The worker died after Twilio accepted the message: reconcile finds it, nothing is resent."""
    message = queued()
    twilio_stub.script.append(Scripted(delay=3))  # longer than the 2 s HTTP timeout
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "unknown"
    assert twilio_stub.accepted == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep()["reconcile"] == 0  # the request may still be in flight: wait
    noon.move_to(NOON_NY + TIMEOUT)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep() == {"stale": 0, "reconcile": 1, "due": 0}
    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == ("sent", twilio_stub.messages[0].sid)
    assert twilio_stub.accepted == 1
    assert message.events.last().detail.startswith("reconciled: the provider has it as SM")


def test_worker_lost_mid_send_not_at_provider_is_sent_again_once(twilio_stub, noon, django_capture_on_commit_callbacks):
    message = queued()
    # What a killed worker leaves behind: claimed (sending), the provider never got the request.
    Message.objects.filter(pk=message.pk).update(status="sending", attempts=1, last_attempt_at=NOON_NY)
    with django_capture_on_commit_callbacks(execute=True):
        assert messages_sweep()["stale"] == 0
    noon.move_to(NOON_NY + TIMEOUT)
    with django_capture_on_commit_callbacks(execute=True):
        counts = messages_sweep()
    assert counts == {"stale": 1, "reconcile": 1, "due": 1}  # requeued, then enqueued (delivery claims once)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert twilio_stub.accepted == 1
    assert list(message.events.values_list("to_status", flat=True)) == [
        "queued", "unknown", "queued", "sending", "sent",
    ]  # fmt: skip


def test_unknown_with_a_backend_that_cannot_look_up_goes_to_staff(settings, noon):
    settings.SMS_BACKEND = "clinic.messaging.backends.console.SmsBackend"
    message = queued()
    Message.objects.filter(pk=message.pk).update(status="unknown", attempts=1, last_attempt_at=NOON_NY)
    noon.move_to(NOON_NY + TIMEOUT)
    messages_sweep()
    message.refresh_from_db()
    assert (message.status, message.needs_review) == ("unknown", True)
    assert message.reason == (
        "outcome unknown; the SMS backend cannot be asked whether it took the message: staff must check and resolve"
    )
    assert messages_sweep()["reconcile"] == 0  # handed over: the sweep leaves it alone


def test_reconcile_when_the_provider_cannot_be_asked_tries_again_later(twilio_stub, noon, settings):
    message = queued()
    Message.objects.filter(pk=message.pk).update(status="unknown", attempts=1, last_attempt_at=NOON_NY)
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # discard port: nothing answers
    message_reconcile(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.needs_review) == ("unknown", False)
    assert message.reason.startswith("reconcile failed: Twilio lookup failed")


def test_reconcile_gives_up_after_the_last_attempt(sms_outbox, noon, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 2
    message = queued()
    Message.objects.filter(pk=message.pk).update(status="unknown", attempts=2, last_attempt_at=NOON_NY)
    message = message_reconcile(message_id=message.pk)
    assert (message.status, message.needs_review) == ("failed", True)
    assert message.reason == "not accepted by the provider after the last attempt"


def test_reconcile_ignores_messages_that_are_not_unknown(sms_outbox, noon):
    message = queued()
    assert message_reconcile(message_id=message.pk).status == "queued"


def test_email_with_unknown_outcome_goes_to_staff(noon):
    patient = PatientFactory()
    message = message_queue(patient=patient, channel="email", purpose="check_in", template="check_in", context={})
    Message.objects.filter(pk=message.pk).update(status="unknown", attempts=1, last_attempt_at=NOON_NY)
    message = message_reconcile(message_id=message.pk)
    assert (message.status, message.needs_review) == ("unknown", True)
    assert "the mail server cannot be asked" in message.reason


def test_locmem_failure_then_sweep_retry_sends(sms_outbox, noon, django_capture_on_commit_callbacks):
    locmem.failures.append(SendError("blip"))
    message = queued()
    message_deliver(message_id=message.pk)
    noon.move_to(NOON_NY + dt.timedelta(seconds=60))
    with django_capture_on_commit_callbacks(execute=True):
        messages_sweep()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
