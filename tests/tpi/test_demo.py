"""tpi.demo.seed (through `manage.py seed_demo`): a signed procedure and a treatment plan, idempotent."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from tpi.demo import DEMO_INDICATION, HISTORY_INDICATION
from tpi.models import FollowUp, MassageNote, PlanOccurrence, Procedure, TreatmentPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True  # the command refuses to seed a production database
    with time_machine.travel(dt.datetime(2026, 11, 30, 14, tzinfo=dt.UTC), tick=False):
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo", stdout=io.StringIO())


def test_seed_creates_one_signed_procedure_and_is_idempotent(seeded):

    procedure = Procedure.objects.with_muscle_count().get(indication=DEMO_INDICATION)
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


def test_seed_gives_each_patient_months_of_answered_history(seeded):
    from django.contrib.auth import get_user_model

    from tpi.outcome_stats import OutcomeFilters, outcomes_dashboard
    from tpi.repeat import repeat_candidates

    history = Procedure.objects.filter(indication=HISTORY_INDICATION, status="signed")
    assert history.count() == 19
    assert history.values("patient").distinct().count() == 5
    first, last = history.order_by("performed_at").first(), history.order_by("performed_at").last()
    assert (last.performed_at - first.performed_at).days >= 120
    assert FollowUp.objects.filter(procedure__in=history, status="answered").count() == 36
    now = dt.datetime(2026, 11, 30, 14, tzinfo=dt.UTC)
    admin = get_user_model().objects.get(username="admin")
    board = outcomes_dashboard(user=admin, filters=OutcomeFilters(), now=now)
    assert board.overall.check_in.n == 18
    assert board.overall.reassessment.n == 18
    assert [e.patient.legal_last_name for e in board.steroid.above] == ["Garcia"]
    assert [p.patient.legal_last_name for p in repeat_candidates(user=admin, now=now)] == ["Baker"]


def test_seed_fills_the_results_totals(seeded):
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from tpi.models import OutcomeTotal, OutcomeTotalsState
    from tpi.outcome_stats import OutcomeFilters, outcomes_dashboard

    assert OutcomeTotalsState.objects.get().watermark == dt.date(2026, 10, 16)  # 45 settle days before today
    assert OutcomeTotal.objects.filter(period="month").exists()
    now = dt.datetime(2026, 11, 30, 14, tzinfo=dt.UTC)
    admin = get_user_model().objects.get(username="admin")
    with time_machine.travel(now, tick=False):
        stored = outcomes_dashboard(user=admin, filters=OutcomeFilters(), now=now)
        with transaction.atomic():
            OutcomeTotalsState.objects.all().delete()
            assert outcomes_dashboard(user=admin, filters=OutcomeFilters(), now=now) == stored
            transaction.set_rollback(True)
