"""Two follow-ups of one kind for one patient due within TPI_FOLLOWUP_COALESCE_WINDOW go as one message."""

import datetime as dt

import pytest
import time_machine

from clinic.messaging.backends import locmem
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message
from tests.factories import PatientFactory, signed_procedure
from tpi.followups import followups_sweep
from tpi.models import FollowUp

pytestmark = pytest.mark.django_db
# 10:00 and 14:00 in New York on Monday 9 March 2026: two procedures on one clinic day.
MORNING = dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)
AFTERNOON = MORNING + dt.timedelta(hours=4)
CHECK_IN = dt.timedelta(hours=72)
ONE_CHECK_IN = (
    "Riverside Pain Clinic: checking in after your visits. How is your pain today, 0 (none) to 10 (worst)? "
    "Reply with a number. Reply STOP to opt out."
)


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "clinic.messaging.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def patient(db):
    return PatientFactory(mobile_phone="+12025550143", time_zone="America/New_York")


def procedure_at(patient, performed_at):
    with time_machine.travel(performed_at + dt.timedelta(minutes=30), tick=False):
        return signed_procedure(performed_at=performed_at, patient=patient)


def sweep_at(at, capture):
    with time_machine.travel(at, tick=False), capture(execute=True):
        return followups_sweep()


def check_ins(*procedures):
    return [FollowUp.objects.get(procedure=p, kind="check_in") for p in procedures]


def test_two_procedures_on_one_day_get_one_check_in_and_one_reply_answers_both(
    patient, sms_outbox, django_capture_on_commit_callbacks
):
    first, second = procedure_at(patient, MORNING), procedure_at(patient, AFTERNOON)

    counts = sweep_at(MORNING + CHECK_IN, django_capture_on_commit_callbacks)

    assert counts["sent"] == 2
    lead, carried = check_ins(first, second)
    assert (lead.status, lead.sent_with, lead.sent_at) == ("sent", None, MORNING + CHECK_IN)
    assert (carried.status, carried.sent_with, carried.sent_at) == ("sent", lead, MORNING + CHECK_IN)
    assert carried.status_reason == f"asked in one message with follow-up {lead.pk} (procedure {first.pk})"
    assert [(m.to, m.body) for m in sms_outbox] == [("+12025550143", ONE_CHECK_IN)]
    assert list(Message.objects.values_list("source_key", flat=True)) == [lead.source_key]

    sweep_at(AFTERNOON + CHECK_IN, django_capture_on_commit_callbacks)  # the second's own due time: nothing more
    assert len(sms_outbox) == 1

    with time_machine.travel(MORNING + CHECK_IN + dt.timedelta(hours=2), tick=False):
        inbound, _ = inbound_sms_receive(provider_message_id="SM" + "1" * 32, from_number="+12025550143", body="4")
    assert (inbound.handled_by, inbound.needs_review) == ("tpi.replies.handle", False)
    assert [(f.status, f.answer_pain_score) for f in check_ins(first, second)] == [("answered", 4), ("answered", 4)]


def test_two_check_ins_due_in_the_same_minute_go_as_one(patient, sms_outbox, django_capture_on_commit_callbacks):
    first, second = procedure_at(patient, MORNING), procedure_at(patient, MORNING + dt.timedelta(seconds=40))

    sweep_at(MORNING + CHECK_IN + dt.timedelta(minutes=1), django_capture_on_commit_callbacks)

    assert [m.body for m in sms_outbox] == [ONE_CHECK_IN]
    lead, carried = check_ins(first, second)
    assert carried.sent_with == lead


def test_check_ins_further_apart_than_the_window_go_separately(
    patient, sms_outbox, settings, django_capture_on_commit_callbacks
):
    settings.TPI_FOLLOWUP_COALESCE_WINDOW = dt.timedelta(hours=3)
    first, second = procedure_at(patient, MORNING), procedure_at(patient, AFTERNOON)

    sweep_at(MORNING + CHECK_IN, django_capture_on_commit_callbacks)
    sweep_at(AFTERNOON + CHECK_IN, django_capture_on_commit_callbacks)

    single = ONE_CHECK_IN.replace("your visits", "your visit")
    assert [m.body for m in sms_outbox] == [single, single.removesuffix(" Reply STOP to opt out.")]
    assert [f.sent_with for f in check_ins(first, second)] == [None, None]


def test_other_patients_and_other_kinds_are_not_joined(sms_outbox, django_capture_on_commit_callbacks):
    one, other = PatientFactory(), PatientFactory()
    procedure_at(one, MORNING), procedure_at(other, MORNING)

    sweep_at(MORNING + CHECK_IN, django_capture_on_commit_callbacks)

    assert len(sms_outbox) == 2
    assert not FollowUp.objects.filter(sent_with__isnull=False).exists()


def test_a_carried_check_in_follows_its_lead_when_the_message_fails(
    patient, sms_outbox, django_capture_on_commit_callbacks
):
    first, second = procedure_at(patient, MORNING), procedure_at(patient, AFTERNOON)
    sweep_at(MORNING + CHECK_IN, django_capture_on_commit_callbacks)
    Message.objects.update(status=Message.Status.FAILED, reason="permanent: unreachable")

    sweep_at(MORNING + CHECK_IN + dt.timedelta(minutes=5), django_capture_on_commit_callbacks)

    lead, carried = check_ins(first, second)
    assert (lead.status, carried.status) == ("failed", "failed")
    assert carried.status_reason == "sent in another follow-up's message, which is failed"


def test_cancelling_the_lead_while_its_message_waits_cancels_what_it_carried(
    patient, sms_outbox, django_capture_on_commit_callbacks
):
    from tpi.followups import followup_cancel

    night = MORNING - dt.timedelta(hours=8)  # 02:00 and 04:00 in New York: the check-ins fall in quiet hours
    first, second = procedure_at(patient, night), procedure_at(patient, night + dt.timedelta(hours=2))
    sweep_at(night + CHECK_IN, django_capture_on_commit_callbacks)
    assert (Message.objects.get().status, sms_outbox) == ("queued", [])

    lead, carried = check_ins(first, second)
    with time_machine.travel(night + CHECK_IN + dt.timedelta(minutes=5), tick=False):
        followup_cancel(follow_up=lead, by=first.provider.user, reason="patient called in")

    lead, carried = check_ins(first, second)
    assert (lead.status, carried.status) == ("cancelled", "cancelled")
    assert carried.status_reason == f"cancelled by {first.provider.user.username}: patient called in"
    assert Message.objects.get().status == "skipped"
