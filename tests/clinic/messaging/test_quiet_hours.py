import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured

from clinic.messaging.outbox import message_queue
from clinic.messaging.quiet_hours import next_send_time
from tests.factories import PatientFactory

NY = ZoneInfo("America/New_York")
UTC = dt.UTC


class P:
    """A stand-in with just the time zone next_send_time reads (no database needed)."""

    def __init__(self, zone="America/New_York"):
        self.time_zone = zone


def local(*args, zone=NY):
    return dt.datetime(*args, tzinfo=zone)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(2026, 3, 2, 12, 0), local(2026, 3, 2, 12, 0)),  # inside: now
        (local(2026, 3, 2, 9, 0), local(2026, 3, 2, 9, 0)),  # the window opens at 09:00 sharp
        (local(2026, 3, 2, 8, 59), local(2026, 3, 2, 9, 0)),  # early morning: today's opening
        (local(2026, 3, 2, 20, 0), local(2026, 3, 3, 9, 0)),  # closes at 20:00: tomorrow
        (local(2026, 3, 2, 23, 30), local(2026, 3, 3, 9, 0)),
        (local(2026, 3, 2, 0, 5), local(2026, 3, 2, 9, 0)),
    ],
)
def test_next_send_time_in_new_york(at, expected):
    assert next_send_time(patient=P(), at=at.astimezone(UTC)) == expected


def test_the_patients_own_zone_counts_not_the_clinics():
    at = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 New York, 06:00 Los Angeles
    assert next_send_time(patient=P(), at=at) == at
    assert next_send_time(patient=P("America/Los_Angeles"), at=at) == local(
        2026, 3, 2, 9, 0, zone=ZoneInfo("America/Los_Angeles")
    )


def test_spring_forward_night_waits_for_nine_local():
    # 8 March 2026: clocks go 02:00 EST -> 03:00 EDT. 22:00 EST on the 7th waits until 09:00 EDT.
    at = local(2026, 3, 7, 22, 0)
    result = next_send_time(patient=P(), at=at.astimezone(UTC))
    assert result == dt.datetime(2026, 3, 8, 13, 0, tzinfo=UTC)  # 09:00 EDT is 13:00 UTC, not 14:00
    assert result.astimezone(NY).hour == 9


def test_fall_back_night_waits_for_nine_local():
    # 1 November 2026: clocks go 02:00 EDT -> 01:00 EST.
    result = next_send_time(patient=P(), at=local(2026, 10, 31, 21, 0).astimezone(UTC))
    assert result == dt.datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    assert result.astimezone(NY).hour == 9


def test_window_opening_inside_the_dst_gap_moves_past_the_gap(settings):
    settings.MESSAGING_QUIET_HOURS_START = "02:30"  # does not exist on 8 March 2026 in New York
    result = next_send_time(patient=P(), at=local(2026, 3, 8, 0, 30).astimezone(UTC))
    assert result == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT, the first instant after
    assert result.astimezone(NY).hour == 3


def test_a_bad_window_is_refused(settings):
    settings.MESSAGING_QUIET_HOURS_START = "21:00"
    with pytest.raises(ImproperlyConfigured, match="must be before"):
        next_send_time(patient=P(), at=dt.datetime(2026, 3, 2, 12, tzinfo=UTC))
    settings.MESSAGING_QUIET_HOURS_START = "nine"
    with pytest.raises(ImproperlyConfigured, match="is not a time of day"):
        next_send_time(patient=P(), at=dt.datetime(2026, 3, 2, 12, tzinfo=UTC))


def test_configurable_window(settings):
    settings.MESSAGING_QUIET_HOURS_START, settings.MESSAGING_QUIET_HOURS_END = "10:30", "18:00"
    assert next_send_time(patient=P(), at=local(2026, 3, 2, 10, 0).astimezone(UTC)) == local(2026, 3, 2, 10, 30)
    assert next_send_time(patient=P(), at=local(2026, 3, 2, 18, 0).astimezone(UTC)) == local(2026, 3, 3, 10, 30)


@pytest.mark.django_db
def test_message_queued_at_night_across_dst_goes_out_at_nine(sms_outbox, django_capture_on_commit_callbacks):
    from clinic.messaging.outbox import message_deliver, messages_sweep

    patient = PatientFactory(time_zone="America/New_York")
    with time_machine.travel(local(2026, 3, 7, 23, 15), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            message = message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={})
        assert callbacks == []
        assert message.next_attempt_at == dt.datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
        assert message.reason == "waiting for the patient's send window"
        clock.move_to(local(2026, 3, 8, 8, 59))
        with django_capture_on_commit_callbacks(execute=True):
            assert messages_sweep()["due"] == 0
        clock.move_to(dt.datetime(2026, 3, 8, 13, 0, tzinfo=UTC))
        with django_capture_on_commit_callbacks(execute=True):
            assert messages_sweep()["due"] == 1
        message.refresh_from_db()
        assert (message.status, message.sent_at.astimezone(NY).hour) == ("sent", 9)
        assert message_deliver(message_id=message.pk).attempts == 1
        assert len(sms_outbox) == 1


@pytest.mark.django_db
def test_replies_to_keywords_ignore_quiet_hours(sms_outbox, django_capture_on_commit_callbacks):
    from clinic.messaging.inbound import inbound_sms_receive

    patient = PatientFactory(mobile_phone="+12025550143")
    with time_machine.travel(local(2026, 3, 2, 23, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        inbound_sms_receive(provider_message_id="SM1", from_number="+12025550143", body="HELP")
    assert [m.body.split(":")[0] for m in sms_outbox] == ["Riverside Pain Clinic"]
    assert patient.messages.get().status == "sent"
