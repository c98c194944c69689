"""The waitlist: a freed slot is offered by SMS in join order, the first YES books it, the rest hear it has gone."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic.messaging.consent import consent_change
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message, TriageItem
from clinic.messaging.outbox import message_queue
from scheduling.booking import appointment_book, appointment_cancel, appointment_move, appointment_status_undo
from scheduling.models import Appointment, FreedSlot, WaitlistEntry, WaitlistOffer
from scheduling.waitlist import waitlist_entry_create, waitlist_entry_withdraw, waitlist_fills_by_month, waitlist_sweep
from tests.factories import PatientFactory, ProviderFactory
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 11, 30, 10)  # Monday 10:00 in the clinic, inside the send window
SLOT = at(2026, 12, 2, 11)  # Wednesday 11:00
SIDS = itertools.count()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(clinic, clock, settings, sms_outbox):
    """The clinic with a booked TPI visit on Wednesday at 11:00 and a front-desk user."""
    settings.CLINIC_NAME = "Riverside Pain Clinic"
    clinic.visit = appointment_book(
        patient=clinic.patient, provider=clinic.doctor, room=clinic.room, appointment_type=clinic.tpi, start=SLOT,
        by=clinic.frontdesk,
    )  # fmt: skip
    return clinic


def wait(clinic, patient=None, **fields) -> WaitlistEntry:
    values = {"appointment_type": clinic.tpi, "location": clinic.room.location, "until": dt.date(2026, 12, 31)}
    return waitlist_entry_create(patient=patient or PatientFactory(), by=clinic.frontdesk, **(values | fields))


def cancel(clinic, capture) -> None:
    with capture(execute=True):
        appointment_cancel(appointment=clinic.visit, by=clinic.frontdesk, reason="patient is ill")


def sweep(capture) -> dict:
    with capture(execute=True):
        return waitlist_sweep()


def reply(patient, body, capture):
    with capture(execute=True):
        inbound, _ = inbound_sms_receive(
            provider_message_id=f"SM{next(SIDS):032d}", from_number=str(patient.mobile_phone), body=body
        )
    return inbound


def test_an_entry_names_what_cannot_wait(clinic, clock):
    with pytest.raises(ValidationError) as refused:
        waitlist_entry_create(
            patient=clinic.patient, appointment_type=clinic.massage, location=clinic.room.location,
            until=dt.date(2026, 11, 29), provider=clinic.doctor, weekdays=[1, 9], earliest_time=dt.time(12),
            latest_time=dt.time(9), by=clinic.frontdesk,
        )  # fmt: skip

    assert sorted(refused.value.message_dict) == ["latest_time", "provider", "until", "weekdays"]
    assert refused.value.message_dict["until"] == ["The last day has already passed."]
    assert WaitlistEntry.objects.count() == 0


def test_a_cancellation_is_offered_to_the_first_fitting_in_join_order(desk, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first = wait(desk, weekdays=[2], earliest_time=dt.time(9), latest_time=dt.time(12))  # Wednesday morning
    opted_out = wait(desk)
    consent_change(patient=opted_out.patient, channel="sms", granted=False, source="reply")
    wait(desk, weekdays=[3])  # Thursdays only
    wait(desk, earliest_time=dt.time(14))  # afternoons only
    wait(desk, provider=ProviderFactory())  # another provider
    wait(desk, until=dt.date(2026, 12, 1))  # not that long
    wait(desk, patient=desk.patient)  # the patient who cancelled
    second, third, fourth = wait(desk, provider=desk.doctor), wait(desk), wait(desk)

    cancel(desk, capture)  # publishes a sweep after commit (run here at once)

    slot = FreedSlot.objects.get()
    assert (slot.appointment, slot.start, slot.end, slot.provider, slot.room) == (
        desk.visit, SLOT, SLOT + dt.timedelta(minutes=30), desk.doctor, desk.room
    )  # fmt: skip
    offers = list(WaitlistOffer.objects.order_by("id"))
    assert [o.entry for o in offers] == [first, second, third]
    assert {(o.status, o.offered_at, o.expires_at) for o in offers} == {("offered", NOW, NOW + dt.timedelta(hours=2))}
    bodies = {m.recipient: m.body for m in Message.objects.filter(purpose="waitlist_offer", status="sent")}
    assert bodies == {
        str(e.patient.mobile_phone): "Riverside Pain Clinic: an earlier visit is free on Wed 2 Dec, 11:00 AM. "
        "Reply YES to take it; the first YES gets it. Reply STOP to opt out."  # their first text from us
        for e in (first, second, third)
    }
    assert not WaitlistOffer.objects.filter(entry=fourth).exists()
    assert sweep(capture)["offered"] == 0  # a second sweep offers nothing again
    assert Message.objects.filter(purpose="waitlist_offer").count() == 3


def test_the_next_batch_follows_only_when_the_first_expired(desk, clock, django_capture_on_commit_callbacks, settings):
    settings.SCHEDULING_WAITLIST_OFFER_BATCH = 1
    capture = django_capture_on_commit_callbacks
    first, second = wait(desk), wait(desk)
    cancel(desk, capture)
    sweep(capture)
    clock.shift(dt.timedelta(minutes=119))
    assert sweep(capture)["offered"] == 0

    clock.shift(dt.timedelta(minutes=1))
    counts = sweep(capture)

    assert (counts["expired"], counts["offered"]) == (1, 1)
    assert [(o.entry, o.status) for o in WaitlistOffer.objects.order_by("id")] == [
        (first, "expired"), (second, "offered")
    ]  # fmt: skip


def test_the_first_yes_books_and_a_later_yes_hears_it_has_gone(desk, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first, second = wait(desk), wait(desk)
    cancel(desk, capture)
    sweep(capture)

    taken = reply(second.patient, "Yes!", capture)
    late = reply(first.patient, "si", capture)

    won = WaitlistOffer.objects.get(entry=second)
    booked = won.appointment
    assert (booked.patient, booked.start, booked.provider, booked.room, booked.status) == (
        second.patient, SLOT, desk.doctor, desk.room, "booked"
    )  # fmt: skip
    assert (won.status, WaitlistOffer.objects.get(entry=first).status) == ("accepted", "gone")
    second.refresh_from_db()
    assert (second.status, second.appointment) == ("booked", booked)
    assert FreedSlot.objects.get().status == "filled"
    assert (taken.handled_by, late.handled_by) == ("scheduling.waitlist_replies.handle",) * 2
    # The booking service's own notice answers the YES (no second "waitlist_booked" text saying the same).
    assert list(Message.objects.filter(
        purpose__in=["appointment_booked", "waitlist_booked", "waitlist_gone"], channel="sms",
        patient__in=[first.patient, second.patient],
    ).values_list("patient", "purpose", "body").order_by("id")) == [
        (second.patient.pk, "appointment_booked",
         "Riverside Pain Clinic: you are booked for Wed 2 Dec, 11:00 AM. To change it, call (555) 555-0100."),
        (first.patient.pk, "waitlist_gone",
         "Riverside Pain Clinic: sorry, that visit has already been taken. You stay on our waitlist."),
    ]  # fmt: skip
    assert Appointment.objects.filter(start=SLOT, status="booked").count() == 1
    assert TriageItem.objects.count() == 0


def test_a_yes_after_the_offer_expired_books_nothing(desk, clock, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    entry = wait(desk)
    cancel(desk, capture)
    sweep(capture)
    clock.shift(dt.timedelta(hours=2))

    reply(entry.patient, "YES", capture)

    assert WaitlistOffer.objects.get().status == "gone"
    assert not Appointment.objects.filter(patient=entry.patient).exists()
    assert Message.objects.filter(patient=entry.patient, purpose="waitlist_gone").count() == 1


def test_a_yes_to_another_question_asked_later_is_not_taken(desk, django_capture_on_commit_callbacks, clock):
    capture = django_capture_on_commit_callbacks
    entry = wait(desk)
    cancel(desk, capture)
    sweep(capture)
    clock.shift(dt.timedelta(minutes=5))
    with capture(execute=True):  # a later question of another app (tpi's check-in expects an answer)
        message_queue(patient=entry.patient, channel="sms", purpose="check_in", template="check_in", context={})

    inbound = reply(entry.patient, "yes", capture)

    assert inbound.handled_by == ""
    assert WaitlistOffer.objects.get().status == "offered"
    assert inbound.triage_item.reason == "free_text"


def test_a_move_frees_the_old_time_and_an_undone_cancellation_takes_it_back(desk, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    wait(desk)
    with capture(execute=True):
        appointment_move(appointment=desk.visit, start=SLOT + dt.timedelta(days=1), by=desk.frontdesk)
    assert list(FreedSlot.objects.values_list("start", "status")) == [(SLOT, "open")]

    other = appointment_book(
        patient=desk.patient2, provider=desk.doctor, room=desk.room2, appointment_type=desk.tpi,
        start=SLOT + dt.timedelta(days=2), by=desk.frontdesk,
    )  # fmt: skip
    with capture(execute=True):
        appointment_cancel(appointment=other, by=desk.frontdesk, reason="double entry")
        appointment_status_undo(appointment=other, by=desk.frontdesk)

    assert list(FreedSlot.objects.order_by("start").values_list("start", "status")) == [
        (SLOT, "open"), (SLOT + dt.timedelta(days=2), "lapsed")
    ]  # fmt: skip


def test_no_slot_without_anyone_waiting_or_too_close_to_its_start(desk, clock, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    cancel(desk, capture)  # nobody waits
    assert FreedSlot.objects.count() == 0
    wait(desk)
    soon = appointment_book(
        patient=desk.patient2, provider=desk.doctor, room=desk.room, appointment_type=desk.tpi,
        start=NOW + dt.timedelta(minutes=90), by=desk.frontdesk,
    )  # fmt: skip
    cancel_soon = appointment_cancel(appointment=soon, by=desk.frontdesk, reason="ill")
    assert cancel_soon.status == "cancelled"
    assert FreedSlot.objects.count() == 0


def test_a_slot_booked_at_the_desk_meanwhile_is_gone_for_a_yes(desk, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    entry = wait(desk)
    cancel(desk, capture)
    appointment_book(
        patient=desk.patient2, provider=desk.doctor, room=desk.room, appointment_type=desk.tpi, start=SLOT,
        by=desk.frontdesk,
    )  # fmt: skip

    reply(entry.patient, "YES", capture)

    slot = FreedSlot.objects.get()
    assert (slot.status, slot.status_reason) == ("lapsed", "booked at the desk meanwhile")
    assert WaitlistOffer.objects.get().status == "gone"
    assert not Appointment.objects.filter(patient=entry.patient).exists()
    assert Message.objects.filter(patient=entry.patient, purpose="waitlist_gone").count() == 1


def test_the_database_allows_one_accepted_offer_per_slot(desk, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first, second = wait(desk), wait(desk)
    cancel(desk, capture)
    sweep(capture)
    reply(first.patient, "YES", capture)

    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistOffer.objects.filter(entry=second).update(status="accepted", appointment=desk.visit)


def test_withdrawn_entries_are_not_offered(desk, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    entry = wait(desk)
    waitlist_entry_withdraw(entry=entry, by=desk.frontdesk)
    with pytest.raises(ValidationError):
        waitlist_entry_withdraw(entry=entry, by=desk.frontdesk)

    cancel(desk, capture)

    assert FreedSlot.objects.count() == 0


def test_fills_by_month_count_accepted_offers_in_clinic_months(desk, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    entry = wait(desk)
    cancel(desk, capture)
    sweep(capture)
    reply(entry.patient, "YES", capture)
    WaitlistOffer.objects.filter(entry=entry).update(answered_at=at(2026, 12, 1, 0, 30))  # 05:30 UTC on Dec 1

    assert waitlist_fills_by_month(start=dt.date(2026, 11, 1), end=dt.date(2026, 12, 31)) == {dt.date(2026, 12, 1): 1}
    assert waitlist_fills_by_month(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)) == {}
