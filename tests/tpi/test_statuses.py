"""The tpi status tables: every choice has a row, final statuses have no exits, claims read the table."""

import pytest

from tpi.models import FollowUp, PlanOccurrence, Procedure, RepeatOffer, TreatmentPlan

FS, PS, TS, OS = FollowUp.Status, Procedure.Status, TreatmentPlan.Status, PlanOccurrence.Status
RS = RepeatOffer.Status

# (model, the statuses nothing moves on from, the status rows are created in)
TABLES = [
    (FollowUp, {FS.ANSWERED, FS.EXPIRED, FS.CANCELLED, FS.SKIPPED}, FS.SCHEDULED),
    (Procedure, {PS.VOIDED}, PS.DRAFT),
    (TreatmentPlan, {TS.COMPLETED, TS.CANCELLED}, TS.ACTIVE),
    (PlanOccurrence, {OS.BOOKED, OS.CANCELLED}, OS.PLANNED),
    (RepeatOffer, {RS.BOOKED, RS.SENT_TO_DESK}, RS.OFFERED),
]


@pytest.mark.parametrize(("model", "final", "initial"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_status_choice_has_a_row(model, final, initial):
    assert model.TRANSITIONS.statuses == set(model.Status.values)


@pytest.mark.parametrize(("model", "final", "initial"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_final_statuses_have_no_exits_and_every_other_status_is_reachable(model, final, initial):
    assert model.TRANSITIONS.terminal == final
    for status in final:
        assert model.TRANSITIONS.targets(status) == frozenset()
    assert model.TRANSITIONS.sources(initial) == frozenset()
    assert {s for s in model.Status.values if not model.TRANSITIONS.sources(s)} == {initial}
    assert model._meta.get_field("status").default == initial


def test_follow_up_claims():
    assert FollowUp.TRANSITIONS.sources(FS.SENT) == {FS.SCHEDULED, FS.FAILED}  # a sent one is never claimed again
    assert FollowUp.TRANSITIONS.sources(FS.ANSWERED) == {FS.SENT}
    assert FollowUp.TRANSITIONS.sources(FS.CANCELLED) == {FS.SCHEDULED, FS.SENT}
    assert FollowUp.TRANSITIONS.sources(FS.EXPIRED) == {FS.SCHEDULED}


def test_procedure_moves():
    assert Procedure.TRANSITIONS.sources(PS.SIGNED) == {PS.DRAFT}
    assert Procedure.TRANSITIONS.sources(PS.VOIDED) == {PS.DRAFT, PS.SIGNED}


def test_open_plan_occurrences_are_the_ones_that_can_still_be_booked_or_skipped():
    assert PlanOccurrence.OPEN_STATUSES == (OS.PLANNED, OS.NEEDS_REVIEW)
    assert set(PlanOccurrence.OPEN_STATUSES) == PlanOccurrence.TRANSITIONS.sources(OS.CANCELLED)
