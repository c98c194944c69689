"""tpi.repeat_offers: a worn-off one-month answer offers a repeat by SMS; BOOK texts a time, YES books it."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic import roles
from clinic.messaging.consent import consent_change
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message, TriageItem
from scheduling.booking import appointment_book
from scheduling.models import Appointment
from tests.factories import (
    AppointmentTypeFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    signed_procedure,
    staff_user,
    working_week,
)
from tpi.models import FollowUp, RepeatOffer
from tpi.plans import plan_create
from tpi.repeat import repeat_candidates
from tpi.repeat_offers import repeat_offer_consider

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("America/New_York")
PHONE = "+12025550143"
SIDS = itertools.count(1)
CLINIC = "Riverside Pain Clinic"


def at(month, day, hour=0, minute=0) -> dt.datetime:
    """Return the aware instant of a 2026 wall time in the clinic (New York)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


NOW = at(11, 30, 10)  # Monday 10:00, inside the send window


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinic(settings, sms_outbox, clock):
    """Dr Lee (08:00-17:00 daily), one room, the TPI visit type, and a patient whose one-month follow-up was sent."""
    settings.TIME_ZONE = "America/New_York"
    settings.CLINIC_NAME = CLINIC
    settings.TPI_REPEAT_BOOKING_HORIZON_DAYS = 7

    class Clinic:
        doctor = working_week(ProviderFactory(user__first_name="Morgan", user__last_name="Lee", credentials="MD"))
        room = RoomFactory(name="Room 1")
        tpi = AppointmentTypeFactory(code="tpi", name="TPI procedure", buffer_after_minutes=10)
        patient = PatientFactory(mobile_phone=PHONE, time_zone="America/New_York")

    with time_machine.travel(at(10, 30, 11), tick=False):
        Clinic.procedure = signed_procedure(
            performed_at=at(10, 30, 10), patient=Clinic.patient, provider=Clinic.doctor, pain_before=7
        )
    FollowUp.objects.filter(procedure=Clinic.procedure, kind="reassessment").update(
        status="sent", sent_at=NOW - dt.timedelta(hours=1)
    )
    return Clinic


def reply(body, capture, *, sid=None, phone=PHONE, when=None):
    with time_machine.travel(when or NOW, tick=False), capture(execute=True):
        inbound, _ = inbound_sms_receive(
            provider_message_id=sid or f"SM{next(SIDS):032d}", from_number=phone, body=body
        )
    inbound.refresh_from_db()
    return inbound


def texts(purpose=None):
    messages = Message.objects.order_by("id")
    if purpose:
        messages = messages.filter(purpose=purpose)
    return [(m.purpose, m.status, m.body) for m in messages]


OFFER_TEXT = (
    f"{CLINIC}: sorry the pain is back. Reply BOOK and we'll find you a time with Dr Lee, or call (555) 555-0100. "
    "Reply STOP to opt out."  # the first text to this number
)


# --- The offer ----------------------------------------------------------------------------------------


def test_a_worn_off_one_month_answer_offers_a_repeat_once(clinic, django_capture_on_commit_callbacks):
    inbound = reply("7", django_capture_on_commit_callbacks)

    assert inbound.handled_by == "tpi.replies.handle"
    offer = RepeatOffer.objects.get()
    reassessment = clinic.procedure.follow_ups.get(kind="reassessment")
    assert (offer.procedure, offer.follow_up, offer.status, offer.offered_at) == (
        clinic.procedure, reassessment, "offered", NOW
    )  # fmt: skip
    assert texts() == [("repeat_offer", "sent", OFFER_TEXT)]
    assert Message.objects.get().source_key == f"repeat_offer:{offer.pk}"
    # The procedure is on the consider-repeat list, with what happened.
    assert [p.pk for p in repeat_candidates(user=clinic.doctor.user, now=NOW)] == [clinic.procedure.pk]


@pytest.mark.parametrize(("score", "offered"), [(6, True), (5, False)])  # 80% of 7 is 5.6
def test_only_an_answer_back_at_the_worn_off_share_offers(clinic, django_capture_on_commit_callbacks, score, offered):
    reply(str(score), django_capture_on_commit_callbacks)

    assert RepeatOffer.objects.exists() is offered
    assert len(texts("repeat_offer")) == int(offered)


def test_a_worn_off_check_in_offers_nothing(clinic, django_capture_on_commit_callbacks):
    FollowUp.objects.filter(procedure=clinic.procedure, kind="reassessment").update(status="scheduled", sent_at=None)
    FollowUp.objects.filter(procedure=clinic.procedure, kind="check_in").update(
        status="sent", sent_at=NOW - dt.timedelta(hours=1)
    )

    reply("7", django_capture_on_commit_callbacks)

    assert clinic.procedure.follow_ups.get(kind="check_in").answer_pain_score == 7
    assert not RepeatOffer.objects.exists()
    assert texts() == []


def test_a_visit_ahead_means_no_offer(clinic, django_capture_on_commit_callbacks):
    appointment_book(
        patient=clinic.patient, provider=clinic.doctor, room=clinic.room, appointment_type=clinic.tpi,
        start=at(12, 3, 9), by=None,
    )  # fmt: skip
    Message.objects.all().delete()

    reply("7", django_capture_on_commit_callbacks)

    assert not RepeatOffer.objects.exists()
    assert texts() == []


def test_a_visit_in_the_past_is_not_ahead(clinic, django_capture_on_commit_callbacks):
    with time_machine.travel(at(11, 20, 8), tick=False):
        appointment_book(
            patient=clinic.patient, provider=clinic.doctor, room=clinic.room, appointment_type=clinic.tpi,
            start=at(11, 23, 9), by=None,
        )  # fmt: skip
    Message.objects.all().delete()

    reply("7", django_capture_on_commit_callbacks)

    assert RepeatOffer.objects.get().status == "offered"


def test_a_plan_with_an_injection_left_means_no_offer(clinic, django_capture_on_commit_callbacks):
    plan_create(
        patient=clinic.patient, by=clinic.doctor.user, provider=clinic.doctor, start_date=dt.date(2027, 3, 2),
        preferred_time=dt.time(10), interval_weeks=4, injections=2,
    )  # fmt: skip

    reply("7", django_capture_on_commit_callbacks)

    assert not RepeatOffer.objects.exists()
    assert texts() == []


def test_no_sms_consent_means_no_offer(clinic, django_capture_on_commit_callbacks):
    type(clinic.patient).objects.filter(pk=clinic.patient.pk).update(sms_consent=False)

    repeat_offer_consider(follow_up=_answered(clinic), at=NOW)

    assert not RepeatOffer.objects.exists()
    assert Message.objects.count() == 0


def test_an_opted_out_patient_gets_no_offer(clinic, django_capture_on_commit_callbacks):
    consent_change(patient=clinic.patient, channel="sms", granted=False, source="reply")

    repeat_offer_consider(follow_up=_answered(clinic), at=NOW)

    assert not RepeatOffer.objects.exists()
    assert Message.objects.count() == 0


def _answered(clinic) -> FollowUp:
    FollowUp.objects.filter(procedure=clinic.procedure, kind="reassessment").update(
        status="answered", answer_pain_score=7, answered_at=NOW, answer_method="sms"
    )
    return clinic.procedure.follow_ups.get(kind="reassessment")


def test_an_offer_is_made_once_per_procedure(clinic, django_capture_on_commit_callbacks):
    follow_up = _answered(clinic)
    with django_capture_on_commit_callbacks(execute=True):
        first = repeat_offer_consider(follow_up=follow_up, at=NOW)
        again = repeat_offer_consider(follow_up=follow_up, at=NOW + dt.timedelta(minutes=5))

    assert (first.status, again) == ("offered", None)
    assert RepeatOffer.objects.count() == 1
    assert Message.objects.filter(purpose="repeat_offer").count() == 1


def test_the_same_webhook_twice_offers_once(clinic, django_capture_on_commit_callbacks):
    reply("7", django_capture_on_commit_callbacks, sid="SM-same")
    reply("7", django_capture_on_commit_callbacks, sid="SM-same")
    reply("7", django_capture_on_commit_callbacks)  # a second answer: the follow-up is answered already

    assert RepeatOffer.objects.count() == 1
    assert texts() == [("repeat_offer", "sent", OFFER_TEXT)]


def test_an_answer_in_quiet_hours_waits_for_the_morning(clinic, django_capture_on_commit_callbacks):
    late = at(11, 30, 22)  # 22:00, after the send window closed
    reassessment = FollowUp.objects.filter(procedure=clinic.procedure, kind="reassessment")
    reassessment.update(sent_at=late - dt.timedelta(hours=1))

    reply("7", django_capture_on_commit_callbacks, when=late)

    message = Message.objects.get(purpose="repeat_offer")
    assert (message.status, message.next_attempt_at) == ("queued", at(12, 1, 9))


def test_the_offer_in_spanish(clinic, django_capture_on_commit_callbacks):
    type(clinic.patient).objects.filter(pk=clinic.patient.pk).update(preferred_language="es")

    reply("7", django_capture_on_commit_callbacks)

    assert texts() == [
        (
            "repeat_offer",
            "sent",
            f"{CLINIC}: lamentamos que el dolor haya vuelto. Responda CITA y le buscaremos una hora con Dr Lee, "
            "o llame al (555) 555-0100. Responda STOP para darse de baja.",
        )
    ]


# --- BOOK, then YES ------------------------------------------------------------------------------------


def test_book_texts_the_nearest_time_and_yes_books_exactly_one_visit(clinic, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reply("7", capture)

    book = reply("Book", capture, when=NOW + dt.timedelta(minutes=5))

    assert book.handled_by == "tpi.repeat_replies.handle"
    offer = RepeatOffer.objects.get()
    assert (offer.status, offer.slot_provider, offer.slot_room, offer.slot_start, offer.slots_offered) == (
        "slot_offered", clinic.doctor, clinic.room, at(12, 1, 8), 1
    )  # fmt: skip
    assert texts("repeat_slot") == [
        ("repeat_slot", "sent", f"{CLINIC}: Dr Lee can see you Tue 1 Dec, 8:00 AM. Reply YES to book it.")
    ]

    yes = reply("yes", capture, when=NOW + dt.timedelta(minutes=9))
    again = reply("YES", capture, when=NOW + dt.timedelta(minutes=10))

    offer.refresh_from_db()
    visit = Appointment.objects.get()
    assert (visit.patient, visit.provider, visit.room, visit.start, visit.appointment_type) == (
        clinic.patient, clinic.doctor, clinic.room, at(12, 1, 8), clinic.tpi
    )  # fmt: skip
    assert (offer.status, offer.appointment) == ("booked", visit)
    assert (yes.handled_by, again.handled_by, again.needs_review) == (
        "tpi.repeat_replies.handle", "tpi.repeat_replies.handle", False
    )  # fmt: skip
    # The booking service's own notice answers the YES; nothing more for the repeated YES.
    assert texts()[2:] == [
        (
            "appointment_booked",
            "sent",
            f"{CLINIC}: you are booked for Tue 1 Dec, 8:00 AM. To change it, call (555) 555-0100.",
        )
    ]
    # A booked repeat is something ahead: the procedure leaves the consider-repeat list.
    assert list(repeat_candidates(user=clinic.doctor.user, now=NOW + dt.timedelta(minutes=10))) == []


def test_a_book_at_night_is_offered_a_time_after_the_morning_text(clinic, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reply("7", capture)

    reply("BOOK", capture, when=at(11, 30, 23, 30))

    offer = RepeatOffer.objects.get()
    message = Message.objects.get(purpose="repeat_slot")
    # The text waits for 09:00 on Tuesday, so Tuesday 08:00 would be gone: Wednesday is the first day.
    assert (offer.slot_start, message.status, message.next_attempt_at) == (at(12, 2, 8), "queued", at(12, 1, 9))


def test_yes_tells_the_time_itself_when_the_visit_type_sends_no_notice(clinic, django_capture_on_commit_callbacks):
    type(clinic.tpi).objects.filter(pk=clinic.tpi.pk).update(send_confirmations=False)
    capture = django_capture_on_commit_callbacks
    reply("7", capture)
    reply("BOOK", capture)

    reply("Sí", capture)

    offer = RepeatOffer.objects.get()
    assert offer.status == "booked"
    assert texts()[2:] == [
        (
            "repeat_booked",
            "sent",
            f"{CLINIC}: you are booked with Dr Lee for Tue 1 Dec, 8:00 AM. To change it, call (555) 555-0100.",
        )
    ]


def test_a_time_taken_before_the_yes_is_replaced_by_a_fresh_one(clinic, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reply("7", capture)
    reply("BOOK", capture)
    appointment_book(
        patient=PatientFactory(), provider=clinic.doctor, room=clinic.room, appointment_type=clinic.tpi,
        start=at(12, 1, 8), by=None,
    )  # fmt: skip

    reply("YES", capture)

    offer = RepeatOffer.objects.get()
    assert (offer.status, offer.slot_start, offer.slots_offered, offer.status_reason) == (
        "slot_offered", at(12, 1, 8, 45), 2, "the time offered before was taken"
    )  # fmt: skip
    assert Appointment.objects.filter(patient=clinic.patient).count() == 0
    assert [body for _, _, body in texts("repeat_slot")][1] == (
        f"{CLINIC}: sorry, that time has just been taken. Dr Lee can see you Tue 1 Dec, 8:45 AM. Reply YES to book it."
    )

    reply("YES", capture)

    offer.refresh_from_db()
    assert (offer.status, offer.appointment.start) == ("booked", at(12, 1, 8, 45))


def test_a_time_taken_with_no_other_goes_to_the_desk(clinic, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    lee = ProviderFactory(user__first_name="Ana", user__last_name="Ruiz")
    working_week(lee, start=dt.time(8), end=dt.time(8, 30), weekdays=[1])  # Tuesdays 08:00-08:30 only
    FollowUp.objects.filter(procedure=clinic.procedure).update(status="cancelled")
    with time_machine.travel(at(10, 30, 12), tick=False):
        procedure = signed_procedure(performed_at=at(10, 30, 11), patient=clinic.patient, provider=lee, pain_before=7)
    FollowUp.objects.filter(procedure=procedure, kind="reassessment").update(
        status="sent", sent_at=NOW - dt.timedelta(hours=1)
    )
    reply("7", capture)
    reply("BOOK", capture)
    appointment_book(
        patient=PatientFactory(), provider=lee, room=clinic.room, appointment_type=clinic.tpi, start=at(12, 1, 8),
        by=None,
    )  # fmt: skip

    yes = reply("YES", capture)

    offer = RepeatOffer.objects.get()
    item = TriageItem.objects.get(reason="booking")
    assert (offer.status, offer.triage_item, offer.appointment) == ("sent_to_desk", item, None)
    assert (item.patient, item.reason, item.inbound, item.concerns, item.answers) == (
        clinic.patient, "booking", yes, procedure, offer
    )  # fmt: skip
    assert item.detail == (
        "asked to book a repeat injection with Ana Ruiz, MD: the time offered was taken and no other is free "
        "within 7 days"
    )
    assert yes.needs_review
    assert texts("repeat_desk") == [
        (
            "repeat_desk",
            "sent",
            f"{CLINIC}: sorry, that time has just been taken and we have no other free soon. "
            "We will call you to find one.",
        )
    ]


def test_no_free_time_sends_the_request_to_the_desk(clinic, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    clinic.doctor.working_hours.all().delete()
    reply("7", capture)

    book = reply("CITA", capture)

    offer = RepeatOffer.objects.get()
    item = TriageItem.objects.get(reason="booking")
    assert (offer.status, offer.status_reason, offer.triage_item) == ("sent_to_desk", "no free time", item)
    assert (item.reason, item.urgency, item.inbound, item.concerns, item.answers) == (
        "booking", 20, book, clinic.procedure, offer
    )  # fmt: skip
    assert item.detail == "asked to book a repeat injection with Morgan Lee, MD: no free time within 7 days"
    assert (book.handled_by, book.needs_review) == ("tpi.repeat_replies.handle", True)
    assert texts("repeat_desk") == [
        ("repeat_desk", "sent", f"{CLINIC}: sorry, we have no free time soon. We will call you to find one.")
    ]
    assert Appointment.objects.count() == 0

    later = reply("BOOK", capture)  # the desk has it: a person reads the next reply
    assert (later.handled_by, later.needs_review) == ("", True)
    assert TriageItem.objects.filter(inbound=later).values_list("reason", flat=True).get() == "free_text"


def test_the_time_is_at_the_procedures_location(clinic, django_capture_on_commit_callbacks):
    from tests.factories import LocationFactory

    north_room = RoomFactory(name="Zeta 1", location=LocationFactory(name="Zeta"))  # sorts after Room 1
    FollowUp.objects.filter(procedure=clinic.procedure).update(status="cancelled")
    with time_machine.travel(at(10, 20, 8), tick=False):
        visit = appointment_book(
            patient=clinic.patient, provider=clinic.doctor, room=north_room, appointment_type=clinic.tpi,
            start=at(10, 30, 11), by=None,
        )  # fmt: skip
    with time_machine.travel(at(10, 30, 12), tick=False):
        procedure = signed_procedure(
            performed_at=at(10, 30, 11), patient=clinic.patient, provider=clinic.doctor, pain_before=7,
            appointment=visit,
        )  # fmt: skip
    FollowUp.objects.filter(procedure=procedure, kind="reassessment").update(
        status="sent", sent_at=NOW - dt.timedelta(hours=1)
    )
    capture = django_capture_on_commit_callbacks
    reply("7", capture)

    reply("BOOK", capture)

    offer = RepeatOffer.objects.get()
    assert (offer.procedure, offer.slot_room, offer.slot_start) == (procedure, north_room, at(12, 1, 8))


def test_a_book_from_a_patient_with_a_plan_is_the_plans(clinic, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reply("7", capture)
    plan_create(
        patient=clinic.patient, by=clinic.doctor.user, provider=clinic.doctor, start_date=dt.date(2027, 3, 2),
        preferred_time=dt.time(10), interval_weeks=4, injections=2,
    )  # fmt: skip

    book = reply("BOOK", capture)

    assert book.handled_by == "tpi.plan_replies.handle"
    assert RepeatOffer.objects.get().status == "offered"


def test_a_yes_to_a_waitlist_offer_is_not_a_repeat(clinic, django_capture_on_commit_callbacks):
    """The latest question decides: after the repeat's time, a reminder's YES confirms the reminded visit."""
    capture = django_capture_on_commit_callbacks
    reply("7", capture)
    reply("BOOK", capture)
    from clinic.messaging.outbox import message_queue

    with capture(execute=True):
        message_queue(
            patient=clinic.patient, channel="sms", purpose="waitlist_offer", template="waitlist_offer",
            context={"when": "Wed 2 Dec, 11:00 AM"}, source_key="waitlist_offer:999999",
        )  # fmt: skip

    yes = reply("YES", capture, when=NOW + dt.timedelta(minutes=1))

    assert yes.handled_by == ""
    assert RepeatOffer.objects.get().status == "slot_offered"
    assert Appointment.objects.count() == 0


def test_the_lists_and_the_procedure_page_say_what_happened(clinic, client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    reply("7", capture)
    reply("BOOK", capture)
    client.force_login(staff_user(roles.CLINIC_ADMIN))

    rows = client.get("/admin/tpi/procedureoutcome/repeat/").context["rows"]
    page = client.get(f"/admin/tpi/procedure/{clinic.procedure.pk}/change/").content.decode()

    summary = "Repeat offered by SMS 2026-11-30 10:00; asked to book, time offered: 2026-12-01 08:00 (awaiting YES)."
    assert [(row["procedure"], row["offer"]) for row in rows] == [(clinic.procedure, summary)]
    assert summary in page


def test_the_desk_reads_the_request_in_the_triage_inbox(clinic, client, django_capture_on_commit_callbacks):
    clinic.doctor.working_hours.all().delete()
    reply("6", django_capture_on_commit_callbacks)
    reply("BOOK", django_capture_on_commit_callbacks)
    client.force_login(staff_user(roles.FRONT_DESK))

    page = client.get("/admin/messaging/triageitem/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Asks to book a visit" in text
    assert "asked to book a repeat injection with Morgan Lee, MD: no free time within 7 days" in text
    assert "TPI procedure 2026-10-30" in text


def test_a_time_that_cannot_be_texted_leaves_the_reply_to_the_desk(
    clinic, settings, django_capture_on_commit_callbacks
):
    reply("6", django_capture_on_commit_callbacks)
    settings.MESSAGING_SMS_MAX_SEGMENTS = 1
    settings.CLINIC_NAME = "Riverside Pain Clinic " * 6  # no time offer fits in one segment with it

    book = reply("BOOK", django_capture_on_commit_callbacks)

    assert (book.handled_by, book.needs_review) == ("", True)  # the webhook did not fail; a person has it
    assert book.triage_item.reason == "free_text"
    offer = RepeatOffer.objects.get()
    assert (offer.status, offer.slots_offered, offer.slot_start) == ("offered", 0, None)  # nothing half-done
    assert texts("repeat_slot") == []


def test_the_patients_export_holds_the_offer(clinic, django_capture_on_commit_callbacks):
    from clinic.audit.export import patient_record_export

    reply("6", django_capture_on_commit_callbacks)
    reply("BOOK", django_capture_on_commit_callbacks)

    record = patient_record_export(user=staff_user(roles.CLINIC_ADMIN), patient=clinic.patient)

    [offer] = record["sections"]["repeat_offers"]
    assert (offer["procedure_id"], offer["status"], offer["slots_offered"]) == (clinic.procedure.pk, "slot_offered", 1)
