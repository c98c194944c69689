"""plans_book_due / plan_book_next: preferred local time, tolerance window, review queue, idempotency."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clinic.messaging.models import Message
from scheduling.booking import appointment_book
from scheduling.models import Appointment, TimeOff
from tests.factories import PatientFactory, ProviderFactory, RoomFactory, working_week
from tests.tpi.plan_setup import at, make_plan
from tpi import plans
from tpi.models import PlanOccurrence, TreatmentPlan
from tpi.plan_tasks import plan_book_next_task, plans_book_due_task
from tpi.plans import occurrence_book, occurrence_skip, plan_book_next, plans_book_due


def _starts(plan) -> list[dt.datetime]:
    return [o.appointment.start for o in plan.occurrences.select_related("appointment").order_by("sequence")]


def test_occurrences_are_booked_at_the_preferred_local_time_across_the_dst_change(
    plan_clinic, sms_outbox, django_capture_on_commit_callbacks
):
    plan = make_plan(plan_clinic, interval_weeks=1, injections=3)

    with django_capture_on_commit_callbacks(execute=True):
        totals = plans_book_due()

    assert totals == {"plans": 1, "booked": 3, "needs_review": 0}
    # 10:00 in New York is 15:00 UTC before 8 March (EST) and 14:00 UTC after it (EDT).
    assert _starts(plan) == [
        dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC),
    ]
    appointments = Appointment.objects.order_by("start")
    assert [(a.patient, a.provider, a.room, a.appointment_type, a.end - a.start) for a in appointments] == [
        (plan_clinic.patient, plan_clinic.doctor, plan_clinic.room, plan_clinic.tpi, dt.timedelta(minutes=30))
    ] * 3
    assert set(plan.occurrences.values_list("status", flat=True)) == {"booked"}
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.COMPLETED  # every injection has its visit
    assert [m.body for m in sms_outbox] == [
        # The first text to the number says how to opt out; the next ones within 30 days need not.
        "Riverside Pain Clinic: you are booked for Tue 3 Mar, 10:00 AM. To change it, call (555) 555-0100. "
        "Reply STOP to opt out.",
        "Riverside Pain Clinic: you are booked for Tue 10 Mar, 10:00 AM. To change it, call (555) 555-0100.",
        "Riverside Pain Clinic: you are booked for Tue 17 Mar, 10:00 AM. To change it, call (555) 555-0100.",
    ]
    assert {m.to for m in sms_outbox} == {"+12025550143"}
    # The booking service confirms each visit once (scheduling.reminders); the plan sends nothing of its own.
    appointment_ids = list(plan.occurrences.order_by("sequence").values_list("appointment_id", flat=True))
    assert list(Message.objects.order_by("source_key").values_list("source_key", "purpose", "template", "status")) == [
        (f"appointment:{pk}:booked", "appointment_booked", "appointment_booked", "sent")
        for pk in sorted(appointment_ids, key=str)
    ]


def test_a_spanish_speaking_patient_is_confirmed_in_spanish(
    plan_clinic, sms_outbox, django_capture_on_commit_callbacks
):
    plan_clinic.patient.preferred_language = "es"
    plan_clinic.patient.save()
    make_plan(plan_clinic, injections=1)

    with django_capture_on_commit_callbacks(execute=True):
        plans_book_due()

    assert [m.body for m in sms_outbox] == [
        "Riverside Pain Clinic: tiene cita el mar 3/03, 10:00. Para cambiarla, llame al (555) 555-0100. "
        "Responda STOP para darse de baja."
    ]


def test_only_occurrences_within_the_horizon_are_booked(plan_clinic, plan_settings):
    plan = make_plan(plan_clinic, interval_weeks=4, injections=3)  # 3 Mar, 31 Mar, 28 Apr

    assert plans_book_due()["booked"] == 2
    assert list(plan.occurrences.values_list("status", flat=True)) == ["booked", "booked", "planned"]

    plan_settings.TPI_PLAN_BOOKING_HORIZON_DAYS = 60
    assert plans_book_due()["booked"] == 1
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.COMPLETED


def test_running_twice_books_nothing_twice(plan_clinic, django_capture_on_commit_callbacks, sms_outbox):
    make_plan(plan_clinic, interval_weeks=1, injections=3)

    with django_capture_on_commit_callbacks(execute=True):
        first = plans_book_due()
        second = plans_book_due()
        plans_book_due_task.delay()

    assert first["booked"] == 3
    assert second == {"plans": 0, "booked": 0, "needs_review": 0}  # the plan completed
    assert Appointment.objects.count() == 3
    assert Message.objects.count() == 3
    assert len(sms_outbox) == 3


def test_a_taken_preferred_time_takes_the_nearest_free_slot_that_day(plan_clinic):
    appointment_book(
        patient=plan_clinic.other_patient,
        provider=plan_clinic.doctor,
        room=plan_clinic.room,
        appointment_type=plan_clinic.tpi,
        start=at(2026, 3, 3, 10),
        by=None,
    )  # fmt: skip  (10:00-10:30, blocked until 10:40 with the buffer)
    plan = make_plan(plan_clinic, injections=1)

    plans_book_due()

    occurrence = plan.occurrences.get()
    # 09:15 (ends 09:55 with its buffer) and 10:45 are both 45 minutes away: the earlier one wins.
    assert occurrence.status == "booked"
    assert occurrence.appointment.start == at(2026, 3, 3, 9, 15)


def test_a_day_off_takes_the_nearest_working_day_within_the_tolerance(plan_clinic):
    TimeOff.objects.create(provider=plan_clinic.doctor, start=at(2026, 3, 3), end=at(2026, 3, 4), reason="course")
    plan = make_plan(plan_clinic, injections=1)

    plans_book_due()

    # The day before at 16:30 (17.5 hours early) is nearer than the day after at 10:00 (24 hours late).
    assert plan.occurrences.get().appointment.start == at(2026, 3, 2, 16, 30)


def test_days_off_before_take_the_nearest_time_on_the_day_after(plan_clinic):
    TimeOff.objects.create(provider=plan_clinic.doctor, start=at(2026, 3, 2), end=at(2026, 3, 4), reason="course")
    plan = make_plan(plan_clinic, injections=1)

    plans_book_due()

    # 08:00 the day after (22 hours late) is nearer than 10:00 that day (24 hours late).
    assert plan.occurrences.get().appointment.start == at(2026, 3, 4, 8)


def test_any_eligible_provider_when_the_plan_names_none(plan_clinic):
    plan_clinic.doctor.working_hours.all().delete()
    nurse_practitioner = working_week(ProviderFactory(role="np_pa", credentials="NP"))
    plan = make_plan(plan_clinic, provider=None, injections=1)

    plans_book_due()

    assert plan.occurrences.get().appointment.provider == nurse_practitioner


def test_no_slot_within_the_tolerance_goes_to_review_with_the_reason(plan_clinic):
    TimeOff.objects.create(provider=plan_clinic.doctor, start=at(2026, 3, 2), end=at(2026, 3, 7), reason="away")
    plan = make_plan(plan_clinic, injections=2, interval_weeks=1)

    totals = plans_book_due()

    assert totals == {"plans": 1, "booked": 1, "needs_review": 1}
    first, second = plan.occurrences.order_by("sequence")
    assert (first.status, first.appointment, first.reason) == (
        "needs_review",
        None,
        "No free slot at 10:00 on 2026-03-03 nor within 2 days of it.",
    )
    assert (second.status, second.appointment.start) == ("booked", at(2026, 3, 10, 10))
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.ACTIVE  # one injection still waits for the front desk
    assert list(PlanOccurrence.objects.filter(status="needs_review")) == [first]

    plans_book_due()  # the daily job does not retry what is in review
    first.refresh_from_db()
    assert first.status == "needs_review"


def test_the_front_desk_books_again_or_skips_an_occurrence_in_review(plan_clinic):
    time_off = TimeOff.objects.create(
        provider=plan_clinic.doctor, start=at(2026, 3, 2), end=at(2026, 3, 7), reason="away"
    )
    plan = make_plan(plan_clinic, injections=2, interval_weeks=1)
    plans_book_due()
    first = plan.occurrences.get(sequence=1)
    time_off.delete()

    booked = occurrence_book(occurrence=first, by=plan_clinic.frontdesk)

    assert (booked.status, booked.appointment.start, booked.reason) == ("booked", at(2026, 3, 3, 10), "")
    with pytest.raises(ValidationError) as exc_info:
        occurrence_skip(occurrence=booked, by=plan_clinic.frontdesk, reason="done by phone")
    assert exc_info.value.message_dict == {"status": ["A booked injection cannot be skipped."]}


def test_skipping_the_last_open_occurrence_completes_the_plan(plan_clinic):
    TimeOff.objects.create(provider=plan_clinic.doctor, start=at(2026, 3, 2), end=at(2026, 3, 7), reason="away")
    plan = make_plan(plan_clinic, injections=1)
    plans_book_due()

    skipped = occurrence_skip(occurrence=plan.occurrences.get(), by=plan_clinic.frontdesk, reason="patient will call")

    assert skipped.status == "cancelled"
    assert skipped.reason == "skipped by frontdesk: patient will call"
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.COMPLETED


def test_the_patient_busy_elsewhere_at_the_preferred_time_moves_the_visit(plan_clinic):
    massage_room = RoomFactory(name="Room 2")
    other_doctor = working_week(ProviderFactory())
    appointment_book(
        patient=plan_clinic.patient, provider=other_doctor, room=massage_room, appointment_type=plan_clinic.tpi,
        start=at(2026, 3, 3, 10), by=None,
    )  # fmt: skip
    plan = make_plan(plan_clinic, injections=1)

    plans_book_due()

    assert plan.occurrences.get().appointment.start == at(2026, 3, 3, 9, 30)  # ends 10:00 as the other starts


def test_an_inactive_patient_goes_to_review(plan_clinic):
    plan = make_plan(plan_clinic, injections=1)
    plan_clinic.patient.status = "inactive"
    plan_clinic.patient.save()

    plans_book_due()

    occurrence = plan.occurrences.get()
    assert occurrence.status == "needs_review"
    assert occurrence.reason == "Cannot book: Only active patients can be booked."


def test_a_day_that_passed_unbooked_goes_to_review(plan_clinic, plan_frozen):
    plan = make_plan(plan_clinic, injections=2, interval_weeks=1)
    plan_frozen.move_to(dt.datetime(2026, 3, 6, 15, tzinfo=dt.UTC))  # 3 Mar + 2 days tolerance is over

    plans_book_due()

    first, second = plan.occurrences.order_by("sequence")
    assert (first.status, first.reason) == ("needs_review", "The injection day passed before it could be booked.")
    assert (second.status, second.appointment.start) == ("booked", at(2026, 3, 10, 10))


def test_a_preferred_time_already_past_today_takes_a_later_slot(plan_clinic, plan_frozen):
    plan_frozen.move_to(dt.datetime(2026, 3, 3, 16, 5, tzinfo=dt.UTC))  # 11:05 on the day itself
    plan = make_plan(plan_clinic, start_date=dt.date(2026, 3, 3), injections=1)

    plans_book_due()

    assert plan.occurrences.get().appointment.start == at(2026, 3, 3, 11, 15)


def test_book_next_books_the_next_occurrence_beyond_the_horizon(plan_clinic, django_capture_on_commit_callbacks):
    plan = make_plan(plan_clinic, start_date=dt.date(2026, 6, 2), injections=2)

    occurrence = plan_book_next(plan=plan)

    assert (occurrence.sequence, occurrence.status) == (1, "booked")
    assert occurrence.appointment.start == at(2026, 6, 2, 10)
    plan_book_next_task.delay(plan.pk)
    assert list(plan.occurrences.values_list("status", flat=True)) == ["booked", "booked"]
    plan.refresh_from_db()
    assert plan.status == TreatmentPlan.Status.COMPLETED
    assert plan_book_next(plan=plan) is None


def test_a_cancelled_plan_books_nothing(plan_clinic):
    plan = make_plan(plan_clinic)
    plan.status = TreatmentPlan.Status.CANCELLED
    plan.save()

    assert plans_book_due() == {"plans": 0, "booked": 0, "needs_review": 0}
    assert plan_book_next(plan=plan) is None
    assert Appointment.objects.count() == 0


def test_a_patient_without_sms_consent_is_booked_and_the_confirmation_skipped(plan_clinic, sms_outbox):
    plan_clinic.patient.sms_consent = False
    plan_clinic.patient.save()
    make_plan(plan_clinic, injections=1)

    plans_book_due()

    assert Appointment.objects.count() == 1
    message = Message.objects.get()
    assert (message.status, message.reason) != ("queued", "")
    assert message.status == "skipped"
    assert sms_outbox == []


def test_other_patients_share_the_day_without_double_booking(plan_clinic):
    plans = [make_plan(plan_clinic, injections=1)]
    for _ in range(3):
        plans.append(make_plan(plan_clinic, patient=PatientFactory(), injections=1))

    plans_book_due()

    starts = sorted(p.occurrences.get().appointment.start for p in plans)
    # One doctor, one room: 10:00 for the first, then the nearest free slots around it (ties: earlier).
    assert starts == [at(2026, 3, 3, 8, 30), at(2026, 3, 3, 9, 15), at(2026, 3, 3, 10), at(2026, 3, 3, 10, 45)]


def test_a_plan_that_fails_is_rolled_back_and_the_others_still_book(plan_clinic, caplog, monkeypatch):
    # A booking that raises (here: a bug stand-in for the broken patient's) undoes that plan's booking
    # only; the next run retries it.
    broken_patient = PatientFactory()
    broken = make_plan(plan_clinic, patient=broken_patient, injections=1)
    fine = make_plan(plan_clinic, injections=1)
    real_book = plans.appointment_book

    def book(**kwargs):
        appointment = real_book(**kwargs)
        if kwargs["patient"] == broken_patient:
            raise RuntimeError("broken")
        return appointment

    monkeypatch.setattr(plans, "appointment_book", book)

    totals = plans_book_due()

    assert totals == {"plans": 1, "booked": 1, "needs_review": 0, "failed": 1}
    assert broken.occurrences.get().status == "planned"
    assert Appointment.objects.filter(patient=broken_patient).count() == 0
    assert fine.occurrences.get().status == "booked"
    assert f"booking treatment plan {broken.pk} failed" in caplog.text


def test_a_confirmation_that_cannot_be_composed_leaves_the_booking_and_records_why(plan_clinic, caplog):
    # The clinic phone contains this patient's record number: the notice may not go out, the visit stands.
    patient = PatientFactory(mrn="55550100")
    plan = make_plan(plan_clinic, patient=patient, injections=1)

    assert plans_book_due() == {"plans": 1, "booked": 1, "needs_review": 0}

    appointment = plan.occurrences.get().appointment
    message = Message.objects.get(patient=patient)
    assert (message.source_key, message.status) == (f"appointment:{appointment.pk}:booked", "skipped")
    assert message.reason == "message not composed: SMS body contains the medical record number."
    assert f"appointment {appointment.pk}: its booked notice could not be composed" in caplog.text


def test_the_daily_run_reads_no_plan_that_has_nothing_due(
    plan_clinic, sms_outbox, django_assert_num_queries, django_capture_on_commit_callbacks
):
    far = [make_plan(plan_clinic, patient=PatientFactory(), start_date=dt.date(2026, 9, 1)) for _ in range(3)]

    with django_assert_num_queries(1):  # one query finds the plans with work: none
        assert plans_book_due() == {"plans": 0, "booked": 0, "needs_review": 0}

    assert {o.status for plan in far for o in plan.occurrences.all()} == {PlanOccurrence.Status.PLANNED}
