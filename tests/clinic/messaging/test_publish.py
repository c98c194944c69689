"""clinic.messaging.publish and the outbox sweep: a waiting message is never published twice."""

import datetime as dt

import pytest
from django.db import connection

from clinic.messaging.backends import SendError, locmem
from clinic.messaging.consent import consent_change
from clinic.messaging.models import Message
from clinic.messaging.outbox import message_deliver, message_queue, messages_sweep
from clinic.messaging.publish import deliveries_publish
from clinic.messaging.tasks import deliveries_publish_task, messages_deliver_task
from tests.clinic.messaging.conftest import NOON_NY
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def queued(**kwargs):
    return message_queue(patient=PatientFactory(), channel="sms", purpose="check_in", template="check_in",
                         context={}, **kwargs)  # fmt: skip


class Broker:
    """Stands in for the broker at its boundary: records what delivery tasks were published."""

    def __init__(self, monkeypatch, *, down: bool = False):
        self.published: list[tuple[int, ...]] = []
        self.down = down
        monkeypatch.setattr(messages_deliver_task, "apply_async", self.apply_async)

    def apply_async(self, args=(), kwargs=None, **options):
        if self.down:
            raise ConnectionError("broker unreachable")
        self.published.append(tuple(args))


def test_queueing_marks_a_due_message_once_its_delivery_is_published(
    sms_outbox, noon, monkeypatch, django_capture_on_commit_callbacks
):
    broker = Broker(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    assert broker.published == [(message.pk,)]
    assert Message.objects.get(pk=message.pk).enqueued_at == NOON_NY


def test_the_sweep_does_not_publish_a_message_whose_task_is_waiting(
    sms_outbox, noon, monkeypatch, django_capture_on_commit_callbacks
):
    broker = Broker(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    noon.shift(dt.timedelta(minutes=9))  # a backlog: the task still waits in the broker

    with django_capture_on_commit_callbacks(execute=True):
        counts = messages_sweep()

    assert counts["due"] == 0
    assert broker.published == [(message.pk,)]


def test_the_sweep_publishes_again_a_message_whose_task_was_lost(
    sms_outbox, noon, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MESSAGING_REPUBLISH_AFTER_SECONDS = 600
    broker = Broker(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    noon.shift(dt.timedelta(minutes=10))

    with django_capture_on_commit_callbacks(execute=True):
        counts = messages_sweep()

    assert counts["due"] == 1
    assert broker.published == [(message.pk,), (message.pk,)]
    assert Message.objects.get(pk=message.pk).enqueued_at == NOON_NY + dt.timedelta(minutes=10)


def test_the_sweep_publishes_a_retry_when_it_falls_due(sms_outbox, noon, django_capture_on_commit_callbacks):
    locmem.failures.append(SendError("network blip"))
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()  # published and delivered after commit: the attempt fails, a retry is due in 60 s
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("queued", 1)
    noon.shift(dt.timedelta(seconds=61))

    with django_capture_on_commit_callbacks(execute=True):
        counts = messages_sweep()

    assert counts["due"] == 1  # published before this due time: its task is not waiting any more
    assert Message.objects.get(pk=message.pk).status == "sent"
    assert len(sms_outbox) == 1


def test_a_refused_publish_clears_the_mark_so_the_sweep_sends_it(
    sms_outbox, noon, monkeypatch, django_capture_on_commit_callbacks
):
    broker = Broker(monkeypatch, down=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = queued()
    assert Message.objects.get(pk=message.pk).enqueued_at is None
    broker.down = False

    with django_capture_on_commit_callbacks(execute=True):
        counts = messages_sweep()

    assert counts["due"] == 1
    assert broker.published == [(message.pk,)]


def test_publish_sends_a_few_ids_per_task(settings, monkeypatch):
    settings.MESSAGING_DELIVER_CHUNK = 2
    broker = Broker(monkeypatch)
    deliveries_publish([5, 6, 7, 8, 9], mark=False)
    assert broker.published == [(5, 6), (7, 8), (9,)]


def test_a_batch_of_many_goes_to_the_broker_once_and_a_worker_publishes_its_chunks(settings, monkeypatch):
    settings.MESSAGING_DELIVER_CHUNK = 2
    broker = Broker(monkeypatch)
    spread: list[tuple] = []
    real_apply_async = deliveries_publish_task.apply_async
    monkeypatch.setattr(
        deliveries_publish_task, "apply_async", lambda args=(), **options: (spread.append(args), real_apply_async(args))
    )
    deliveries_publish([5, 6, 7, 8, 9], mark=False)  # the sweep's commit: one publish ...
    assert spread == [(5, 6, 7, 8, 9)]
    assert broker.published == [(5, 6), (7, 8), (9,)]  # ... and the worker (inline here) publishes the chunks
    deliveries_publish([10, 11], mark=False)  # what one task takes is published as that task
    assert (len(spread), broker.published[-1]) == (1, (10, 11))


def test_the_batch_task_delivers_each_message_once(sms_outbox, noon):
    first, second = queued(), queued()
    messages_deliver_task.delay(first.pk, second.pk, first.pk)
    assert sorted(Message.objects.values_list("status", flat=True)) == ["sent", "sent"]
    assert len(sms_outbox) == 2


def test_the_batch_task_goes_on_after_one_message_breaks(sms_outbox, noon):
    first, second = queued(), queued()
    locmem.failures.append(RuntimeError("library bug"))
    messages_deliver_task.delay(first.pk, second.pk)
    assert Message.objects.get(pk=first.pk).status == "unknown"  # recorded, never resent blindly
    assert Message.objects.get(pk=second.pk).status == "sent"


def test_delivery_takes_few_round_trips(sms_outbox, noon, django_assert_max_num_queries):
    message = queued()
    # read (with the patient), claim + its event, result + its event; the savepoints are the tests' own
    with django_assert_max_num_queries(9) as captured:
        delivered = message_deliver(message_id=message.pk)
    statements = [q["sql"].split()[0] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    if connection.vendor == "postgresql":
        # the claim and its event in one statement, the outcome and its event in another, whose commit does not
        # wait for the disk (the claim's does)
        assert statements == ["SELECT", "WITH", "WITH"]
        claim, outcome = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("WITH")]
        assert "synchronous_commit" not in claim
        assert "set_config('synchronous_commit', 'off', true)" in outcome
    else:
        assert statements == ["SELECT", "UPDATE", "INSERT", "UPDATE", "INSERT"]
    assert (delivered.status, delivered.attempts) == ("sent", 1)
    stored = Message.objects.get(pk=message.pk)
    assert (stored.status, stored.attempts, stored.sent_at, stored.last_attempt_at) == ("sent", 1, NOON_NY, NOON_NY)
    assert list(stored.events.values_list("from_status", "to_status")) == [
        ("", "queued"), ("queued", "sending"), ("sending", "sent"),
    ]  # fmt: skip


def test_a_chunk_never_sends_on_consent_withdrawn_after_its_read(sms_outbox, noon, monkeypatch):
    first, second = queued(), queued()
    send = locmem.SmsBackend.send

    def stop_arrives_during_the_first_send(self, **kwargs):
        if not sms_outbox:  # the chunk read both messages before this send
            consent_change(patient=second.patient, channel="sms", granted=False, source="reply")
        return send(self, **kwargs)

    monkeypatch.setattr(locmem.SmsBackend, "send", stop_arrives_during_the_first_send)
    messages_deliver_task.delay(first.pk, second.pk)

    assert [m.to for m in sms_outbox] == [first.recipient]
    stored = Message.objects.get(pk=second.pk)
    assert (stored.status, stored.reason, stored.attempts) == ("skipped", "opted out of sms", 0)


def test_a_chunk_reads_its_messages_once(sms_outbox, noon, django_assert_max_num_queries):
    messages = [queued() for _ in range(3)]
    with django_assert_max_num_queries(40) as captured:  # SQLite: each move is an UPDATE and an INSERT
        messages_deliver_task.delay(*(m.pk for m in messages))
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1
    assert sorted(Message.objects.values_list("status", flat=True)) == ["sent", "sent", "sent"]
