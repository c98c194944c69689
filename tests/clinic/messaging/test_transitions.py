"""MESSAGE_TRANSITIONS: the one table of Message.status moves, and the outbox refusing the others."""

import pytest

from clinic.messaging.backends import DeliveryStatus
from clinic.messaging.models import MESSAGE_TRANSITIONS, Message
from clinic.messaging.outbox import (
    STAFF_MARK_SENT_FROM,
    STAFF_RETRY_FROM,
    NotRetryable,
    _transition,
    message_deliver,
    message_delivery_report,
    message_mark_sent,
    message_queue,
    message_retry,
    messages_withdraw,
)
from clinic.transitions import TransitionNotAllowed
from tests.factories import PatientFactory

S = Message.Status


def test_the_table_names_every_status_and_every_one_is_reachable_from_creation():
    assert MESSAGE_TRANSITIONS.statuses == set(S.values)
    reached, frontier = set(), {S.QUEUED, S.SKIPPED}  # what message_queue creates
    while frontier:
        status = frontier.pop()
        reached.add(status)
        frontier |= MESSAGE_TRANSITIONS.targets(status) - reached
    assert reached == set(S.values)


def test_terminal_statuses_have_no_exits_and_the_rest_do():
    assert MESSAGE_TRANSITIONS.terminal == {S.DELIVERED, S.SKIPPED}
    for status in S.values:
        assert bool(MESSAGE_TRANSITIONS.targets(status)) is (status not in MESSAGE_TRANSITIONS.terminal)
    with pytest.raises(TransitionNotAllowed, match=r"Message\.status cannot go from 'delivered' to 'queued'"):
        MESSAGE_TRANSITIONS.check(S.DELIVERED, S.QUEUED)


def test_the_table_states_the_moves_the_outbox_makes():
    assert MESSAGE_TRANSITIONS.sources(S.SENDING) == {S.QUEUED}  # only a queued message is claimed
    assert MESSAGE_TRANSITIONS.sources(S.SKIPPED) == {S.QUEUED}  # skip and withdraw: never once handed over
    assert MESSAGE_TRANSITIONS.sources(S.SENT) == {S.SENDING, S.UNKNOWN}
    assert MESSAGE_TRANSITIONS.sources(S.DELIVERED) == {S.SENDING, S.UNKNOWN, S.SENT}
    assert sorted(STAFF_RETRY_FROM) == ["failed", "unknown"]
    assert sorted(STAFF_MARK_SENT_FROM) == ["unknown"]


@pytest.fixture
def delivered(sms_outbox, noon, db):
    message = message_queue(patient=PatientFactory(), channel="sms", purpose="check_in", template="check_in",
                            context={}, source_key="test:delivered")  # fmt: skip
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    message_delivery_report(
        provider_message_id=message.provider_message_id, status=DeliveryStatus.DELIVERED, description="delivered"
    )
    message.refresh_from_db()
    assert message.status == S.DELIVERED
    return message


def _row(message):
    fields = ("status", "reason", "needs_review", "next_attempt_at", "updated_at", "delivered_at", "attempts")
    return Message.objects.filter(pk=message.pk).values(*fields).get(), list(
        message.events.values_list("from_status", "to_status")
    )


def test_a_refused_move_changes_nothing(delivered, sms_outbox):
    before = _row(delivered)
    with pytest.raises(NotRetryable) as caught:
        message_retry(message=delivered)
    assert caught.value.message_dict == {
        "status": ["Only failed or unknown messages can be retried (this one is delivered)."]
    }
    with pytest.raises(NotRetryable) as caught:
        message_mark_sent(message=delivered)
    assert caught.value.message_dict == {
        "status": ["Only unknown messages can be marked sent (this one is delivered)."]
    }
    message_delivery_report(
        provider_message_id=delivered.provider_message_id, status=DeliveryStatus.FAILED, description="failed"
    )
    assert messages_withdraw(source_key="test:delivered", reason="visit cancelled") == (0, 1)
    assert message_deliver(message_id=delivered.pk).status == S.DELIVERED
    assert _row(delivered) == before
    assert before[1] == [("", "queued"), ("queued", "sending"), ("sending", "sent"), ("sent", "delivered")]
    assert len(sms_outbox) == 1


def test_a_narrowing_outside_the_table_is_a_bug_and_changes_nothing(delivered):
    before = _row(delivered)
    with pytest.raises(ValueError, match=r"cannot move to 'queued' from \['delivered'\]"):
        _transition(delivered.pk, to=S.QUEUED, only_from={S.DELIVERED})
    assert _row(delivered) == before
