"""tpi.followup_batch through followups_claim_due / followups_sweep_step: a batch is settled in sets."""

import datetime as dt

import pytest
import time_machine

from clinic.messaging.backends import locmem
from clinic.messaging.consent import consent_change
from clinic.messaging.models import Message, MessageEvent
from clinic.messaging.tasks import messages_deliver_task
from clinic.models import Patient
from tests.factories import PatientFactory, signed_procedure
from tpi.followups import followups_claim_due, followups_sweep_step
from tpi.models import FollowUp, Procedure
from tpi.signing import procedure_void
from tpi.tasks import followups_sweep_task

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)
CHECK_IN = dt.timedelta(hours=72)


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "clinic.messaging.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def broker(monkeypatch):
    """The broker at its boundary: the delivery tasks published, as tuples of message ids."""
    published: list[tuple[int, ...]] = []
    monkeypatch.setattr(messages_deliver_task, "apply_async", lambda args=(), **options: published.append(tuple(args)))
    return published


def signed(performed_at: dt.datetime, **patient_fields) -> Procedure:
    with time_machine.travel(performed_at + dt.timedelta(hours=1), tick=False):
        return signed_procedure(performed_at=performed_at, patient=PatientFactory(**patient_fields))


def check_in(procedure: Procedure) -> FollowUp:
    return procedure.follow_ups.get(kind="check_in")


def test_one_batch_settles_every_outcome_with_its_reason(sms_outbox, broker, django_capture_on_commit_callbacks):
    sent = signed(NOON - CHECK_IN - dt.timedelta(minutes=3), preferred_channel=Patient.Channel.BOTH)
    late = signed(NOON - CHECK_IN - dt.timedelta(hours=49))
    opted_out = signed(NOON - CHECK_IN - dt.timedelta(minutes=2))
    consent_change(patient=opted_out.patient, channel="sms", granted=False, source="reply")
    inactive = signed(NOON - CHECK_IN - dt.timedelta(minutes=1), status=Patient.Status.INACTIVE)
    voided = signed(NOON - CHECK_IN)
    with time_machine.travel(NOON - dt.timedelta(hours=1), tick=False):
        procedure_void(procedure=voided, by=voided.provider.user, reason="wrong patient")
    FollowUp.objects.filter(procedure=voided).update(status="scheduled", status_reason="")  # e.g. restored

    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True) as callbacks:
        claimed = followups_claim_due(now=NOON, limit=10)

    assert [(f.procedure_id, f.status, f.status_reason) for f in claimed] == [
        (late.pk, "expired", "reached 2 days 1 h after its due time (grace 2 days 0 h): not sent"),
        (sent.pk, "sent", "queued: sms, email"),
        (opted_out.pk, "skipped", "sms: opted out of sms"),
        (inactive.pk, "skipped", "patient is inactive"),
        (voided.pk, "cancelled", "procedure voided"),
    ]
    stored = {f.pk: (f.status, f.status_reason, f.sent_at) for f in FollowUp.objects.filter(kind="check_in")}
    assert stored == {f.pk: (f.status, f.status_reason, f.sent_at) for f in claimed}
    assert check_in(sent).sent_at == NOON
    messages = list(Message.objects.order_by("channel"))
    assert [(m.channel, m.source_key, m.status) for m in messages] == [
        ("email", check_in(sent).source_key, "queued"), ("sms", check_in(sent).source_key, "queued"),
    ]  # fmt: skip
    assert sorted(MessageEvent.objects.values_list("message__channel", "from_status", "to_status")) == [
        ("email", "", "queued"), ("sms", "", "queued"),
    ]  # fmt: skip
    assert len(callbacks) == 1  # delivery published once for the batch ...
    assert broker == [tuple(sorted(m.pk for m in messages))]  # ... as one task for its two messages


def test_a_claim_runs_the_same_queries_for_two_follow_ups_as_for_twelve(
    sms_outbox, broker, django_assert_max_num_queries
):
    for minutes in range(14):
        signed(NOON - CHECK_IN - dt.timedelta(minutes=minutes), preferred_channel=Patient.Channel.BOTH)
    with time_machine.travel(NOON, tick=False):
        with django_assert_max_num_queries(20) as small:
            assert len(followups_claim_due(now=NOON, limit=2)) == 2
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert len(followups_claim_due(now=NOON, limit=12)) == 12
    assert Message.objects.count() == 28


def test_a_sweep_step_stops_after_its_batches_and_says_more_are_due(sms_outbox, broker, settings):
    settings.TPI_FOLLOWUP_SWEEP_BATCH = 2
    procedures = [signed(NOON - CHECK_IN - dt.timedelta(minutes=m)) for m in range(5)]

    with time_machine.travel(NOON, tick=False):
        counts, more = followups_sweep_step(max_batches=2)
        assert (counts["sent"], more) == (4, True)
        counts, more = followups_sweep_step(max_batches=2)
        assert (counts["sent"], more) == (1, False)

    assert {check_in(p).status for p in procedures} == {"sent"}


def test_the_sweep_task_queues_itself_again_while_follow_ups_remain(
    sms_outbox, settings, django_capture_on_commit_callbacks
):
    settings.TPI_FOLLOWUP_SWEEP_BATCH = 2
    settings.TPI_FOLLOWUP_SWEEP_MAX_BATCHES = 1
    procedures = [signed(NOON - CHECK_IN - dt.timedelta(minutes=m)) for m in range(5)]

    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        followups_sweep_task.delay()  # eager in tests: each run's follow-up task runs at once

    assert {check_in(p).status for p in procedures} == {"sent"}
    assert len(sms_outbox) == 5


def test_a_follow_up_whose_message_is_stored_already_keeps_it(sms_outbox, broker, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN)
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        followups_claim_due(now=NOON, limit=10)
        FollowUp.objects.filter(pk=check_in(procedure).pk).update(status="scheduled")  # as if its move was lost
        again = followups_claim_due(now=NOON, limit=10)

    assert [(f.status, f.status_reason) for f in again] == [("sent", "queued: sms")]
    assert Message.objects.count() == 1
    assert len(broker) == 1  # the stored message was not published again


def test_a_batch_where_one_message_is_stored_already_stores_the_others_in_one_go(
    sms_outbox, broker, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    first = signed(NOON - CHECK_IN - dt.timedelta(minutes=1))
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        followups_claim_due(now=NOON, limit=10)
    kept = Message.objects.get()
    FollowUp.objects.filter(pk=check_in(first).pk).update(status="scheduled")  # as if its move was lost
    others = [signed(NOON - CHECK_IN + dt.timedelta(minutes=m), preferred_channel=Patient.Channel.BOTH) for m in (1, 2)]
    later = NOON + dt.timedelta(minutes=5)

    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
        django_assert_max_num_queries(30),  # not one statement per message
    ):
        again = followups_claim_due(now=later, limit=10)

    assert [(f.procedure_id, f.status, f.status_reason) for f in again] == [
        (first.pk, "sent", "queued: sms"), (others[0].pk, "sent", "queued: sms, email"),
        (others[1].pk, "sent", "queued: sms, email"),
    ]  # fmt: skip
    assert Message.objects.filter(source_key=check_in(first).source_key).get() == kept
    new = sorted(Message.objects.exclude(pk=kept.pk).values_list("pk", flat=True))
    assert len(new) == 4
    assert broker[1:] == [tuple(new)]  # only the new messages are published


def test_settling_finds_dead_follow_ups_through_their_messages_in_bounded_lists(
    sms_outbox, settings, django_capture_on_commit_callbacks
):
    from clinic.messaging.backends import SendError
    from tpi.followups import _sent_with_no_live_message

    procedures = [signed(NOON - CHECK_IN - dt.timedelta(minutes=m)) for m in (3, 2, 1)]
    alive = signed(NOON - CHECK_IN)
    locmem.failures.extend(SendError("unknown destination", permanent=True) for _ in range(3))
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        followups_claim_due(now=NOON, limit=3)  # the three oldest: all their messages fail
        followups_claim_due(now=NOON, limit=3)  # the fourth: delivered

    dead = _sent_with_no_live_message(limit=2, chunk=1)  # one id per query, stops at the limit

    assert [f.procedure_id for f in dead] == sorted(p.pk for p in procedures)[:2]
    assert check_in(alive).status == "sent"
    assert [f.procedure_id for f in _sent_with_no_live_message(limit=10, chunk=2)] == sorted(p.pk for p in procedures)
