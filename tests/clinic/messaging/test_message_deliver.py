import datetime as dt

import pytest
import time_machine

from clinic.messaging.backends import SendError
from clinic.messaging.consent import consent_change
from clinic.messaging.models import Message
from clinic.messaging.outbox import NotRetryable, message_deliver, message_mark_sent, message_queue, message_retry
from clinic.models import Patient
from tests.clinic.messaging.conftest import NOON_NY
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def queued(patient=None, **kwargs):
    """Queue a check-in without running on_commit (as if the broker never got the task)."""
    return message_queue(patient=patient or PatientFactory(), channel="sms", purpose="check_in",
                         template="check_in", context={}, **kwargs)  # fmt: skip


def statuses(message):
    return list(message.events.values_list("to_status", flat=True))


def test_deliver_sends_once_however_often_it_runs(sms_outbox, noon):
    message = queued()
    for _ in range(3):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert len(sms_outbox) == 1


def test_deliver_does_nothing_before_the_message_is_due(sms_outbox, noon):
    message = queued(send_after=NOON_NY + dt.timedelta(minutes=5))
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 0)
    assert sms_outbox == []


def test_deliver_of_a_missing_message_returns_none(noon):
    assert message_deliver(message_id=123456) is None


def test_transient_errors_retry_with_exponential_backoff_then_fail(sms_outbox, noon, settings):
    settings.MESSAGING_MAX_ATTEMPTS = 3
    settings.MESSAGING_RETRY_BASE_SECONDS = 60
    message = queued()
    sms_outbox_failures = [SendError("network blip") for _ in range(3)]
    from clinic.messaging.backends import locmem

    locmem.failures.extend(sms_outbox_failures)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == ("queued", 1, "network blip")
    assert message.next_attempt_at == NOON_NY + dt.timedelta(seconds=60)
    noon.move_to(NOON_NY + dt.timedelta(seconds=60))
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 2)
    assert message.next_attempt_at == NOON_NY + dt.timedelta(seconds=60 + 120)
    noon.move_to(message.next_attempt_at)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.needs_review) == ("failed", 3, True)
    assert message.reason == "network blip"
    assert sms_outbox == []
    assert statuses(message) == ["queued", "sending", "queued", "sending", "queued", "sending", "failed"]
    assert message.events.last().detail == "gave up after 3 attempts: network blip"


def test_permanent_error_fails_at_once(sms_outbox, noon):
    from clinic.messaging.backends import locmem

    locmem.failures.append(SendError("Twilio error 21211 (HTTP 400): invalid To", permanent=True))
    message = queued()
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.needs_review) == ("failed", 1, True)
    assert message.events.last().detail == "permanent: Twilio error 21211 (HTTP 400): invalid To"


def test_unknown_outcome_is_never_resent_by_deliver(sms_outbox, noon):
    from clinic.messaging.backends import locmem

    locmem.failures.append(SendError("no answer after sending", outcome_unknown=True))
    message = queued()
    message_deliver(message_id=message.pk)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.reason) == ("unknown", 1, "no answer after sending")
    assert sms_outbox == []


def test_unexpected_exception_is_recorded_not_swallowed(sms_outbox, noon, monkeypatch):
    from clinic.messaging.backends import locmem

    def explode(self, **kwargs):
        raise RuntimeError("library bug")

    monkeypatch.setattr(locmem.SmsBackend, "send", explode)
    message = queued()
    with pytest.raises(RuntimeError, match="library bug"):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.reason) == ("unknown", "RuntimeError: library bug")


def test_opt_out_between_queue_and_delivery_skips(sms_outbox, noon):
    patient = PatientFactory()
    message = queued(patient)
    consent_change(patient=patient, channel="sms", granted=False, source="reply")
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.reason, message.attempts) == ("skipped", "opted out of sms", 0)
    assert sms_outbox == []


def test_patient_who_died_after_queueing_gets_nothing(sms_outbox, noon):
    patient = PatientFactory()
    message = queued(patient)
    Patient.objects.filter(pk=patient.pk).update(status=Patient.Status.DECEASED)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.reason) == ("skipped", "patient is deceased")


def test_retry_due_inside_quiet_hours_waits_for_the_window(sms_outbox):

    with time_machine.travel(dt.datetime(2026, 3, 3, 0, 59, tzinfo=dt.UTC), tick=False) as t:  # 19:59 in New York
        message = queued()
        t.move_to(dt.datetime(2026, 3, 3, 1, 30, tzinfo=dt.UTC))  # 20:30: the window has closed
        message_deliver(message_id=message.pk)
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("queued", 0)
        assert message.next_attempt_at == dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)  # 09:00 EST
        assert sms_outbox == []


def test_staff_retry_requeues_a_failed_message(sms_outbox, noon, django_capture_on_commit_callbacks):
    from clinic.messaging.backends import locmem

    locmem.failures.append(SendError("bad", permanent=True))
    message = queued()
    message_deliver(message_id=message.pk)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_retry(message=Message.objects.get(pk=message.pk), by="frontdesk")
    message.refresh_from_db()
    assert (message.status, message.attempts, message.needs_review) == ("sent", 2, False)
    assert message.attempts_at_staff_retry == 1
    assert len(sms_outbox) == 1
    assert "retry requested by frontdesk" in list(message.events.values_list("detail", flat=True))


def test_retry_and_mark_sent_refuse_messages_in_other_states(sms_outbox, noon):
    message = queued()
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    with pytest.raises(NotRetryable) as caught:
        message_retry(message=message)
    assert caught.value.message_dict == {
        "status": ["Only failed or unknown messages can be retried (this one is sent)."]
    }
    with pytest.raises(NotRetryable):
        message_mark_sent(message=message)


def test_staff_mark_an_unknown_message_sent(sms_outbox, noon):
    from clinic.messaging.backends import locmem

    locmem.failures.append(SendError("timeout", outcome_unknown=True))
    message = queued()
    message_deliver(message_id=message.pk)
    message = message_mark_sent(message=Message.objects.get(pk=message.pk), by="frontdesk")
    assert (message.status, message.sent_at, message.needs_review) == ("sent", NOON_NY, False)
    assert sms_outbox == []


def test_staff_retry_gives_a_fresh_set_of_attempts(sms_outbox, noon, settings):
    from clinic.messaging.backends import locmem

    settings.MESSAGING_MAX_ATTEMPTS = 2
    locmem.failures.extend([SendError("blip"), SendError("blip"), SendError("blip")])
    message = queued()
    message_deliver(message_id=message.pk)
    noon.move_to(NOON_NY + dt.timedelta(minutes=1))
    message_deliver(message_id=message.pk)
    assert Message.objects.get(pk=message.pk).status == "failed"
    message_retry(message=Message.objects.get(pk=message.pk))
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == (
        "queued", 3, NOON_NY + dt.timedelta(minutes=2),
    )  # fmt: skip
    noon.move_to(message.next_attempt_at)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 4)
