"""The booking service's status rules: no-show after the start, check-in on the day, undo within the window."""

import pytest
from django.core.exceptions import ValidationError

from clinic import roles
from scheduling.booking import appointment_book, appointment_cancel, appointment_status_set, appointment_status_undo
from scheduling.exceptions import BookingConflict
from scheduling.models import Appointment
from tests.factories import staff_user
from tests.scheduling.conftest import at

S = Appointment.Status


def book(c, *, start, patient=None):
    return appointment_book(
        patient=patient or c.patient,
        provider=c.doctor,
        room=c.room,
        appointment_type=c.tpi,
        start=start,
        by=c.frontdesk,
    )


def test_no_show_is_refused_before_the_start_and_allowed_after(clinic, frozen):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    frozen.move_to(at(2026, 11, 30, 9, 59))

    with pytest.raises(ValidationError) as error:
        appointment_status_set(appointment=appointment, status=S.NO_SHOW, by=clinic.frontdesk)

    assert error.value.message_dict == {
        "status": ["The appointment starts at 10:00 on Mon 30 Nov: it cannot be a no-show yet."]
    }
    frozen.move_to(at(2026, 11, 30, 10))
    assert appointment_status_set(appointment=appointment, status=S.NO_SHOW, by=clinic.frontdesk).status == S.NO_SHOW


def test_check_in_only_on_the_appointments_local_day(clinic, frozen):
    appointment = book(clinic, start=at(2026, 12, 1, 9))  # tomorrow, 09:00 clinic time

    with pytest.raises(ValidationError) as error:
        appointment_status_set(appointment=appointment, status=S.CHECKED_IN, by=clinic.frontdesk)

    assert error.value.message_dict == {"status": ["The appointment is on Tue 01 Dec: check in on that day only."]}
    # 23:30 on 30 Nov in New York is already 1 Dec in UTC: still the wrong local day.
    frozen.move_to(at(2026, 11, 30, 23, 30))
    with pytest.raises(ValidationError):
        appointment_status_set(appointment=appointment, status=S.CHECKED_IN, by=clinic.frontdesk)
    frozen.move_to(at(2026, 12, 1, 0, 5))
    assert appointment_status_set(appointment=appointment, status=S.CHECKED_IN, by=clinic.frontdesk).status == (
        S.CHECKED_IN
    )


def test_undo_moves_back_to_where_the_change_came_from():
    assert Appointment.UNDO_TRANSITIONS.targets(S.CANCELLED) == {S.BOOKED, S.CONFIRMED, S.CHECKED_IN}
    assert Appointment.UNDO_TRANSITIONS.targets(S.NO_SHOW) == {S.BOOKED, S.CONFIRMED}
    assert Appointment.UNDO_TRANSITIONS.targets(S.BOOKED) == set()
    assert not Appointment.UNDO_TRANSITIONS.allows(S.COMPLETED, S.BOOKED)


def test_author_undoes_a_cancellation_within_the_window_and_history_records_it(clinic, frozen):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    appointment_cancel(appointment=appointment, by=clinic.frontdesk, reason="patient ill")
    frozen.shift(5 * 60)

    undone = appointment_status_undo(appointment=appointment, by=clinic.frontdesk)

    assert (undone.status, undone.cancellation_reason) == (S.BOOKED, "")
    assert list(undone.status_changes.values_list("from_status", "to_status", "is_undo", "reason")) == [
        ("", "booked", False, ""),
        ("booked", "cancelled", False, "patient ill"),
        ("cancelled", "booked", True, "undo"),
    ]
    with pytest.raises(ValidationError) as again:
        appointment_status_undo(appointment=appointment, by=clinic.frontdesk)
    assert again.value.message_dict == {"status": ["This change is already an undo; change the status again instead."]}


def test_undo_is_refused_after_the_window_and_the_window_is_a_setting(clinic, frozen, settings):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    appointment_status_set(appointment=appointment, status=S.CONFIRMED, by=clinic.frontdesk)
    frozen.shift(5 * 60 + 1)

    with pytest.raises(ValidationError) as error:
        appointment_status_undo(appointment=appointment, by=clinic.frontdesk)

    assert error.value.message_dict == {"status": ["Status changes can be undone for 5 minutes only."]}
    settings.SCHEDULING_STATUS_UNDO_MINUTES = 10
    assert appointment_status_undo(appointment=appointment, by=clinic.frontdesk).status == S.BOOKED


def test_only_the_author_or_a_clinic_admin_may_undo(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    appointment_status_set(appointment=appointment, status=S.CONFIRMED, by=clinic.frontdesk)
    colleague = staff_user(roles.FRONT_DESK, username="colleague")
    admin = staff_user(roles.CLINIC_ADMIN, username="boss")

    with pytest.raises(ValidationError) as error:
        appointment_status_undo(appointment=appointment, by=colleague)
    with pytest.raises(ValidationError):
        appointment_status_undo(appointment=appointment, by=None)

    assert error.value.message_dict == {
        "status": ["Only the person who changed the status, or a clinic admin, can undo it."]
    }
    undone = appointment_status_undo(appointment=appointment, by=admin)
    assert undone.status == S.BOOKED
    assert undone.status_changes.last().changed_by == admin


def test_nothing_to_undo_after_booking(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10))

    with pytest.raises(ValidationError) as error:
        appointment_status_undo(appointment=appointment, by=clinic.frontdesk)

    assert error.value.message_dict == {"status": ["There is no status change to undo."]}


def test_undoing_a_cancellation_whose_time_was_taken_is_a_conflict(clinic):
    appointment = book(clinic, start=at(2026, 11, 30, 10))
    appointment_cancel(appointment=appointment, by=clinic.frontdesk, reason="patient ill")
    book(clinic, start=at(2026, 11, 30, 10), patient=clinic.patient2)

    with pytest.raises(BookingConflict):
        appointment_status_undo(appointment=appointment, by=clinic.frontdesk)

    appointment.refresh_from_db()
    assert (appointment.status, appointment.status_changes.count()) == (S.CANCELLED, 2)
