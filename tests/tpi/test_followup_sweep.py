"""tpi.followups.followups_sweep / followups_claim_due: due follow-ups become messages exactly once."""

import datetime as dt

import pytest
import time_machine

from clinic.celery import app as celery_app
from clinic.messaging.backends import SendError, locmem
from clinic.messaging.consent import consent_change
from clinic.messaging.models import Message
from clinic.messaging.outbox import message_deliver, messages_sweep
from clinic.models import Patient
from tests.factories import AppointmentTypeFactory, PatientFactory, signed_procedure
from tpi.followups import followup_cancel, followup_retry, followups_claim_due, followups_sweep
from tpi.models import FollowUp, Procedure
from tpi.plans import plan_create
from tpi.signing import procedure_void
from tpi.tasks import followups_sweep_task

pytestmark = pytest.mark.django_db
# Noon in New York on a Thursday: inside every patient's send window.
NOON = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)
CHECK_IN = dt.timedelta(hours=72)


def signed(performed_at: dt.datetime, **patient_fields) -> Procedure:
    """Sign a procedure performed at PERFORMED_AT (the clock goes there for the signing)."""
    with time_machine.travel(performed_at + dt.timedelta(hours=1), tick=False):
        return signed_procedure(performed_at=performed_at, patient=PatientFactory(**patient_fields))


def check_in(procedure: Procedure) -> FollowUp:
    return procedure.follow_ups.get(kind="check_in")


def reassessment(procedure: Procedure) -> FollowUp:
    return procedure.follow_ups.get(kind="reassessment")


def sweep(at: dt.datetime, capture) -> dict[str, int]:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return followups_sweep()


def test_beat_runs_the_follow_up_sweep_every_minute():
    assert celery_app.conf.beat_schedule["tpi-followups-sweep"] == {
        "task": "tpi.followups_sweep",
        "schedule": 60,
    }


def test_a_due_check_in_becomes_one_sms_and_is_marked_sent(sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN - dt.timedelta(minutes=5))

    counts = sweep(NOON, django_capture_on_commit_callbacks)

    follow_up = check_in(procedure)
    assert (follow_up.status, follow_up.sent_at, follow_up.status_reason) == ("sent", NOON, "queued: sms")
    message = Message.objects.get()
    assert (message.source_key, message.channel, message.purpose, message.template) == (
        f"followup:{follow_up.pk}:check_in", "sms", "check_in", "check_in",
    )  # fmt: skip
    assert (message.patient_id, message.status) == (procedure.patient_id, "sent")  # delivered after commit
    assert [sms.to for sms in sms_outbox] == [str(procedure.patient.mobile_phone)]
    assert reassessment(procedure).status == "scheduled"  # not due for a month
    assert counts["sent"] == 1
    assert sum(counts.values()) == 1


def test_a_follow_up_not_yet_due_is_left_alone(sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN + dt.timedelta(minutes=1))

    sweep(NOON, django_capture_on_commit_callbacks)

    assert check_in(procedure).status == "scheduled"
    assert Message.objects.count() == 0


def test_patient_preferring_both_gets_one_sms_and_one_email(sms_outbox, mailoutbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN, preferred_channel=Patient.Channel.BOTH)

    sweep(NOON, django_capture_on_commit_callbacks)

    follow_up = check_in(procedure)
    assert follow_up.status_reason == "queued: sms, email"
    assert sorted(Message.objects.values_list("channel", "source_key", "status")) == [
        ("email", f"followup:{follow_up.pk}:check_in", "sent"),
        ("sms", f"followup:{follow_up.pk}:check_in", "sent"),
    ]
    assert (len(sms_outbox), len(mailoutbox)) == (1, 1)


def test_sweeping_again_creates_nothing_new(sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN, preferred_channel=Patient.Channel.BOTH)
    sweep(NOON, django_capture_on_commit_callbacks)
    FollowUp.objects.filter(pk=check_in(procedure).pk).update(status="scheduled")  # as if a sweep lost its update

    second = sweep(NOON + dt.timedelta(minutes=1), django_capture_on_commit_callbacks)

    assert second["sent"] == 1  # the follow-up is claimed again ...
    assert Message.objects.count() == 2  # ... but the outbox keeps one message per channel
    assert len(sms_outbox) == 1


def test_claim_due_takes_at_most_limit_rows_oldest_first(sms_outbox):
    procedures = [signed(NOON - CHECK_IN - dt.timedelta(minutes=m)) for m in (1, 3, 2)]
    with time_machine.travel(NOON, tick=False):
        claimed = followups_claim_due(now=NOON, limit=2)
    assert [f.procedure_id for f in claimed] == [procedures[1].pk, procedures[2].pk]
    assert [check_in(p).status for p in procedures] == ["scheduled", "sent", "sent"]


def test_the_sweep_works_through_more_than_one_batch(sms_outbox, settings, django_capture_on_commit_callbacks):
    settings.TPI_FOLLOWUP_SWEEP_BATCH = 2
    procedures = [signed(NOON - CHECK_IN - dt.timedelta(minutes=m)) for m in range(5)]

    counts = sweep(NOON, django_capture_on_commit_callbacks)

    assert counts["sent"] == 5
    assert {check_in(p).status for p in procedures} == {"sent"}
    assert len(sms_outbox) == 5


@pytest.mark.parametrize(
    ("late", "status"),
    [(dt.timedelta(hours=47, minutes=59), "sent"), (dt.timedelta(hours=48, minutes=1), "expired")],
)
def test_a_check_in_later_than_the_grace_is_expired_not_sent(
    late, status, sms_outbox, django_capture_on_commit_callbacks
):
    procedure = signed(NOON - CHECK_IN - late)

    sweep(NOON, django_capture_on_commit_callbacks)

    follow_up = check_in(procedure)
    assert follow_up.status == status
    if status == "expired":
        assert follow_up.status_reason == "reached 2 days 0 h after its due time (grace 2 days 0 h): not sent"
        assert Message.objects.count() == 0
    else:
        assert Message.objects.count() == 1


@pytest.mark.parametrize(("late_days", "status"), [(6, "sent"), (8, "expired")])
def test_a_reassessment_has_a_week_of_grace(late_days, status, sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - dt.timedelta(days=30 + late_days))

    sweep(NOON, django_capture_on_commit_callbacks)

    assert reassessment(procedure).status == status
    assert check_in(procedure).status == "expired"  # weeks late
    assert list(Message.objects.values_list("purpose", flat=True)) == (["reassessment"] if status == "sent" else [])


def test_grace_is_a_setting(sms_outbox, settings, django_capture_on_commit_callbacks):
    settings.TPI_FOLLOWUP_CHECKIN_GRACE = dt.timedelta(hours=1)
    procedure = signed(NOON - CHECK_IN - dt.timedelta(hours=2))

    sweep(NOON, django_capture_on_commit_callbacks)

    assert check_in(procedure).status == "expired"


@pytest.mark.parametrize(
    ("patient_fields", "reason"),
    [
        ({"status": Patient.Status.INACTIVE}, "patient is inactive"),
        ({"status": Patient.Status.DECEASED}, "patient is deceased"),
        ({"preferred_channel": Patient.Channel.NONE}, "patient wants no automated messages"),
        ({"sms_consent": False, "sms_consent_at": None, "sms_consent_method": ""}, "sms: no sms consent"),
        ({"mobile_phone": ""}, "sms: no mobile phone number"),
        (
            {"preferred_channel": Patient.Channel.EMAIL, "email_consent": False, "email_consent_at": None},
            "email: no email consent",
        ),
    ],
)
def test_a_patient_who_may_not_be_messaged_is_skipped_with_the_reason(
    patient_fields, reason, sms_outbox, django_capture_on_commit_callbacks
):
    procedure = signed(NOON - CHECK_IN, **patient_fields)

    counts = sweep(NOON, django_capture_on_commit_callbacks)

    follow_up = check_in(procedure)
    assert (follow_up.status, follow_up.status_reason) == ("skipped", reason)
    assert Message.objects.count() == 0
    assert counts["skipped"] == 1


def test_opted_out_patient_is_skipped(sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN)
    consent_change(patient=procedure.patient, channel="sms", granted=False, source="reply")

    sweep(NOON, django_capture_on_commit_callbacks)

    assert check_in(procedure).status_reason == "sms: opted out of sms"


def test_both_channels_one_without_consent_sends_the_other(sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(
        NOON - CHECK_IN, preferred_channel=Patient.Channel.BOTH, email_consent=False, email_consent_at=None
    )

    sweep(NOON, django_capture_on_commit_callbacks)

    follow_up = check_in(procedure)
    assert (follow_up.status, follow_up.status_reason) == ("sent", "queued: sms; not sent by email: no email consent")
    assert list(Message.objects.values_list("channel", flat=True)) == ["sms"]


def test_voiding_before_the_sweep_means_nothing_is_sent(sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN)
    with time_machine.travel(NOON - dt.timedelta(hours=1), tick=False):
        procedure_void(procedure=procedure, by=procedure.provider.user, reason="wrong patient")

    sweep(NOON, django_capture_on_commit_callbacks)

    assert check_in(procedure).status == "cancelled"
    assert Message.objects.count() == 0


def test_a_scheduled_follow_up_of_a_voided_procedure_is_cancelled_by_the_sweep(
    sms_outbox, django_capture_on_commit_callbacks
):
    procedure = signed(NOON - CHECK_IN)
    with time_machine.travel(NOON - dt.timedelta(hours=1), tick=False):
        procedure_void(procedure=procedure, by=procedure.provider.user, reason="wrong patient")
    FollowUp.objects.filter(procedure=procedure).update(status="scheduled", status_reason="")  # e.g. restored

    sweep(NOON, django_capture_on_commit_callbacks)

    assert (check_in(procedure).status, check_in(procedure).status_reason) == ("cancelled", "procedure voided")
    assert Message.objects.count() == 0


def test_a_message_the_content_check_refuses_fails_the_follow_up_and_not_the_sweep(
    sms_outbox, settings, django_capture_on_commit_callbacks
):
    procedures = [signed(NOON - CHECK_IN), signed(NOON - CHECK_IN, preferred_channel=Patient.Channel.EMAIL)]
    # A clinic's extra word both texts use: refused in SMS and email alike. (The clinic's own name is not
    # checked for such words: "Trigger Point Clinic" may sign its texts; the system check warns at start-up.)
    settings.MESSAGING_PHI_EXTRA_WORDS = ["visit"]
    counts = sweep(NOON, django_capture_on_commit_callbacks)

    assert [check_in(p).status for p in procedures] == ["failed", "failed"]
    assert check_in(procedures[0]).status_reason.startswith(
        "message not composed: SMS body names a diagnosis, medication or treated site: visit"
    )
    assert Message.objects.count() == 0
    assert counts["failed"] == 2


def test_a_delay_lives_in_the_database_not_in_the_broker(sms_outbox, django_capture_on_commit_callbacks):
    """Due inside quiet hours (03:00 in New York): queued for 09:00, no task published for later."""
    three_am = dt.datetime(2026, 3, 12, 7, 0, tzinfo=dt.UTC)
    procedure = signed(three_am - CHECK_IN)

    with time_machine.travel(three_am, tick=False), django_capture_on_commit_callbacks() as callbacks:
        followups_sweep()

    message = Message.objects.get()
    assert (check_in(procedure).status, message.status) == ("sent", "queued")
    assert message.next_attempt_at == dt.datetime(2026, 3, 12, 13, 0, tzinfo=dt.UTC)  # 09:00 EDT
    assert callbacks == []  # nothing enqueued now; the messages sweep finds it at 09:00


def test_follow_up_whose_messages_all_failed_is_failed_then_retry_sends_it(
    sms_outbox, django_capture_on_commit_callbacks
):
    procedure = signed(NOON - CHECK_IN)
    locmem.failures.append(SendError("unknown destination", permanent=True))
    sweep(NOON, django_capture_on_commit_callbacks)
    follow_up = check_in(procedure)
    assert follow_up.status == "sent"  # the sweep queued it; the delivery failed after commit
    assert Message.objects.get().status == "failed"

    counts = sweep(NOON + dt.timedelta(minutes=1), django_capture_on_commit_callbacks)

    follow_up.refresh_from_db()
    assert counts["failed"] == 1
    assert (follow_up.status, follow_up.status_reason) == ("failed", "sms failed: unknown destination")
    with (
        time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert followup_retry(follow_up=follow_up, by=None) == 1
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.status_reason) == ("sent", "retried 1 message(s)")
    assert Message.objects.get().status == "sent"
    assert len(sms_outbox) == 1


def test_follow_up_whose_messages_were_all_skipped_at_send_time_is_skipped(
    sms_outbox, django_capture_on_commit_callbacks
):
    three_am = dt.datetime(2026, 3, 12, 7, 0, tzinfo=dt.UTC)
    procedure = signed(three_am - CHECK_IN)
    sweep(three_am, django_capture_on_commit_callbacks)  # queued for 09:00
    consent_change(patient=procedure.patient, channel="sms", granted=False, source="reply")  # STOP at 05:00
    with time_machine.travel(dt.datetime(2026, 3, 12, 13, 0, tzinfo=dt.UTC), tick=False):
        message_deliver(message_id=Message.objects.get().pk)

    sweep(dt.datetime(2026, 3, 12, 13, 1, tzinfo=dt.UTC), django_capture_on_commit_callbacks)

    follow_up = check_in(procedure)
    assert (follow_up.status, follow_up.status_reason) == ("skipped", "sms skipped: opted out of sms")
    assert sms_outbox == []


def test_the_task_runs_the_sweep(sms_outbox, django_capture_on_commit_callbacks):
    procedure = signed(NOON - CHECK_IN)
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        followups_sweep_task.delay()
    assert check_in(procedure).status == "sent"
    assert len(sms_outbox) == 1


@pytest.mark.parametrize("with_plan", [True, False])
def test_the_reassessment_offers_the_next_injection_only_with_an_active_plan(
    with_plan, sms_outbox, django_capture_on_commit_callbacks
):
    procedure = signed(NOON)
    if with_plan:
        with time_machine.travel(NOON, tick=False):
            plan_create(
                patient=procedure.patient,
                by=procedure.provider.user,
                start_date=(NOON + dt.timedelta(days=35)).date(),
                preferred_time=dt.time(10),
                interval_weeks=4,
                injections=3,
                appointment_type=AppointmentTypeFactory(code="tpi", name="TPI procedure"),
            )

    sweep(NOON + dt.timedelta(days=30), django_capture_on_commit_callbacks)

    message = Message.objects.get(source_key=f"followup:{reassessment(procedure).pk}:reassessment", channel="sms")
    assert ("Reply BOOK for your next visit." in message.body) is with_plan
    assert [m.body for m in sms_outbox] == [message.body]


# 03:00 in New York: the check-in is due inside quiet hours, so its SMS waits in the outbox until 09:00.
NIGHT = dt.datetime(2026, 3, 12, 7, 0, tzinfo=dt.UTC)


def queued_overnight(capture) -> Procedure:
    procedure = signed(NIGHT - CHECK_IN, time_zone="America/New_York")
    sweep(NIGHT, capture)
    assert check_in(procedure).status == "sent"
    assert Message.objects.get(source_key=check_in(procedure).source_key, channel="sms").status == "queued"
    return procedure


def deliver_at_nine(capture) -> None:
    with time_machine.travel(NIGHT + dt.timedelta(hours=6, minutes=1), tick=False), capture(execute=True):
        messages_sweep()


def test_voiding_withdraws_a_check_in_still_waiting_for_the_send_window(sms_outbox, django_capture_on_commit_callbacks):
    procedure = queued_overnight(django_capture_on_commit_callbacks)

    with time_machine.travel(NIGHT + dt.timedelta(hours=1), tick=False):
        procedure_void(procedure=procedure, by=procedure.provider.user, reason="Documented on the wrong patient")
    deliver_at_nine(django_capture_on_commit_callbacks)

    assert sms_outbox == []
    follow_up = check_in(procedure)
    assert (follow_up.status, follow_up.status_reason) == ("cancelled", "procedure voided")
    assert set(Message.objects.filter(source_key=follow_up.source_key).values_list("status", "reason")) == {
        ("skipped", "procedure voided")
    }


def test_voiding_after_the_check_in_went_out_keeps_it_sent(sms_outbox, django_capture_on_commit_callbacks):
    procedure = queued_overnight(django_capture_on_commit_callbacks)
    deliver_at_nine(django_capture_on_commit_callbacks)

    procedure_void(procedure=procedure, by=procedure.provider.user, reason="Documented on the wrong patient")

    assert len(sms_outbox) == 1
    assert check_in(procedure).status == "sent"
    assert reassessment(procedure).status == "cancelled"


def test_staff_cancel_withdraws_the_waiting_messages(sms_outbox, django_capture_on_commit_callbacks):
    procedure = queued_overnight(django_capture_on_commit_callbacks)
    staff = procedure.provider.user

    followup_cancel(follow_up=check_in(procedure), by=staff, reason="patient called, doing well")
    deliver_at_nine(django_capture_on_commit_callbacks)

    assert sms_outbox == []
    assert check_in(procedure).status_reason == f"cancelled by {staff.username}: patient called, doing well"
    assert set(Message.objects.filter(source_key=check_in(procedure).source_key).values_list("status", flat=True)) == {
        "skipped"
    }
