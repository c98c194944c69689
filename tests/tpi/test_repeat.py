"""tpi.repeat.repeat_candidates: relief worn off at one month and nothing ahead for the patient."""

import datetime as dt

import pytest
import time_machine

from clinic import roles
from scheduling.booking import appointment_book, appointment_status_set
from tests.factories import AppointmentTypeFactory, RoomFactory, signed_procedure, staff_user, working_week
from tpi.models import FollowUp
from tpi.repeat import repeat_candidates

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def worn_off():
    """A procedure 40 days ago: pain 7 before, 7 again at one month (worn off), answered 9 days ago."""
    with time_machine.travel(NOW, tick=False):
        procedure = signed_procedure(performed_at=NOW - dt.timedelta(days=40), pain_before=7)
        FollowUp.objects.filter(procedure=procedure, kind="reassessment").update(
            status="answered", answer_pain_score=7, answered_at=NOW - dt.timedelta(days=9), answer_method="sms"
        )
        yield procedure


def listed(user) -> list[int]:
    return [p.pk for p in repeat_candidates(user=user, now=NOW)]


def test_a_worn_off_answer_with_nothing_ahead_is_listed_for_its_provider_only(worn_off):
    assert listed(worn_off.provider.user) == [worn_off.pk]
    assert listed(staff_user(roles.PROVIDER)) == []
    assert listed(staff_user(roles.CLINIC_ADMIN)) == [worn_off.pk]


@pytest.mark.parametrize(("score", "expected"), [(6, True), (5, False)])  # 80% of 7 is 5.6
def test_the_worn_off_threshold(worn_off, score, expected):
    FollowUp.objects.filter(procedure=worn_off, kind="reassessment").update(answer_pain_score=score)

    assert (listed(worn_off.provider.user) == [worn_off.pk]) is expected


def test_a_visit_ahead_takes_it_off_the_list(worn_off):
    doctor = working_week(worn_off.provider)
    with time_machine.travel(NOW, tick=False):
        visit = appointment_book(
            patient=worn_off.patient, provider=doctor, room=RoomFactory(name="Room 1"),
            appointment_type=AppointmentTypeFactory(code="tpi", name="TPI procedure"),
            start=NOW + dt.timedelta(days=2), by=None,
        )  # fmt: skip
    assert listed(doctor.user) == []
    with time_machine.travel(NOW, tick=False):
        appointment_status_set(appointment=visit, status="cancelled", by=None, reason="Patient asked")
    assert listed(doctor.user) == [worn_off.pk]


def test_a_later_procedure_takes_it_off_the_list(worn_off):
    with time_machine.travel(NOW, tick=False):
        signed_procedure(performed_at=NOW - dt.timedelta(days=1), patient=worn_off.patient)

    assert listed(staff_user(roles.CLINIC_ADMIN)) == []


def test_an_answer_older_than_the_lookback_is_not_listed(worn_off):
    FollowUp.objects.filter(procedure=worn_off, kind="reassessment").update(answered_at=NOW - dt.timedelta(days=91))
    assert worn_off.pk not in listed(staff_user(roles.CLINIC_ADMIN))
