"""Responder status and relief duration (tpi.outcomes.with_outcomes): both sides of every threshold."""

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from tests.factories import signed_procedure
from tpi.models import FollowUp, Procedure
from tpi.outcomes import outcome_of, patient_site_counts, with_outcomes

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
PERFORMED = NOW - dt.timedelta(days=40)
CHECK_IN_AT = PERFORMED + dt.timedelta(days=3, hours=2)
REASSESSMENT_AT = PERFORMED + dt.timedelta(days=31, hours=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def answered(before: int, check_in: int | None = None, reassessment: int | None = None) -> Procedure:
    """Return a signed procedure with PAIN_BEFORE and the given answers (None: not answered)."""
    procedure = signed_procedure(performed_at=PERFORMED, pain_before=before)
    for kind, score, at in (("check_in", check_in, CHECK_IN_AT), ("reassessment", reassessment, REASSESSMENT_AT)):
        if score is not None:
            FollowUp.objects.filter(procedure=procedure, kind=kind).update(
                status="answered", answer_pain_score=score, answered_at=at, answer_method="sms"
            )
    return procedure


def outcome(procedure: Procedure):
    return outcome_of(with_outcomes(Procedure.objects.filter(pk=procedure.pk)).get())


@pytest.mark.parametrize(
    ("before", "answer", "responder", "substantial"),
    [
        (10, 7, True, False),  # exactly 30% and 3 points
        (10, 8, False, False),  # 20%: under 30%
        (10, 5, True, True),  # exactly 50%: substantial
        (10, 6, True, False),  # 40%: responder, not substantial
        (7, 5, False, False),  # 2 points but 28.6%: under 30%
        (6, 4, True, False),  # exactly 2 points and 33%
        (3, 2, False, False),  # 33% but 1 point: under 2 points
        (4, 2, True, True),  # 50% and exactly 2 points: substantial
        (2, 1, False, False),  # 50% but 1 point: neither
        (0, 0, False, False),  # nothing to drop
    ],
)
def test_responder_and_substantial_at_both_answers(before, answer, responder, substantial):
    at_check_in = outcome(answered(before, check_in=answer))
    at_reassessment = outcome(answered(before, reassessment=answer))

    assert (at_check_in.responder_check_in, at_check_in.substantial_check_in) == (responder, substantial)
    assert (at_check_in.responder_reassessment, at_check_in.substantial_reassessment) == (None, None)
    assert (at_reassessment.responder_reassessment, at_reassessment.substantial_reassessment) == (
        responder,
        substantial,
    )
    assert at_reassessment.responder_check_in is None


def test_no_answer_is_neither_responder_nor_not_and_has_no_relief_duration():
    result = outcome(answered(7))

    assert (result.responder_check_in, result.responder_reassessment) == (None, None)
    assert (result.relief_days, result.relief_censored) == (None, None)
    assert result.relief_text == "no answer yet"


@override_settings(TPI_OUTCOMES_RESPONDER_PERCENT=40, TPI_OUTCOMES_RESPONDER_MIN_POINTS=4)
def test_the_thresholds_are_settings():
    assert outcome(answered(10, check_in=7)).responder_check_in is False  # 30% < 40%
    assert outcome(answered(10, check_in=6)).responder_check_in is True  # 40%, 4 points
    assert outcome(answered(6, check_in=3)).responder_check_in is False  # 50% but 3 points < 4


@pytest.mark.parametrize(
    ("before", "check_in", "reassessment", "days", "censored"),
    [
        (10, 8, None, 3, False),  # back at exactly 80% of before at 72 h: worn off then
        (10, 7, None, 3, True),  # 70% at 72 h, no later answer: censored at the check-in
        (10, 7, 8, 31, False),  # on at 72 h, back at 80% at one month
        (10, 7, 7, 31, True),  # still on at the last answer
        (10, None, 9, 31, False),  # only the one-month answer, worn off
        (10, 9, 2, 3, False),  # worn off at 72 h: the first worn-off answer ends relief
        (5, 4, None, 3, False),  # 4 >= 80% of 5
        (6, 4, None, 3, True),  # 4 < 4.8
    ],
)
def test_relief_duration_ends_at_the_first_answer_back_at_the_share_or_is_censored(
    before, check_in, reassessment, days, censored
):
    result = outcome(answered(before, check_in=check_in, reassessment=reassessment))

    assert (result.relief_days, result.relief_censored) == (days, censored)


@override_settings(TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT=70)
def test_the_worn_off_share_is_a_setting():
    assert outcome(answered(10, check_in=7)).relief_censored is False
    assert outcome(answered(10, check_in=6)).relief_censored is True


def test_the_relief_text_says_event_or_censored():
    assert outcome(answered(10, check_in=8)).relief_text == "relief wore off within 3 days"
    assert outcome(answered(10, check_in=5, reassessment=5)).relief_text == (
        "relief lasted at least 31 days (still on at the last answer)"
    )


def test_outcome_of_a_plain_procedure_reads_the_annotations_in_one_query(django_assert_num_queries):
    procedure = Procedure.objects.get(pk=answered(10, check_in=7).pk)

    with django_assert_num_queries(1):
        result = outcome_of(procedure)

    assert result.responder_check_in is True


def test_patient_site_counts_count_signed_procedures_per_site_and_side():
    first = answered(7)
    second = signed_procedure(performed_at=PERFORMED + dt.timedelta(days=5), patient=first.patient)
    site_id = first.injections.get().site_id

    assert patient_site_counts(first.patient) == {(site_id, "left"): 2}
    assert second.patient == first.patient
