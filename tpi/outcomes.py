"""Outcomes over time: the pain scores of a procedure, before, right after, and the patient's answers."""

import datetime as dt
from dataclasses import dataclass

from tpi.models import FollowUp, Procedure


@dataclass(frozen=True)
class PainPoint:
    label: str
    score: int | None
    at: dt.datetime | None


def procedure_pain_timeline(procedure: Procedure) -> list[PainPoint]:
    """Return the procedure's pain scores in order: before, right after, check-in and reassessment answers.

    Reads `procedure.follow_ups.all()`, so a prefetched list costs no query. A follow-up not
    (yet) answered has score None; one that does not exist is left out.
    """
    points = [
        PainPoint("before", procedure.pain_before, procedure.performed_at),
        PainPoint("after", procedure.pain_after, procedure.performed_at),
    ]
    by_kind = {f.kind: f for f in procedure.follow_ups.all()}
    for kind in (FollowUp.Kind.CHECK_IN, FollowUp.Kind.REASSESSMENT):
        follow_up = by_kind.get(kind)
        if follow_up is not None:
            points.append(PainPoint(kind.value, follow_up.answer_pain_score, follow_up.answered_at))
    return points
