"""Outcomes: the pain scores of a procedure, responder status and relief duration, in one place.

Every definition is a database expression built here, from the settings `TPI_OUTCOMES_*` (IMMPACT
defaults, see clinic/settings.py); the procedure page, the patient page, the API, the dashboard and
the "consider repeat" list all read these expressions, never a Python re-computation.

- The answers are the follow-ups' pain scores: the 72-hour check-in and the one-month reassessment,
  joined once each (`FilteredRelation`; one follow-up per procedure and kind is a constraint).
- A responder at an answer: (before - answer) * 100 >= RESPONDER_PERCENT * before AND
  before - answer >= RESPONDER_MIN_POINTS (integers, no rounding). Substantial: SUBSTANTIAL_PERCENT and
  the same points. None when that answer is missing.
- Relief has worn off at an answer >= RELIEF_WORN_OFF_PERCENT of before (answer * 100 >= percent * before).
  Relief duration runs from `performed_at` to the first such answer (an event), else to the last
  answer (censored); None without any answer. A check-in is always answered before its reassessment
  (a reply answers the latest open follow-up and the check-in's window closes weeks earlier).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual

from clinic.models import Patient
from tpi.models import FollowUp, Injection, Procedure

LOINC_SYSTEM = "http://loinc.org"
LOINC_PAIN_SEVERITY = "72514-3"
LOINC_PAIN_SEVERITY_DISPLAY = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"

# The two answers, joined under these names by `with_outcomes`.
ANSWERS = {"check_in": FollowUp.Kind.CHECK_IN, "reassessment": FollowUp.Kind.REASSESSMENT}


class DaysBetween(Func):
    """Whole days from END back to START (floored): the relief duration's unit, grouped by the dashboard."""

    arity = 2
    arg_joiner = " - "
    template = "FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400)::integer"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # SQLite stores UTC text that julianday() reads: CAST(julianday(end) - julianday(start) AS INTEGER).
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _score(name: str) -> F:
    return F(f"{name}__answer_pain_score")


def _reached(answer: Any, percent: int) -> GreaterThanOrEqual:
    """(before - ANSWER) * 100 >= PERCENT * before: the drop is at least PERCENT of the score before."""
    return GreaterThanOrEqual((F("pain_before") - answer) * 100, Value(percent) * F("pain_before"))


def _points(answer: Any) -> GreaterThanOrEqual:
    return GreaterThanOrEqual(F("pain_before") - answer, Value(settings.TPI_OUTCOMES_RESPONDER_MIN_POINTS))


def _status(answer: Any, percent: int) -> Case:
    """True / False at ANSWER for a drop of PERCENT and the minimum points; None when not answered."""
    return Case(
        When(Q(**{f"{answer.name}__isnull": True}), then=Value(None)),
        When(Q(_reached(answer, percent), _points(answer)), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(null=True),
    )


def worn_off(answer: Any) -> GreaterThanOrEqual:
    """ANSWER * 100 >= RELIEF_WORN_OFF_PERCENT * before: the pain is back (False/NULL when not answered)."""
    return GreaterThanOrEqual(answer * 100, Value(settings.TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT) * F("pain_before"))


def _answer_join(name: str) -> FilteredRelation:
    return FilteredRelation("follow_ups", condition=Q(follow_ups__kind=ANSWERS[name]))


def with_answer(queryset: QuerySet[Procedure], name: str) -> QuerySet[Any]:
    """Annotate each procedure of QUERYSET with one answer NAME ("check_in" or "reassessment"): `pain_<name>`
    and `<name>_at`, as `with_outcomes` names them, joining that follow-up only (a list that needs one answer
    plans and reads less)."""
    return queryset.annotate(**{name: _answer_join(name)}).annotate(
        **{f"pain_{name}": _score(name), f"{name}_at": F(f"{name}__answered_at")}
    )


def with_outcomes(queryset: QuerySet[Procedure]) -> QuerySet[Any]:
    """Annotate each procedure of QUERYSET with its answers, responder status and relief duration.

    Typed QuerySet[Any]: the type checker resolves lookups from model fields and cannot know these annotations.

    Adds `pain_check_in`, `pain_reassessment` (scores), `check_in_at`, `reassessment_at` (answer
    times), `responder_check_in`, `substantial_check_in`, `responder_reassessment`,
    `substantial_reassessment` (None when not answered), `relief_end_at` (the first worn-off answer),
    `relief_until` (that, or the last answer), `relief_days` and `relief_censored`.
    """
    joins = {name: _answer_join(name) for name in ANSWERS}
    queryset = queryset.annotate(**joins)
    check_in, reassessment = _score("check_in"), _score("reassessment")
    relief_end = Case(
        When(worn_off(check_in), then=F("check_in__answered_at")),
        When(worn_off(reassessment), then=F("reassessment__answered_at")),
        default=Value(None),
    )
    last_answer = Coalesce(F("reassessment__answered_at"), F("check_in__answered_at"))
    return queryset.annotate(
        pain_check_in=check_in,
        pain_reassessment=reassessment,
        check_in_at=F("check_in__answered_at"),
        reassessment_at=F("reassessment__answered_at"),
        responder_check_in=_status(check_in, settings.TPI_OUTCOMES_RESPONDER_PERCENT),
        substantial_check_in=_status(check_in, settings.TPI_OUTCOMES_SUBSTANTIAL_PERCENT),
        responder_reassessment=_status(reassessment, settings.TPI_OUTCOMES_RESPONDER_PERCENT),
        substantial_reassessment=_status(reassessment, settings.TPI_OUTCOMES_SUBSTANTIAL_PERCENT),
        relief_end_at=relief_end,
        relief_until=Coalesce(relief_end, last_answer),
        relief_days=DaysBetween(Coalesce(relief_end, last_answer), F("performed_at")),
        relief_censored=Case(
            When(Q(worn_off(check_in)) | Q(worn_off(reassessment)), then=Value(False)),
            When(Q(check_in__answered_at__isnull=False) | Q(reassessment__answered_at__isnull=False), then=Value(True)),
            default=Value(None),
            output_field=BooleanField(null=True),
        ),
    )


def treatment_kind() -> Case:
    """Return the treatment group: 'steroid' (any site), 'anaesthetic' (no steroid), 'dry_needling' (only)."""
    injections = Injection.objects.filter(procedure=OuterRef("pk"))
    return Case(
        When(Exists(injections.exclude(steroid_agent="")), then=Value("steroid")),
        When(Exists(injections.filter(dry_needling=False)), then=Value("anaesthetic")),
        When(Exists(injections.filter(dry_needling=True)), then=Value("dry_needling")),
        default=Value("none"),
    )


TREATMENT_LABELS = {
    "anaesthetic": "Anaesthetic alone",
    "steroid": "Anaesthetic with steroid",
    "dry_needling": "Dry needling only",
    "none": "No site recorded",
}


@dataclass(frozen=True)
class Outcome:
    """One procedure's outcome, read from the `with_outcomes` annotations."""

    pain_before: int
    pain_check_in: int | None
    pain_reassessment: int | None
    responder_check_in: bool | None
    substantial_check_in: bool | None
    responder_reassessment: bool | None
    substantial_reassessment: bool | None
    relief_days: int | None
    relief_censored: bool | None

    @property
    def relief_text(self) -> str:
        """Return the relief duration as staff read it ("relief lasted 3 days", "at least 30 days so far")."""
        if self.relief_days is None:
            return "no answer yet"
        days = f"{self.relief_days} day{'s' if self.relief_days != 1 else ''}"
        return (
            f"relief lasted at least {days} (still on at the last answer)"
            if self.relief_censored
            else (f"relief wore off within {days}")
        )

    @staticmethod
    def status_text(responder: bool | None, substantial: bool | None) -> str:
        """Return "substantial responder", "responder", "non-responder" or "no answer"."""
        if responder is None:
            return "no answer"
        if substantial:
            return "substantial responder"
        return "responder" if responder else "non-responder"


OUTCOME_FIELDS = [f for f in Outcome.__dataclass_fields__ if f != "pain_before"]


def outcome_of(procedure: Procedure) -> Outcome:
    """Return PROCEDURE's outcome from its annotations (one query when it was not fetched `with_outcomes`)."""
    if not hasattr(procedure, "relief_days"):
        procedure = with_outcomes(Procedure.objects.filter(pk=procedure.pk)).get()
    return Outcome(pain_before=procedure.pain_before, **{f: getattr(procedure, f) for f in OUTCOME_FIELDS})


@dataclass(frozen=True)
class PainPoint:
    label: str
    score: int | None
    at: dt.datetime | None
    method: str = FollowUp.AnswerMethod.IN_CLINIC


def procedure_pain_timeline(procedure: Procedure) -> list[PainPoint]:
    """Return the procedure's pain scores in order: before, right after, check-in and reassessment answers.

    Reads `procedure.follow_ups.all()`, so a prefetched list costs no query. A follow-up not
    (yet) answered has score None; one that does not exist is left out.
    """
    in_clinic = FollowUp.AnswerMethod.IN_CLINIC
    points = [
        PainPoint("before", procedure.pain_before, procedure.performed_at, in_clinic),
        PainPoint("after", procedure.pain_after, procedure.performed_at, in_clinic),
    ]
    by_kind = {f.kind: f for f in procedure.follow_ups.all()}
    for kind in (FollowUp.Kind.CHECK_IN, FollowUp.Kind.REASSESSMENT):
        follow_up = by_kind.get(kind)
        if follow_up is not None:
            points.append(
                PainPoint(kind.value, follow_up.answer_pain_score, follow_up.answered_at, follow_up.answer_method)
            )
    return points


def loinc_coding() -> dict[str, str]:
    """Return the LOINC coding of a pain score (72514-3, pain severity 0-10 numeric rating)."""
    return {"system": LOINC_SYSTEM, "code": LOINC_PAIN_SEVERITY, "display": LOINC_PAIN_SEVERITY_DISPLAY}


@dataclass(frozen=True)
class PatientProcedureOutcome:
    """One procedure on the patient's chart: when, which sites, steroid or not, its scores and outcome."""

    procedure: Procedure
    sites: list[str]
    steroid: bool
    points: list[PainPoint]
    outcome: Outcome


def patient_outcomes(patient: Patient) -> list[PatientProcedureOutcome]:
    """Return the patient's signed procedures, oldest first, with their pain points and outcomes (3 queries)."""
    from django.db.models import Prefetch

    procedures = with_outcomes(
        Procedure.objects.filter(patient=patient, status=Procedure.Status.SIGNED).order_by("performed_at", "id")
    ).prefetch_related(
        Prefetch("injections", queryset=Injection.objects.select_related("site").order_by("id")),
        "follow_ups",
    )
    rows = []
    for procedure in procedures:
        injections = list(procedure.injections.all())
        rows.append(
            PatientProcedureOutcome(
                procedure=procedure,
                sites=[f"{i.site.name} ({i.get_laterality_display().lower()})" for i in injections],
                steroid=any(i.steroid_agent for i in injections),
                points=[p for p in procedure_pain_timeline(procedure) if p.score is not None],
                outcome=outcome_of(procedure),
            )
        )
    return rows


def patient_site_counts(patient: Patient, *, procedure_ids: Iterable[int] | None = None) -> dict[tuple[int, str], int]:
    """Return how many signed procedures treated each (site id, side) of PATIENT: the body map's shading.

    PROCEDURE_IDS, when given, limits the count to those procedures (what the reader may see).
    """
    injections = Injection.objects.filter(procedure__patient=patient, procedure__status=Procedure.Status.SIGNED)
    if procedure_ids is not None:
        injections = injections.filter(procedure_id__in=list(procedure_ids))
    rows = injections.values("site_id", "laterality").annotate(n=Count("procedure", distinct=True)).order_by()
    return {(row["site_id"], row["laterality"]): row["n"] for row in rows}
