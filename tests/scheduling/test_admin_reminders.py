"""What staff see of confirmations and reminders: the day sheet's marker, the appointment page, the API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clinic import roles
from scheduling.booking import appointment_book, appointment_status_set
from scheduling.models import Appointment, AppointmentReminder
from tests.factories import staff_user
from tests.scheduling.conftest import at


@pytest.fixture
def confirmed(clinic):
    """Two visits today: one the patient confirmed by SMS at 07:00 (its 2-day reminder sent), one they asked to move."""
    clinic.tpi.reminder_lead_times = "2 days, 2 hours"
    clinic.tpi.save()
    appointment = appointment_book(
        patient=clinic.patient, provider=clinic.doctor, room=clinic.room, appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10), by=clinic.frontdesk,
    )  # fmt: skip
    AppointmentReminder.objects.create(
        appointment=appointment, lead=at(2026, 11, 30) - at(2026, 11, 28), for_start=appointment.start,
        due_at=at(2026, 11, 28, 10), status="sent", sent_at=at(2026, 11, 28, 10), status_reason="queued: sms",
    )  # fmt: skip
    appointment_status_set(appointment=appointment, status="confirmed", by=None, via="sms")
    other = appointment_book(
        patient=clinic.patient2, provider=clinic.doctor, room=clinic.room, appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 14), by=clinic.frontdesk,
    )  # fmt: skip
    Appointment.objects.filter(pk=other.pk).update(reschedule_requested_at=at(2026, 11, 30, 7))
    return appointment


def test_the_day_sheet_marks_the_confirmed_visit_and_the_request_to_move(clinic, confirmed, client):
    client.force_login(staff_user(roles.FRONT_DESK))

    body = client.get(reverse("admin:scheduling_appointment_daysheet"), {"date": "2026-11-30"}).content.decode()

    assert (
        '<div class="confirmed" title="Confirmed by SMS reply, 2026-11-30 07:00">&#10003; by SMS reply, '
        "2026-11-30 07:00</div>"
    ) in body
    assert body.count('class="confirmed"') == 1
    assert body.count('<div class="reschedule-requested">Patient asked to reschedule</div>') == 1


def test_the_appointment_page_shows_the_confirmation_and_the_reminders(clinic, confirmed, client):
    client.force_login(staff_user(roles.FRONT_DESK))

    response = client.get(reverse("admin:scheduling_appointment_change", args=[confirmed.pk]))

    body = response.content.decode()
    assert "Confirmed by SMS reply, 2026-11-30 07:00" in body
    rows = [
        (row.lead, row.status)
        for formset in response.context["inline_admin_formsets"]
        if formset.opts.model is AppointmentReminder
        for row in formset.formset.get_queryset()
    ]
    assert [status for _, status in rows] == ["sent", "scheduled"]
    assert "Sent 2026-11-28 10:00 (queued: sms)" in body
    assert "2026-11-30 08:00" in body  # the 2-hour reminder's due time, clinic time


def test_the_api_reports_the_confirmation(clinic, confirmed):
    api = APIClient()
    api.force_authenticate(staff_user(roles.FRONT_DESK))

    data = api.get(f"/api/appointments/{confirmed.pk}/").json()

    assert (data["status"], data["confirmed_at"], data["confirmed_via"], data["reschedule_requested_at"]) == (
        "confirmed",
        "2026-11-30T07:00:00-05:00",
        "sms",
        None,
    )
