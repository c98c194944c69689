"""Back-dated bookings (a start already past): clinic admins and system jobs only, recorded as such."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from clinic import roles
from scheduling.booking import appointment_book, appointment_move
from scheduling.models import Appointment
from tests.factories import staff_user
from tests.scheduling.conftest import at

PAST = at(2026, 11, 30, 8)  # the clock stands at 09:00 in these tests


@pytest.fixture
def nine(clinic, frozen):
    frozen.move_to(at(2026, 11, 30, 9))
    return clinic


def book(c, *, by, start=PAST):
    return appointment_book(
        patient=c.patient, provider=c.doctor, room=c.room, appointment_type=c.tpi, start=start, by=by
    )


def test_front_desk_cannot_book_a_past_start(nine):
    with pytest.raises(PermissionDenied) as error:
        book(nine, by=nine.frontdesk)

    assert str(error.value) == (
        "The start, Mon 30 Nov 2026 08:00, has already passed: only a clinic admin may book a past visit."
    )
    assert Appointment.objects.count() == 0


def test_clinic_admin_books_a_past_start_recorded_as_back_dated(nine):
    admin = staff_user(roles.CLINIC_ADMIN, username="boss")

    appointment = book(nine, by=admin)
    future = book(nine, by=nine.frontdesk, start=at(2026, 11, 30, 11))

    assert (appointment.is_backdated, future.is_backdated) == (True, False)
    assert list(appointment.status_changes.values_list("to_status", "changed_by", "reason")) == [
        ("booked", admin.pk, "back-dated booking (start already past)")
    ]
    assert future.status_changes.get().reason == ""


def test_system_job_may_record_a_past_visit(nine):
    assert book(nine, by=None).is_backdated is True


def test_admin_booking_form_refuses_a_past_start_for_the_front_desk_in_words(nine, client):
    user = nine.frontdesk
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_appointment", "add_appointment"]))
    client.force_login(user)
    data = {
        "patient": nine.patient.pk,
        "provider": nine.doctor.pk,
        "room": nine.room.pk,
        "appointment_type": nine.tpi.pk,
        "start": "2026-11-30T08:00",
        "notes": "",
    }

    response = client.post("/admin/scheduling/appointment/book/", data)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The start, Mon 30 Nov 2026 08:00, has already passed: only a clinic admin may book a past visit."
    ]
    assert Appointment.objects.count() == 0
    client.force_login(staff_user(roles.CLINIC_ADMIN, username="boss"))
    assert client.post("/admin/scheduling/appointment/book/", data).status_code == 302
    assert Appointment.objects.get().is_backdated is True


def test_api_refuses_a_past_start_with_403_and_shows_the_flag(nine):
    user = nine.frontdesk
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_appointment", "change_appointment"]))
    api = APIClient()
    api.force_authenticate(user)
    body = {
        "patient": nine.patient.pk,
        "provider": nine.doctor.pk,
        "room": nine.room.pk,
        "appointment_type": nine.tpi.pk,
        "start": "2026-11-30T08:00:00-05:00",
    }

    refused = api.post("/api/appointments/", body, format="json")
    api.force_authenticate(staff_user(roles.CLINIC_ADMIN, username="boss"))
    accepted = api.post("/api/appointments/", body, format="json")

    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "The start, Mon 30 Nov 2026 08:00, has already passed: only a clinic admin may book a past visit."
    )
    assert (accepted.status_code, accepted.json()["is_backdated"]) == (201, True)


def _booked_at_eleven(c):
    return book(c, by=c.frontdesk, start=at(2026, 11, 30, 11))


def test_front_desk_cannot_move_a_visit_into_the_past(nine):
    appointment = _booked_at_eleven(nine)

    with pytest.raises(PermissionDenied) as error:
        appointment_move(appointment=appointment, start=PAST, by=nine.frontdesk)

    assert str(error.value) == (
        "The start, Mon 30 Nov 2026 08:00, has already passed: only a clinic admin may move a visit into the past."
    )
    appointment.refresh_from_db()
    assert (appointment.start, appointment.is_backdated) == (at(2026, 11, 30, 11), False)
    assert appointment.status_changes.count() == 1


def test_clinic_admin_moves_a_visit_into_the_past_recorded_as_such(nine):
    appointment = _booked_at_eleven(nine)
    admin = staff_user(roles.CLINIC_ADMIN, username="boss")

    moved = appointment_move(appointment=appointment, start=PAST, by=admin)
    later = appointment_move(appointment=_booked_at_eleven_other(nine), start=at(2026, 11, 30, 12), by=nine.frontdesk)

    assert (moved.start, moved.is_backdated, later.is_backdated) == (PAST, True, False)
    assert list(moved.status_changes.values_list("from_status", "to_status", "changed_by", "reason")) == [
        ("", "booked", nine.frontdesk.pk, ""),
        ("booked", "booked", admin.pk, "moved into the past (was 2026-11-30 11:00; clinic-admin entry)"),
    ]


def _booked_at_eleven_other(c):
    return appointment_book(
        patient=c.patient2,
        provider=c.therapist,
        room=c.room2,
        appointment_type=c.massage,
        start=at(2026, 11, 30, 11),
        by=c.frontdesk,
    )


def test_admin_move_form_refuses_the_past_for_the_front_desk_in_words(nine, client):
    appointment = _booked_at_eleven(nine)
    user = nine.frontdesk
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_appointment", "change_appointment"]))
    client.force_login(user)
    url = f"/admin/scheduling/appointment/{appointment.pk}/move/"
    data = {"start": "2026-11-30T08:00", "provider": nine.doctor.pk, "room": nine.room.pk}

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The start, Mon 30 Nov 2026 08:00, has already passed: only a clinic admin may move a visit into the past."
    ]
    client.force_login(staff_user(roles.CLINIC_ADMIN, username="boss"))
    assert client.post(url, data).status_code == 302
    appointment.refresh_from_db()
    assert (appointment.start, appointment.is_backdated) == (PAST, True)


def test_api_refuses_a_move_into_the_past_naming_the_start(nine):
    appointment = _booked_at_eleven(nine)
    user = nine.frontdesk
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_appointment", "change_appointment"]))
    api = APIClient()
    api.force_authenticate(user)
    url = f"/api/appointments/{appointment.pk}/move/"

    refused = api.post(url, {"start": "2026-11-30T08:00:00-05:00"}, format="json")
    api.force_authenticate(staff_user(roles.CLINIC_ADMIN, username="boss"))
    accepted = api.post(url, {"start": "2026-11-30T08:00:00-05:00"}, format="json")

    message = (
        "The start, Mon 30 Nov 2026 08:00, has already passed: only a clinic admin may move a visit into the past."
    )
    assert refused.status_code == 403
    assert refused.json() == {"detail": message, "code": "backdated", "errors": {"start": [message]}}
    assert (accepted.status_code, accepted.json()[0]["is_backdated"]) == (200, True)
