import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from scheduling.booking import appointment_book, appointment_cancel, appointment_move, appointment_status_set
from scheduling.exceptions import BookingConflict, OutsideWorkingHours
from scheduling.models import Appointment, AppointmentStatusChange, TimeOff
from tests.factories import PatientFactory, ProviderFactory, RoomFactory, UserFactory, working_week
from tests.scheduling.conftest import at


def book(c, *, start, patient=None, provider=None, room=None, appointment_type=None, **kwargs):
    return appointment_book(
        patient=patient or c.patient,
        provider=provider or c.doctor,
        room=room or c.room,
        appointment_type=appointment_type or c.tpi,
        start=start,
        by=c.frontdesk,
        **kwargs,
    )


def test_book_sets_end_from_type_blocks_buffer_and_records_who(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10), notes="left trapezius")

    appointment.refresh_from_db()
    assert appointment.end == at(2026, 11, 30, 10, 30)
    assert appointment.blocked_end == at(2026, 11, 30, 10, 40)
    assert appointment.status == Appointment.Status.BOOKED
    assert appointment.created_by == clinic.frontdesk
    change = AppointmentStatusChange.objects.get(appointment=appointment)
    assert (change.from_status, change.to_status, change.changed_by) == ("", "booked", clinic.frontdesk)
    assert change.changed_at == at(2026, 11, 30, 7)


def test_same_provider_overlap_is_refused_naming_the_appointment(clinic):
    first = book(clinic, start=at(2026, 11, 30, 10))

    with pytest.raises(BookingConflict) as error:
        book(clinic, start=at(2026, 11, 30, 10, 15), patient=clinic.patient2, room=clinic.room2)

    assert error.value.appointments == [first]
    assert error.value.collisions[0].on == ("provider",)
    assert str(error.value) == (
        "Conflict: Morgan Lee, MD is already booked: TPI procedure for "
        f"{clinic.patient.display_name} with Morgan Lee, MD in Room 1, Mon 2026-11-30 10:00-10:30."
    )
    assert Appointment.objects.count() == 1


def test_buffer_after_blocks_provider_and_room_but_not_the_patient(clinic):
    book(clinic, start=at(2026, 11, 30, 10))  # visit 10:00-10:30, blocked until 10:40

    with pytest.raises(BookingConflict) as error:
        book(clinic, start=at(2026, 11, 30, 10, 35), patient=clinic.patient2)
    assert error.value.collisions[0].on == ("provider", "room")

    other_doctor = working_week(ProviderFactory())
    # The patient may see another provider in another room right after the visit, during the buffer.
    booked = book(clinic, start=at(2026, 11, 30, 10, 30), provider=other_doctor, room=clinic.room2)
    assert booked.start == at(2026, 11, 30, 10, 30)
    # The first provider is free again when the buffer ends.
    assert book(clinic, start=at(2026, 11, 30, 10, 40), patient=clinic.patient2).pk


def test_room_and_patient_overlaps_are_refused(clinic):
    book(clinic, start=at(2026, 11, 30, 10))
    other_doctor = working_week(ProviderFactory())

    with pytest.raises(BookingConflict) as room_error:
        book(clinic, start=at(2026, 11, 30, 10), provider=other_doctor, patient=clinic.patient2)
    with pytest.raises(BookingConflict) as patient_error:
        book(clinic, start=at(2026, 11, 30, 10, 20), provider=other_doctor, room=clinic.room2)

    assert room_error.value.collisions[0].on == ("room",)
    assert str(room_error.value).startswith("Conflict: Room 1 is already booked: TPI procedure for ")
    assert patient_error.value.collisions[0].on == ("patient",)
    assert str(patient_error.value) == (
        "Conflict: the patient is already booked: TPI procedure for "
        f"{clinic.patient.display_name} with Morgan Lee, MD in Room 1, Mon 2026-11-30 10:00-10:30."
    )


def test_cancelled_and_no_show_appointments_free_their_time(clinic, frozen):
    first = book(clinic, start=at(2026, 11, 30, 10))
    appointment_cancel(appointment=first, by=clinic.frontdesk, reason="patient ill")
    second = book(clinic, start=at(2026, 11, 30, 10))
    frozen.move_to(at(2026, 11, 30, 10, 5))  # a no-show only once the visit has started
    appointment_status_set(appointment=second, status="no_show", by=clinic.frontdesk)
    frozen.move_to(at(2026, 11, 30, 7))  # book the freed time as if before the day began

    third = book(clinic, start=at(2026, 11, 30, 10))

    assert Appointment.objects.active().get() == third


def test_outside_working_hours_and_time_off_are_refused(clinic):
    with pytest.raises(OutsideWorkingHours) as early:
        book(clinic, start=at(2026, 11, 30, 7, 45))
    with pytest.raises(OutsideWorkingHours) as late:
        book(clinic, start=at(2026, 11, 30, 16, 45))
    TimeOff.objects.create(provider=clinic.doctor, start=at(2026, 11, 30, 12), end=at(2026, 11, 30, 13), reason="CME")
    with pytest.raises(OutsideWorkingHours) as off:
        book(clinic, start=at(2026, 11, 30, 12, 15))

    assert str(early.value) == "The time is outside the provider's working hours."
    assert str(late.value) == "The time is outside the provider's working hours."
    assert str(off.value) == "The provider is off (CME) at that time."
    assert Appointment.objects.count() == 0


def test_several_intervals_a_day_are_honoured(clinic):
    doctor = ProviderFactory()
    working_week(doctor, start=dt.time(8), end=dt.time(12), weekdays=[0])
    working_week(doctor, start=dt.time(13), end=dt.time(17), weekdays=[0])

    assert book(clinic, start=at(2026, 11, 30, 13), provider=doctor).pk
    with pytest.raises(OutsideWorkingHours):
        book(clinic, start=at(2026, 11, 30, 11, 45), provider=doctor, patient=clinic.patient2)


def test_touching_intervals_join_so_a_visit_may_span_them(clinic):
    doctor = ProviderFactory()
    working_week(doctor, start=dt.time(8), end=dt.time(12), weekdays=[0])
    working_week(doctor, start=dt.time(12), end=dt.time(17), weekdays=[0])

    assert book(clinic, start=at(2026, 11, 30, 11, 45), provider=doctor).end == at(2026, 11, 30, 12, 15)


def test_working_hours_hold_in_local_time_across_dst(clinic):
    # 2027-03-14 is the spring-forward day in New York; 08:00 local is 12:00 UTC afterwards, 13:00 before.
    booked = book(clinic, start=at(2027, 3, 15, 8))
    assert booked.start.astimezone(dt.UTC).hour == 12
    with pytest.raises(OutsideWorkingHours):
        book(clinic, start=at(2027, 3, 15, 7, 30), patient=clinic.patient2)


def test_clinic_admin_override_is_recorded_and_others_are_refused(clinic):
    with pytest.raises(PermissionDenied):
        book(clinic, start=at(2026, 11, 30, 18), override_hours=True)

    admin_user = UserFactory(username="office-manager")
    admin_user.groups.add(Group.objects.get(name="clinic admin"))
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 18),
        by=admin_user,
        override_hours=True,
    )

    assert (appointment.hours_override_by, appointment.hours_override_at) == (admin_user, at(2026, 11, 30, 7))
    assert appointment.status_changes.get().reason == "booked outside working hours (clinic-admin override)"


def test_override_inside_working_hours_records_nothing(clinic):
    superuser = UserFactory(username="root", is_superuser=True)
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 9),
        by=superuser,
        override_hours=True,
    )
    assert appointment.hours_override_by is None


def test_bad_input_is_a_validation_error_naming_the_field(clinic):
    with pytest.raises(ValidationError) as role:
        book(clinic, start=at(2026, 11, 30, 9), provider=clinic.therapist)
    with pytest.raises(ValidationError) as naive:
        book(clinic, start=dt.datetime(2026, 11, 30, 9))
    with pytest.raises(ValidationError) as backwards:
        book(clinic, start=at(2026, 11, 30, 9), end=at(2026, 11, 30, 8))
    inactive_room = RoomFactory(name="Closed", is_active=False)
    with pytest.raises(ValidationError) as room:
        book(clinic, start=at(2026, 11, 30, 9), room=inactive_room)

    assert role.value.message_dict == {
        "provider": [f"{clinic.therapist} (Massage therapist) may not take TPI procedure visits."]
    }
    assert naive.value.message_dict == {
        "start": ["The start must be a date and time with a time zone."],
        "end": ["The end must be a date and time with a time zone."],
    }
    assert backwards.value.message_dict == {"end": ["The end must be after the start."]}
    assert room.value.message_dict == {"room": ["Room Closed is not in use."]}
    assert Appointment.objects.count() == 0


def test_move_checks_conflicts_against_others_but_not_itself(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    other = book(clinic, start=at(2026, 11, 30, 11), patient=clinic.patient2)

    moved = appointment_move(appointment=appointment, start=at(2026, 11, 30, 10, 15), by=clinic.frontdesk)
    assert (moved.start, moved.end, moved.blocked_end) == (
        at(2026, 11, 30, 10, 15),
        at(2026, 11, 30, 10, 45),
        at(2026, 11, 30, 10, 55),
    )
    with pytest.raises(BookingConflict) as error:
        appointment_move(appointment=appointment, start=at(2026, 11, 30, 10, 45), by=clinic.frontdesk)
    assert error.value.appointments == [other]
    appointment.refresh_from_db()
    assert appointment.start == at(2026, 11, 30, 10, 15)


def test_move_to_another_room_and_provider(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    doctor = working_week(ProviderFactory())

    moved = appointment_move(
        appointment=appointment, start=at(2026, 11, 30, 14), provider=doctor, room=clinic.room2, by=clinic.frontdesk
    )

    moved.refresh_from_db()
    assert (moved.provider, moved.room, moved.start) == (doctor, clinic.room2, at(2026, 11, 30, 14))


def test_status_changes_follow_transitions_and_keep_history(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    for status in ["confirmed", "checked_in", "completed"]:
        appointment = appointment_status_set(appointment=appointment, status=status, by=clinic.frontdesk)

    with pytest.raises(ValidationError) as error:
        appointment_status_set(appointment=appointment, status="cancelled", by=clinic.frontdesk, reason="late")

    assert error.value.message_dict == {"status": ["A completed appointment cannot become cancelled."]}
    history = list(appointment.status_changes.values_list("from_status", "to_status"))
    assert history == [
        ("", "booked"),
        ("booked", "confirmed"),
        ("confirmed", "checked_in"),
        ("checked_in", "completed"),
    ]


def test_cancel_needs_a_reason_and_stores_it(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    with pytest.raises(ValidationError) as error:
        appointment_cancel(appointment=appointment, by=clinic.frontdesk, reason="  ")
    assert error.value.message_dict == {"reason": ["Give a reason for the cancellation."]}

    cancelled = appointment_cancel(appointment=appointment, by=clinic.frontdesk, reason="patient travelling")

    assert (cancelled.status, cancelled.cancellation_reason) == ("cancelled", "patient travelling")
    assert cancelled.status_changes.last().reason == "patient travelling"
    with pytest.raises(ValidationError):
        appointment_move(appointment=cancelled, start=at(2026, 11, 30, 11), by=clinic.frontdesk)


def test_inactive_patient_is_refused(clinic):
    patient = PatientFactory(status="inactive")
    with pytest.raises(ValidationError) as error:
        book(clinic, start=at(2026, 11, 30, 10), patient=patient)
    assert error.value.message_dict == {"patient": ["Only active patients can be booked."]}
