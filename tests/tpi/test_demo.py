"""tpi.demo.seed (through `manage.py seed_demo`): a signed procedure and a treatment plan, idempotent."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from tpi.models import FollowUp, MassageNote, PlanOccurrence, Procedure, TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True  # the command refuses to seed a production database
    with time_machine.travel(dt.datetime(2026, 11, 30, 14, tzinfo=dt.UTC), tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo", stdout=io.StringIO())


def test_seed_creates_one_signed_procedure_and_is_idempotent(seeded):

    procedure = Procedure.objects.with_muscle_count().get()
    assert (procedure.status, procedure.signed_by.username, procedure.provider.user.username) == (
        "signed",
        "drlee",
        "drlee",
    )
    assert procedure.patient.legal_last_name == "Rivera"
    assert procedure.injections.count() == 3
    assert procedure.injections.with_steroid().count() == 1
    assert procedure.cpt_code == "20553"
    assert MassageNote.objects.get().therapist.user.username == "pasi"
    assert FollowUp.objects.filter(procedure=procedure).count() == 2


def test_seed_creates_a_treatment_plan_whose_first_injection_is_booked(seeded):
    plan = TreatmentPlan.objects.get()

    assert (plan.patient.legal_last_name, plan.interval_weeks, plan.injections) == ("Rivera", 4, 3)
    occurrences = list(PlanOccurrence.objects.order_by("sequence").values_list("status", flat=True))
    assert occurrences == ["booked", "planned", "planned"]  # only the first lies within the horizon
    first = PlanOccurrence.objects.get(sequence=1).appointment
    assert (first.start.date(), first.provider.user.username) == (dt.date(2026, 12, 28), "drlee")
