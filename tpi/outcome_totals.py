"""Stored totals of the results dashboard: per clinic day and per clinic month, refreshed by beat.

The dashboard (tpi.outcome_stats) reads every day before the watermark from the totals and computes
the rest live with the same aggregates, so any date range costs a few small queries at 1,000,000
procedures. The totals and the live path are the SAME grouped aggregates over `with_outcomes` (this
module's `*_groups` functions): the refresh stores their rows, the dashboard adds stored and live rows.

- Watermark: `OutcomeTotalsState.watermark` is the first clinic day NOT stored. It trails today by
  TPI_OUTCOMES_TOTALS_SETTLE_DAYS, long enough for both follow-ups to be sent and answered, so the
  stored days rarely change.
- Dirty days: what changes a stored day later (a backdated sign, a void, a late answer, a resent
  follow-up) calls `outcome_days_mark` in the same transaction. The dashboard computes a marked day
  live until the next refresh recomputes it, so the numbers are never stale.
- Refresh (`outcome_totals_refresh`, beat every TPI_OUTCOMES_TOTALS_REFRESH_SECONDS): in one
  transaction, recompute the days newly behind the watermark (those of at most
  TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES a run; the task queues itself again while behind) and the
  marked days (one DELETE and one INSERT ... SELECT per table), rebuild the month rows of the months
  those days complete from the day rows, and drop the marks it read (marks are read first, so a
  change committed meanwhile keeps its mark). A change of the outcome definitions or the clinic zone
  starts over from the first procedure; until then the dashboard computes everything live.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Field, Min, Model, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncDate, TruncMonth

from clinic.clock import clinic_tz
from tpi.models import (
    OutcomeDirtyDay,
    OutcomeReliefTotal,
    OutcomeSiteTotal,
    OutcomeTotal,
    OutcomeTotalsState,
    Procedure,
)
from tpi.models.outcome_totals import Period
from tpi.outcomes import treatment_kind, with_outcomes

DayRange = tuple[dt.date | None, dt.date]  # [start, end): None is the beginning of time

RATE_FIELDS = ["ci_n", "ci_k", "ci_s", "re_n", "re_k", "re_s"]
ANSWER_FIELDS = ["ci_sent", "re_sent", "ci_answered_of_sent", "re_answered_of_sent"]
TOTAL_FIELDS = ["procedures", *RATE_FIELDS, *ANSWER_FIELDS]
SITE_FIELDS = ["procedures", *RATE_FIELDS]


def day_start(day: dt.date) -> dt.datetime:
    """Return the instant the clinic day DAY begins."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=clinic_tz())


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def definitions_signature() -> str:
    """Return the settings the stored totals depend on: a change makes them stale."""
    return "/".join(
        str(v)
        for v in (
            settings.TPI_OUTCOMES_RESPONDER_PERCENT,
            settings.TPI_OUTCOMES_RESPONDER_MIN_POINTS,
            settings.TPI_OUTCOMES_SUBSTANTIAL_PERCENT,
            settings.TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT,
            clinic_tz().key,
        )
    )


# The grouped aggregates: one definition for the refresh and the live path.


def rate_aggregates(*, distinct: bool = False) -> dict[str, Any]:
    """Return the procedures and the answered / responder / substantial counts of `with_outcomes` rows."""

    def count(condition: Q) -> Count:
        return Count("pk", filter=condition, distinct=distinct)

    return {
        "procedures": Count("pk", distinct=distinct),
        "ci_n": count(Q(pain_check_in__isnull=False)),
        "ci_k": count(Q(responder_check_in=True)),
        "ci_s": count(Q(substantial_check_in=True)),
        "re_n": count(Q(pain_reassessment__isnull=False)),
        "re_k": count(Q(responder_reassessment=True)),
        "re_s": count(Q(substantial_reassessment=True)),
    }


def answer_aggregates() -> dict[str, Any]:
    """Return the follow-ups sent, and answered of those sent, at 72 hours and one month."""
    return {
        "ci_sent": Count("pk", filter=Q(check_in__sent_at__isnull=False)),
        "re_sent": Count("pk", filter=Q(reassessment__sent_at__isnull=False)),
        "ci_answered_of_sent": Count("pk", filter=Q(check_in__sent_at__isnull=False, pain_check_in__isnull=False)),
        "re_answered_of_sent": Count(
            "pk", filter=Q(reassessment__sent_at__isnull=False, pain_reassessment__isnull=False)
        ),
    }


def _keys(queryset: QuerySet[Procedure], keys: Sequence[str]) -> tuple[QuerySet[Any], list[str]]:
    """Annotate the grouping keys the refresh stores (g_day, g_location, g_treatment) that KEYS names."""
    expressions = {
        "g_day": lambda: TruncDate("performed_at", tzinfo=clinic_tz()),
        "g_location": lambda: F("appointment__room__location_id"),
        "g_treatment": treatment_kind,
    }
    wanted = {k: expressions[k]() for k in keys if k in expressions}
    return queryset.annotate(**wanted), list(keys)


def treatment_groups(procedures: QuerySet[Procedure], keys: Sequence[str]) -> QuerySet[Any]:
    """Return the rate and answer counts of PROCEDURES grouped by KEYS (g_treatment among them)."""
    queryset, fields = _keys(with_outcomes(procedures), keys)
    return queryset.values(*fields).annotate(**rate_aggregates(), **answer_aggregates()).order_by()


def site_groups(procedures: QuerySet[Procedure], keys: Sequence[str]) -> QuerySet[Any]:
    """Return the rate counts of PROCEDURES per treated site (each procedure once per site) grouped by KEYS.

    KEYS may name `g_site` and `g_site_name`: the site of ONE join of the injections (filtering on
    `injections__...` after grouping would join them again and pair the counts with another row's site).
    """
    queryset, fields = _keys(with_outcomes(procedures), keys)
    queryset = queryset.annotate(g_site=F("injections__site_id"))
    if "g_site_name" in keys:
        queryset = queryset.annotate(g_site_name=F("injections__site__name"))
    return queryset.filter(g_site__isnull=False).values(*fields).annotate(**rate_aggregates(distinct=True)).order_by()


def relief_groups(procedures: QuerySet[Procedure], keys: Sequence[str]) -> QuerySet[Any]:
    """Return how many answered PROCEDURES had each relief duration (and censoring), grouped by KEYS."""
    queryset, fields = _keys(with_outcomes(procedures).filter(relief_days__isnull=False), keys)
    return queryset.values(*fields, "relief_days", "relief_censored").annotate(n=Count("pk")).order_by()


# Marking and refreshing.


def outcome_days_mark(*, procedures: QuerySet[Procedure]) -> None:
    """Mark the clinic days of PROCEDURES as changed (one INSERT ... SELECT): live until the next refresh."""
    days = procedures.order_by().annotate(g_day=TruncDate("performed_at", tzinfo=clinic_tz())).values("g_day")
    _insert_select(OutcomeDirtyDay, ["day"], days.distinct())


def _field(model: type[Model], name: str) -> Field:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # a concrete column of our own model
    return field


def _insert_select(model: type[Model], columns: list[str], queryset: QuerySet[Any]) -> None:
    """INSERT INTO MODEL's table (COLUMNS) the rows of QUERYSET (its selected columns in the same order)."""
    sql, params = queryset.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(str(_field(model, c).column)) for c in columns)
    with connection.cursor() as cursor:
        # Table and column names from the model; the SELECT is the ORM's, with its parameters.
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({names}) {sql}", params)


def _ranges_q(ranges: Iterable[DayRange], field: str, *, instants: bool) -> Q:
    """Return FIELD within any of RANGES (clinic days; INSTANTS: FIELD is a datetime)."""
    q = Q(pk__in=[])
    for start, end in ranges:
        bound = (lambda d: day_start(d)) if instants else (lambda d: d)
        part = Q(**{f"{field}__lt": bound(end)})
        if start is not None:
            part &= Q(**{f"{field}__gte": bound(start)})
        q |= part
    return q


def _merged(days: Iterable[dt.date], *, step: Any) -> list[DayRange]:
    """Return sorted DAYS as [start, end) runs, STEP(day) giving the day after each unit."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day:
            runs[-1][1] = step(day)
        else:
            runs.append([day, step(day)])
    return [(start, end) for start, end in runs]


TABLES: list[type[Model]] = [OutcomeTotal, OutcomeSiteTotal, OutcomeReliefTotal]
KEY_COLUMNS = ["period", "day", "location", "provider"]
DAY_KEYS = ["g_day", "g_location", "provider_id"]


def _days_store(ranges: list[DayRange]) -> None:
    """Replace the day rows of RANGES with the grouped aggregates of their signed procedures."""
    procedures = Procedure.objects.filter(status=Procedure.Status.SIGNED).filter(
        _ranges_q(ranges, "performed_at", instants=True)
    )
    for model in TABLES:
        model._default_manager.filter(period=Period.DAY).filter(_ranges_q(ranges, "day", instants=False)).delete()
    period = Value(Period.DAY)
    totals = treatment_groups(procedures, [*DAY_KEYS, "g_treatment"]).annotate(g_period=period)
    _insert_select(
        OutcomeTotal,
        [*KEY_COLUMNS, "treatment", *TOTAL_FIELDS],
        totals.values_list("g_period", *DAY_KEYS, "g_treatment", *TOTAL_FIELDS),
    )
    sites = site_groups(procedures, [*DAY_KEYS, "g_site"]).annotate(g_period=period)
    _insert_select(
        OutcomeSiteTotal,
        [*KEY_COLUMNS, "site", *SITE_FIELDS],
        sites.values_list("g_period", *DAY_KEYS, "g_site", *SITE_FIELDS),
    )
    relief = relief_groups(procedures, DAY_KEYS).annotate(g_period=period)
    _insert_select(
        OutcomeReliefTotal,
        [*KEY_COLUMNS, "relief_days", "censored", "procedures"],
        relief.values_list("g_period", *DAY_KEYS, "relief_days", "relief_censored", "n"),
    )


def _months_store(ranges: list[DayRange]) -> None:
    """Replace the month rows of the months in RANGES (whole months) with the sums of their day rows."""
    for model, extra, values in (
        (OutcomeTotal, ["treatment"], TOTAL_FIELDS),
        (OutcomeSiteTotal, ["site"], SITE_FIELDS),
        (OutcomeReliefTotal, ["relief_days", "censored"], ["procedures"]),
    ):
        manager = model._default_manager
        manager.filter(period=Period.MONTH).filter(_ranges_q(ranges, "day", instants=False)).delete()
        extra_fields = [_field(model, name).attname for name in extra]
        sums_of = [f"sum_{v}" for v in values]
        days = manager.filter(period=Period.DAY).filter(_ranges_q(ranges, "day", instants=False))
        sums = (
            days.annotate(g_month=TruncMonth("day"))
            .values("g_month", "location_id", "provider_id", *extra_fields)
            .annotate(**{name: Sum(v) for name, v in zip(sums_of, values, strict=True)})
            .annotate(g_period=Value(Period.MONTH))
            .order_by()
            .values_list("g_period", "g_month", "location_id", "provider_id", *extra_fields, *sums_of)
        )
        _insert_select(model, [*KEY_COLUMNS, *extra, *values], sums)


@dataclass(frozen=True)
class Refreshed:
    watermark: dt.date
    full: bool
    day_ranges: list[DayRange]
    month_ranges: list[DayRange]
    more: bool  # the watermark is still behind today minus the settle days: run again


def _first_day() -> dt.date | None:
    first = Procedure.objects.filter(status=Procedure.Status.SIGNED).aggregate(first=Min("performed_at"))["first"]
    return None if first is None else first.astimezone(clinic_tz()).date()


def _step_end(start: dt.date, target: dt.date) -> dt.date:
    """Return how far one run stores: TARGET, or the day of the procedure after the first MAX_PROCEDURES
    from START (at least one day further; the (status, performed_at) index walks to it)."""
    limit = settings.TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES
    beyond = list(
        Procedure.objects.filter(
            status=Procedure.Status.SIGNED, performed_at__gte=day_start(start), performed_at__lt=day_start(target)
        )
        .order_by("performed_at")
        .values_list("performed_at", flat=True)[limit : limit + 1]
    )
    if not beyond:
        return target
    return max(beyond[0].astimezone(clinic_tz()).date(), start + dt.timedelta(days=1))


@transaction.atomic
def outcome_totals_refresh(*, now: dt.datetime, full: bool = False) -> Refreshed:
    """Move the stored totals toward today minus the settle days (see the module docstring); return what it did.

    One run stores the new days of at most TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES procedures (and
    the marked days), so a first build or a rebuild at a million procedures is a few transactions well
    inside the task time limit (`more`: run again); the
    dashboard reads the totals up to wherever the watermark is and the rest live meanwhile. FULL
    starts over from the first procedure, as after rows written around the services (a bulk import,
    a benchmark seed); so do changed outcome settings.
    """
    state = OutcomeTotalsState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        OutcomeTotalsState.objects.create(pk=1)
        state = OutcomeTotalsState.objects.select_for_update().get(pk=1)
    target = now.astimezone(clinic_tz()).date() - dt.timedelta(days=settings.TPI_OUTCOMES_TOTALS_SETTLE_DAYS)
    marks = list(OutcomeDirtyDay.objects.values_list("pk", "day"))
    signature = definitions_signature()
    full = full or state.watermark is None or state.definitions != signature or target < state.watermark
    if full:
        for model in TABLES:
            model._default_manager.all().delete()
        old = min(_first_day() or target, target)
        marks_before: list[dt.date] = []
    else:
        assert state.watermark is not None
        old = state.watermark
        marks_before = [day for _, day in marks if day < old]
    watermark = _step_end(old, target)
    days = marks_before + [old + dt.timedelta(days=n) for n in range((watermark - old).days)]
    day_ranges = _merged(days, step=lambda d: d + dt.timedelta(days=1))
    month_ranges = _merged((_month(day) for day in days if _next_month(day) <= watermark), step=_next_month)
    if day_ranges:
        _days_store(day_ranges)
    if month_ranges:
        _months_store(month_ranges)
    read = [pk for pk, _ in marks]
    for chunk in range(0, len(read), 500):
        OutcomeDirtyDay.objects.filter(pk__in=read[chunk : chunk + 500]).delete()
    state.watermark, state.definitions, state.refreshed_at = watermark, signature, now
    state.save()
    return Refreshed(
        watermark=watermark, full=full, day_ranges=day_ranges, month_ranges=month_ranges, more=watermark < target
    )


# Reading: which rows are stored, which procedures are live.


@dataclass(frozen=True)
class TotalsSplit:
    """STORED: the totals rows to read (None: none); LIVE: the procedures to aggregate live (None: none)."""

    stored: Q | None
    live: Q | None


def totals_split(*, start: dt.date | None, end: dt.date | None) -> TotalsSplit:
    """Return which part of [START, END] (clinic days, None: open) comes from the totals and which is live.

    Whole months before the watermark come from month rows, the other stored days from day rows; the
    days at or after the watermark and the marked days are live. No totals (or stale definitions):
    everything is live. One query, two when there are totals.
    """
    state = OutcomeTotalsState.objects.filter(pk=1).first()
    if state is None or state.watermark is None or state.definitions != definitions_signature():
        return TotalsSplit(stored=None, live=Q())
    watermark = state.watermark
    bound = watermark if end is None else min(end + dt.timedelta(days=1), watermark)
    if start is not None and start >= bound:
        return TotalsSplit(stored=None, live=Q())
    in_range = OutcomeDirtyDay.objects.filter(day__lt=bound)
    if start is not None:
        in_range = in_range.filter(day__gte=start)
    dirty = sorted(set(in_range.values_list("day", flat=True)))
    dirty_months = sorted({_month(day) for day in dirty})
    first_full = None if start is None else (start if start.day == 1 else _next_month(start))
    tail = _month(bound)
    stored = Q(period=Period.DAY, day__lt=bound) & ~Q(day__in=dirty)
    if start is not None:
        stored &= Q(day__gte=start)
    day_rows = Q(day__gte=tail) | _ranges_q(((m, _next_month(m)) for m in dirty_months), "day", instants=False)
    if first_full is not None:
        day_rows |= Q(day__lt=first_full)
    stored &= day_rows
    if first_full is None or first_full < tail:
        months = Q(period=Period.MONTH, day__lt=tail) & ~Q(day__in=dirty_months)
        if first_full is not None:
            months &= Q(day__gte=first_full)
        stored |= months
    live = None
    if end is None or end >= watermark:
        live = Q(performed_at__gte=day_start(watermark))
    if dirty:
        dirty_live = _ranges_q(_merged(dirty, step=lambda d: d + dt.timedelta(days=1)), "performed_at", instants=True)
        live = dirty_live if live is None else live | dirty_live
    return TotalsSplit(stored=stored, live=live)
