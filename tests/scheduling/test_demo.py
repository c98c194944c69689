import io

import pytest
import time_machine
from django.core.management import call_command

from scheduling.models import Appointment, AppointmentReminder, AppointmentType, Room, Series, WorkingHours
from tests.scheduling.conftest import at


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_books_this_week(settings):
    settings.DEBUG = True
    with time_machine.travel(at(2026, 11, 30, 7), tick=False):  # a Monday
        call_command("seed_demo", stdout=io.StringIO())
        counts = (Room.objects.count(), AppointmentType.objects.count(), WorkingHours.objects.count())
        appointments = Appointment.objects.count()
        call_command("seed_demo", stdout=io.StringIO())

    assert counts == (4, 4, 25)
    past = Appointment.objects.filter(start__lt=at(2026, 11, 30))
    # this week, the series, the treatment plan's first injection; two past reassessments on 50 open weekdays
    assert appointments == 3 * 5 + 3 + 1 + 2 * 50
    assert Appointment.objects.count() == appointments
    assert Series.objects.count() == 1
    assert Appointment.objects.filter(start__date="2026-11-30").count() == 5
    assert set(past.values_list("status", flat=True)) == {"completed", "no_show"}
    assert past.filter(reminders__status="sent").count() == 80  # the reminder numbers page has months to show
    upcoming = Appointment.objects.filter(start__gte=at(2026, 11, 30, 7))
    assert list(upcoming.exclude(confirmed_at=None).values_list("confirmed_via", "status")) == [("sms", "confirmed")]
    assert upcoming.exclude(reschedule_requested_at=None).count() == 1
    assert AppointmentReminder.objects.filter(appointment__in=upcoming, status="scheduled").count() > 5


@pytest.mark.django_db
def test_the_demo_has_two_locations_rooms_that_host_their_visits_and_this_years_holidays(settings):
    from scheduling.models import Closure, Location

    settings.DEBUG = True
    settings.SCHEDULING_HOLIDAYS_COUNTRY = "US"
    with time_machine.travel(at(2026, 11, 30, 7), tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo", stdout=io.StringIO())

    assert [(loc.name, loc.opening_hours.count()) for loc in Location.objects.all()] == [
        ("Main clinic", 5),
        ("Westside clinic", 5),
    ]
    hosts = {room.name: sorted(t.code for t in room.appointment_types.all()) for room in Room.objects.all()}
    assert hosts == {
        "Massage room": ["massage"],
        "Room 1": ["consult", "reassessment", "tpi"],
        "Room 2": ["consult", "reassessment", "tpi"],
        "Room 3": ["consult", "reassessment", "tpi"],
    }
    assert Room.objects.get(name="Room 2").location.name == "Westside clinic"
    assert Closure.objects.filter(first_day="2026-12-25", reason="Christmas Day", location=None).count() == 1
    assert not Appointment.objects.filter(room__name="Massage room").exclude(appointment_type__code="massage").exists()


@pytest.mark.django_db
def test_the_demo_provider_splits_the_week_between_the_locations(settings):
    settings.DEBUG = True
    with time_machine.travel(at(2026, 11, 30, 7), tick=False):  # a Monday
        call_command("seed_demo", stdout=io.StringIO())

    places = {
        (wh.weekday, wh.location.name if wh.location else "any")
        for wh in WorkingHours.objects.filter(provider__user__username="drpatel").select_related("location")
    }
    visits = {
        (a.start.astimezone(a.local_zone).date().isoformat(), a.room.name)
        for a in Appointment.objects.filter(provider__user__username="drpatel").select_related("room__location")
    }

    assert places == {
        (0, "Westside clinic"),
        (1, "Main clinic"),
        (2, "Westside clinic"),
        (3, "Main clinic"),
        (4, "Westside clinic"),
    }
    assert visits == {("2026-11-30", "Room 2"), ("2026-12-01", "Room 3"), ("2026-12-02", "Room 2")}
