"""Sweeps racing each other on whichever database runs the tests: each follow-up is sent once.

PostgreSQL: the rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED; SQLite: every sweep
transaction is BEGIN IMMEDIATE, so sweeps run one after another. Both: the move scheduled -> sent is
a conditional UPDATE and the outbox keeps one Message per (follow-up, channel).
"""

import datetime as dt

import pytest
import time_machine

from clinic.messaging.backends import locmem
from clinic.messaging.models import Message
from clinic.models import Patient
from tests.factories import PatientFactory, signed_procedure
from tests.racing import race
from tpi.followups import followups_claim_due, followups_sweep
from tpi.models import FollowUp

NOON = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)
SWEEPS = 4
PROCEDURES = 6


@pytest.fixture
def due(transactional_db, sms_outbox):
    performed = NOON - dt.timedelta(hours=72, minutes=5)
    with time_machine.travel(performed + dt.timedelta(hours=1), tick=False):
        procedures = [
            signed_procedure(performed_at=performed, patient=PatientFactory(preferred_channel=Patient.Channel.BOTH))
            for _ in range(PROCEDURES)
        ]
    return procedures


def test_concurrent_sweeps_send_each_follow_up_once(due, mailoutbox):
    with time_machine.travel(NOON, tick=False):
        results, failures = race(SWEEPS, lambda i: followups_sweep())

    assert failures == []
    assert sum(r["sent"] for r in results) == PROCEDURES  # every follow-up moved to sent exactly once
    check_ins = FollowUp.objects.filter(kind="check_in")
    assert sorted(check_ins.values_list("status", flat=True)) == ["sent"] * PROCEDURES
    assert Message.objects.count() == PROCEDURES * 2
    for follow_up in check_ins:
        assert sorted(Message.objects.filter(source_key=follow_up.source_key).values_list("channel", flat=True)) == [
            "email", "sms",
        ]  # fmt: skip
    assert sorted(m.to for m in locmem.outbox) == sorted(str(p.patient.mobile_phone) for p in due)
    assert len(mailoutbox) == PROCEDURES


def test_two_concurrent_claims_take_disjoint_batches_that_cover_every_due_follow_up(due):
    with time_machine.travel(NOON, tick=False):
        results, failures = race(2, lambda i: followups_claim_due(now=NOON, limit=PROCEDURES // 2))

    assert failures == []
    first, second = ({f.pk for f in batch} for batch in results)
    assert first.isdisjoint(second)
    assert first | second == set(FollowUp.objects.filter(kind="check_in").values_list("pk", flat=True))
    assert sorted(FollowUp.objects.filter(kind="check_in").values_list("status", flat=True)) == ["sent"] * PROCEDURES
    assert Message.objects.count() == PROCEDURES * 2
