"""Confirmation and no-show numbers per month (scheduling.numbers) and their admin page, against a hand count."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic import roles
from scheduling.models import Appointment, AppointmentReminder, FreedSlot, WaitlistEntry, WaitlistOffer
from scheduling.numbers import MonthNumbers, numbers_by_month
from tests.factories import PatientFactory, staff_user
from tests.scheduling.conftest import at


def visit(c, start, status, *, reminders=(), confirmed_via=""):
    """Store a visit as it ended up (no booking service: history), with reminders in the given statuses."""
    appointment = Appointment.objects.create(
        patient=PatientFactory(), provider=c.doctor, room=c.room, appointment_type=c.tpi, start=start,
        end=start + dt.timedelta(minutes=30), blocked_end=start + dt.timedelta(minutes=30), status=status,
        cancellation_reason="called" if status == "cancelled" else "",
        confirmed_at=start - dt.timedelta(hours=20) if confirmed_via else None, confirmed_via=confirmed_via,
    )  # fmt: skip
    for hours, reminder_status in enumerate(reminders, start=24):
        lead = dt.timedelta(hours=hours)
        AppointmentReminder.objects.create(
            appointment=appointment, lead=lead, for_start=start, due_at=start - lead, status=reminder_status,
            sent_at=start - lead if reminder_status == "sent" else None,
        )  # fmt: skip
    return appointment


def fill(c, answered_at):
    """Store a waitlist offer accepted at ANSWERED_AT (the freed slot it filled, the entry, the booked visit)."""
    freed = visit(c, answered_at + dt.timedelta(days=40), "cancelled")  # visits still ahead: never counted
    slot = FreedSlot.objects.create(
        appointment=freed, provider=c.doctor, room=c.room, appointment_type=c.tpi, start=freed.start, end=freed.end,
        freed_at=answered_at - dt.timedelta(hours=1), status="filled",
    )  # fmt: skip
    booked = visit(c, freed.start + dt.timedelta(hours=1), "booked")
    entry = WaitlistEntry.objects.create(
        patient=booked.patient, appointment_type=c.tpi, location=c.room.location, until=answered_at.date(),
        created_at=answered_at - dt.timedelta(days=9), status="booked", appointment=booked,
    )  # fmt: skip
    WaitlistOffer.objects.create(
        slot=slot, entry=entry, status="accepted", offered_at=answered_at - dt.timedelta(minutes=30),
        expires_at=answered_at + dt.timedelta(minutes=90), answered_at=answered_at, appointment=booked,
    )  # fmt: skip


@pytest.fixture
def history(clinic):
    """October: 8 visits counted (5 reminded, 2 of them confirmed, 1 by SMS; no-shows 2 reminded, 1 not of 3);
    November so far: 2 (1 reminded and confirmed by SMS; 1 not reminded, a no-show). Plus what never counts."""
    sent = ("sent",)
    visit(clinic, at(2026, 10, 1, 10), "completed", reminders=sent, confirmed_via="sms")
    visit(clinic, at(2026, 10, 2, 10), "no_show", reminders=sent, confirmed_via="staff")
    visit(clinic, at(2026, 10, 5, 10), "no_show", reminders=sent)
    visit(clinic, at(2026, 10, 6, 10), "completed", reminders=("sent", "sent"))  # counted once
    visit(clinic, at(2026, 10, 7, 10), "no_show")
    visit(clinic, at(2026, 10, 8, 10), "completed")
    visit(clinic, at(2026, 10, 9, 10), "cancelled", reminders=sent)  # never counts
    visit(clinic, at(2026, 10, 12, 10), "completed", reminders=("skipped", "cancelled"))  # not reminded
    visit(clinic, at(2026, 10, 31, 23, 30), "completed", reminders=sent)  # November in UTC, October in the clinic
    visit(clinic, at(2026, 11, 1, 0, 30), "completed", reminders=sent, confirmed_via="sms")
    visit(clinic, at(2026, 11, 2, 10), "no_show")
    visit(clinic, at(2026, 11, 30, 10), "booked", reminders=sent)  # later today: not yet counted
    visit(clinic, at(2026, 12, 2, 10), "booked")


def test_numbers_by_month_match_the_hand_count(clinic, history, django_assert_num_queries):
    fill(clinic, at(2026, 10, 31, 23, 30))  # October in the clinic (November in UTC)
    fill(clinic, at(2026, 11, 3, 9))
    with django_assert_num_queries(2):  # the visits' numbers, the waitlist fills
        rows = numbers_by_month(
            first_month=dt.date(2026, 9, 1), last_month=dt.date(2026, 11, 1), now=at(2026, 11, 30, 7)
        )

    assert rows == [
        MonthNumbers(month=dt.date(2026, 9, 1)),
        MonthNumbers(
            month=dt.date(2026, 10, 1), visits=8, reminded=5, confirmed=2, confirmed_by_sms=1, no_shows_reminded=2,
            no_shows_not_reminded=1, waitlist_fills=1,
        ),
        MonthNumbers(
            month=dt.date(2026, 11, 1), visits=2, reminded=1, confirmed=1, confirmed_by_sms=1, no_shows_reminded=0,
            no_shows_not_reminded=1, waitlist_fills=1,
        ),
    ]  # fmt: skip
    october = rows[1]
    assert (october.confirmation_rate, october.no_show_rate_reminded, october.no_show_rate_not_reminded) == (
        0.4,
        0.4,
        1 / 3,
    )
    assert (rows[0].confirmation_rate, rows[0].no_show_rate_reminded, rows[0].no_show_rate_not_reminded) == (
        None,
        None,
        None,
    )


def test_the_page_shows_the_months_to_the_front_desk(history, client):
    client.force_login(staff_user(roles.FRONT_DESK))

    response = client.get(reverse("admin:scheduling_appointment_numbers"))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<tr data-month=") == 2  # from October, the first month with a visit
    october = body[body.index('data-month="2026-10"') : body.index("</tbody>")]
    cells = [cell.split(">", 1)[1] for cell in october.split("<td")[1:]]  # after each <td ...>
    assert [cell[: cell.index("</td>")] for cell in cells] == [
        "October 2026",
        "8",
        "5",
        "2 (1)",
        "<span>40&nbsp;%</span>",
        "<span>40&nbsp;% <small>(2 of 5)</small></span>",
        "<span>33&nbsp;% <small>(1 of 3)</small></span>",
        "0",  # waitlist fills
    ]
    assert body.index('data-month="2026-11"') < body.index('data-month="2026-10"')  # newest first


@pytest.mark.parametrize(("role", "status"), [(roles.CLINIC_ADMIN, 200), (roles.PROVIDER, 403)])
def test_only_clinic_admins_and_the_front_desk_see_the_numbers(clinic, client, role, status):
    client.force_login(staff_user(role))

    assert client.get(reverse("admin:scheduling_appointment_numbers")).status_code == status


def test_the_admin_home_links_the_page_for_the_front_desk(clinic, client):
    client.force_login(staff_user(roles.FRONT_DESK))

    assert reverse("admin:scheduling_appointment_numbers") in client.get(reverse("admin:index")).content.decode()
