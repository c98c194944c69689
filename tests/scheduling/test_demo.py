import io

import pytest
import time_machine
from django.core.management import call_command

from scheduling.models import Appointment, AppointmentType, Room, Series, WorkingHours
from tests.scheduling.conftest import at


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_books_this_week(settings):
    settings.DEBUG = True
    with time_machine.travel(at(2026, 11, 30, 7), tick=False):  # a Monday
        call_command("seed_demo", stdout=io.StringIO())
        counts = (Room.objects.count(), AppointmentType.objects.count(), WorkingHours.objects.count())
        appointments = Appointment.objects.count()
        call_command("seed_demo", stdout=io.StringIO())

    assert counts == (3, 4, 25)
    assert appointments == 3 * 5 + 3 + 1  # this week, the series, the treatment plan's first injection
    assert Appointment.objects.count() == appointments
    assert Series.objects.count() == 1
    assert Appointment.objects.filter(start__date="2026-11-30").count() == 5
