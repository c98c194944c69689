"""The clinic's results: responder rates, relief duration, answer rates and steroid load, as aggregates.

Every number is a GROUP BY over `tpi.outcomes.with_outcomes` (the one definition of responder and
relief), so the page costs the same number of queries at 100 or 1,000,000 procedures. Python only
turns the few grouped rows into rates (Wilson 95% intervals) and the Kaplan-Meier median.

Which procedures count: signed ones (drafts have no follow-ups, voided ones are not a result),
performed in the date range (clinic dates), at the location (through the visit's room; a procedure
without a visit has no location and drops out of a location filter). A provider sees their own
unless they hold `tpi.view_all_outcomes` (clinic admins hold every permission).
"""

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from clinic.accounts.actors import AnyUser
from clinic.clock import clinic_tz
from clinic.models import Patient, Provider
from tpi.models import Injection, OutcomeReliefTotal, OutcomeSiteTotal, OutcomeTotal, Procedure
from tpi.outcome_totals import (
    SITE_FIELDS,
    TOTAL_FIELDS,
    day_start,
    relief_groups,
    site_groups,
    totals_split,
    treatment_groups,
)
from tpi.outcomes import TREATMENT_LABELS

TotalsModel = OutcomeTotal | OutcomeSiteTotal | OutcomeReliefTotal

Z_95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


@dataclass(frozen=True)
class Rate:
    """K of N, with its Wilson score 95% interval (None when N is 0)."""

    k: int
    n: int

    @property
    def share(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.k, self.n)

    def text(self) -> str:
        """Return "12 of 20 (60%, 95% CI 39-78%)" or "no answers"."""
        if not self.n:
            return "no answers"
        low, high = self.interval or (0.0, 0.0)
        return f"{self.k} of {self.n} ({self.k / self.n * 100:.0f}%, 95% CI {low * 100:.0f}-{high * 100:.0f}%)"


def wilson_interval(k: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Return the Wilson score interval of K successes in N trials (None for N = 0)."""
    if n <= 0:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class GroupRow:
    """One line of a breakdown: responders and substantial responders at 72 hours and one month."""

    label: str
    check_in: Rate
    check_in_substantial: Rate
    reassessment: Rate
    reassessment_substantial: Rate
    procedures: int


@dataclass(frozen=True)
class Relief:
    """Relief duration over the answered procedures: events, censored, Kaplan-Meier median (days)."""

    answered: int
    worn_off: int
    censored: int
    median_days: int | None  # None: more than half still had relief at their last answer


@dataclass(frozen=True)
class SteroidPatient:
    patient: Patient
    total_mg: Decimal


@dataclass(frozen=True)
class SteroidLoad:
    window_days: int
    threshold_mg: Decimal
    window_end: dt.date
    patients_with_steroid: int
    above: list[SteroidPatient]


@dataclass(frozen=True)
class OutcomeFilters:
    start: dt.date | None = None
    end: dt.date | None = None
    location_id: int | None = None
    provider_id: int | None = None


@dataclass(frozen=True)
class Dashboard:
    filters: OutcomeFilters
    all_providers: bool
    overall: GroupRow
    by_treatment: list[GroupRow]
    by_provider: list[GroupRow]
    by_muscle: list[GroupRow]
    relief: Relief
    check_in_answers: Rate
    reassessment_answers: Rate
    steroid: SteroidLoad
    notes: list[str] = field(default_factory=list)


def results_see_all(user: AnyUser | None) -> bool:
    """Return True when USER may see every provider's results (not only their own)."""
    return bool(user and user.has_perm("tpi.view_all_outcomes"))


def _day_start(day: dt.date) -> dt.datetime:
    return day_start(day)


def _scoped(queryset: QuerySet[Any], *, user: AnyUser | None, filters: OutcomeFilters, location: str) -> QuerySet[Any]:
    """Return QUERYSET (procedures or stored totals) at the filter's location and of the providers USER may see."""
    if filters.location_id:
        queryset = queryset.filter(**{location: filters.location_id})
    if not results_see_all(user):
        provider = Provider.objects.filter(user_id=getattr(user, "pk", None) or 0).values("pk")[:1]
        queryset = queryset.filter(provider_id=provider)
    if filters.provider_id:
        queryset = queryset.filter(provider_id=filters.provider_id)
    return queryset


def results_procedures(*, user: AnyUser | None, filters: OutcomeFilters) -> QuerySet[Procedure]:
    """Return the signed procedures the dashboard counts for USER under FILTERS."""
    queryset = Procedure.objects.filter(status=Procedure.Status.SIGNED)
    if filters.start:
        queryset = queryset.filter(performed_at__gte=_day_start(filters.start))
    if filters.end:
        queryset = queryset.filter(performed_at__lt=_day_start(filters.end + dt.timedelta(days=1)))
    return _scoped(queryset, user=user, filters=filters, location="appointment__room__location_id").order_by()


def results_totals(
    model: type[TotalsModel], *, user: AnyUser | None, filters: OutcomeFilters, rows: Q
) -> QuerySet[Any]:
    """Return the stored totals rows of MODEL that ROWS selects, scoped like `results_procedures`."""
    queryset = model._default_manager.filter(rows)
    return _scoped(queryset, user=user, filters=filters, location="location_id").order_by()


def _row(label: str, values: Mapping[str, Any]) -> GroupRow:
    return GroupRow(
        label=label,
        check_in=Rate(values["ci_k"], values["ci_n"]),
        check_in_substantial=Rate(values["ci_s"], values["ci_n"]),
        reassessment=Rate(values["re_k"], values["re_n"]),
        reassessment_substantial=Rate(values["re_s"], values["re_n"]),
        procedures=values["procedures"],
    )


def kaplan_meier_median(rows: Iterable[tuple[int, bool, int]]) -> int | None:
    """Return the Kaplan-Meier median of (days, censored, count) rows; None when survival stays above 0.5.

    At equal days, events count before censorings (the usual convention).
    """
    grouped: dict[int, list[int]] = {}
    for days, is_censored, count in rows:
        grouped.setdefault(days, [0, 0])[1 if is_censored else 0] += count
    at_risk = sum(events + censored for events, censored in grouped.values())
    survival = 1.0
    for days in sorted(grouped):
        events, censored = grouped[days]
        if events and at_risk:
            survival *= 1 - events / at_risk
            if survival <= 0.5:
                return days
        at_risk -= events + censored
    return None


def _provider_label(row: Mapping[str, Any]) -> str:
    name = f"{row['provider__user__first_name']} {row['provider__user__last_name']}".strip()
    credentials = row["provider__credentials"]
    return f"{name}, {credentials}" if credentials else name


PROVIDER_FIELDS = ("provider_id", "provider__user__first_name", "provider__user__last_name", "provider__credentials")


def _sums(fields: Iterable[str]) -> dict[str, Sum]:
    return {f"sum_{name}": Sum(name) for name in fields}


class _Tally:
    """Counts added up per group key from live rows and stored rows (stored sums are named sum_<field>)."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self.groups: dict[Any, dict[str, int]] = {}

    def add(self, key: Any, row: Mapping[str, Any]) -> None:
        counts = self.groups.setdefault(key, dict.fromkeys(self.fields, 0))
        for name in self.fields:
            counts[name] += (row[name] if name in row else row[f"sum_{name}"]) or 0

    def total(self, keys: Iterable[Any]) -> dict[str, int]:
        result = dict.fromkeys(self.fields, 0)
        for key in keys:
            for name in self.fields:
                result[name] += self.groups[key][name]
        return result


def outcomes_dashboard(*, user: AnyUser | None, filters: OutcomeFilters, now: dt.datetime) -> Dashboard:
    """Return the clinic's results for USER under FILTERS (a constant number of queries).

    Stored totals (tpi.outcome_totals) serve the settled days; the rest is aggregated live with the
    same grouped aggregates, and the two are added up here.
    """
    procedures = results_procedures(user=user, filters=filters)
    split = totals_split(start=filters.start, end=filters.end)
    live = procedures.filter(split.live) if split.live is not None else None
    stored_rows = split.stored

    def stored(model: type[TotalsModel]) -> QuerySet[Any] | None:
        if stored_rows is None:
            return None
        return results_totals(model, user=user, filters=filters, rows=stored_rows)

    # Treatment group x provider: the overall, treatment, provider and answer-rate numbers (one query each way).
    groups, providers = _Tally(TOTAL_FIELDS), {}
    rows: list[Mapping[str, Any]] = []
    if live is not None:
        rows += [
            {**row, "treatment": row["g_treatment"]}
            for row in treatment_groups(live, ["g_treatment", *PROVIDER_FIELDS])
        ]
    totals = stored(OutcomeTotal)
    if totals is not None:
        rows += list(totals.values("treatment", *PROVIDER_FIELDS).annotate(**_sums(TOTAL_FIELDS)))
    for row in rows:
        groups.add((row["treatment"], row["provider_id"]), row)
        providers[row["provider_id"]] = row
    overall = groups.total(groups.groups)
    by_treatment = [
        _row(TREATMENT_LABELS[t], groups.total(k for k in groups.groups if k[0] == t))
        for t in sorted({treatment for treatment, _ in groups.groups})
    ]
    ordered = sorted(
        providers.values(),
        key=lambda r: (r["provider__user__last_name"], r["provider__user__first_name"], r["provider_id"]),
    )
    by_provider = [
        _row(_provider_label(r), groups.total(k for k in groups.groups if k[1] == r["provider_id"])) for r in ordered
    ]

    sites, site_names = _Tally(SITE_FIELDS), {}
    site_rows: list[Mapping[str, Any]] = []
    if live is not None:
        site_rows += [
            {**row, "site_id": row["g_site"], "site__name": row["g_site_name"]}
            for row in site_groups(live, ["g_site", "g_site_name"])
        ]
    site_totals = stored(OutcomeSiteTotal)
    if site_totals is not None:
        site_rows += list(site_totals.values("site_id", "site__name").annotate(**_sums(SITE_FIELDS)))
    for row in site_rows:
        sites.add(row["site_id"], row)
        site_names[row["site_id"]] = row["site__name"]
    by_muscle = [
        _row(site_names[pk], sites.groups[pk]) for pk in sorted(site_names, key=lambda pk: (site_names[pk], pk))
    ]

    relief_rows: list[tuple[int, bool, int]] = []
    if live is not None:
        relief_rows += [(r["relief_days"], r["relief_censored"], r["n"]) for r in relief_groups(live, [])]
    relief_totals = stored(OutcomeReliefTotal)
    if relief_totals is not None:
        relief_rows += [
            (r["relief_days"], r["censored"], r["n"])
            for r in relief_totals.values("relief_days", "censored").annotate(n=Sum("procedures"))
        ]
    relief = Relief(
        answered=sum(n for _, _, n in relief_rows),
        worn_off=sum(n for _, censored, n in relief_rows if not censored),
        censored=sum(n for _, censored, n in relief_rows if censored),
        median_days=kaplan_meier_median(relief_rows),
    )
    return Dashboard(
        filters=filters,
        all_providers=results_see_all(user),
        overall=_row("All procedures", overall),
        by_treatment=by_treatment,
        by_provider=by_provider,
        by_muscle=by_muscle,
        relief=relief,
        check_in_answers=Rate(overall["ci_answered_of_sent"], overall["ci_sent"]),
        reassessment_answers=Rate(overall["re_answered_of_sent"], overall["re_sent"]),
        steroid=steroid_load(procedures=procedures, filters=filters, now=now),
    )


STEROID_LIST_LIMIT = 200


def steroid_load(*, procedures: QuerySet[Procedure], filters: OutcomeFilters, now: dt.datetime) -> SteroidLoad:
    """Return the cumulative steroid (mg, all agents, signed procedures) per patient over the rolling window.

    The window (`TPI_STEROID_WINDOW_DAYS`, as the pre-sign warning) ends with the filter's end date or
    now. The patients are those with a steroid injection among PROCEDURES in the window; their total
    counts every signed procedure of theirs in the window, whoever injected it (the risk is the patient's).
    """
    window_days = settings.TPI_STEROID_WINDOW_DAYS
    window_end = _day_start(filters.end + dt.timedelta(days=1)) if filters.end else now
    window_start = window_end - dt.timedelta(days=window_days)
    in_window = Injection.objects.filter(
        procedure__status=Procedure.Status.SIGNED,
        procedure__performed_at__gt=window_start,
        procedure__performed_at__lte=window_end,
        steroid_dose_mg__isnull=False,
    )
    patients = in_window.filter(procedure__in=procedures.values("pk")).values("procedure__patient_id")
    threshold = Decimal(str(settings.TPI_STEROID_CUMULATIVE_MAX_MG))
    totals = (
        in_window.filter(procedure__patient_id__in=patients)
        .values("procedure__patient_id")
        .annotate(total=Sum("steroid_dose_mg"))
        .order_by()
    )
    with_steroid = totals.aggregate(n=Count("procedure__patient_id", distinct=True))["n"]
    above = list(totals.filter(total__gt=threshold).order_by("-total", "procedure__patient_id")[:STEROID_LIST_LIMIT])
    names = Patient.objects.in_bulk([row["procedure__patient_id"] for row in above])
    return SteroidLoad(
        window_days=window_days,
        threshold_mg=threshold,
        window_end=(window_end - dt.timedelta(microseconds=1)).astimezone(clinic_tz()).date(),
        patients_with_steroid=with_steroid,
        above=[SteroidPatient(names[row["procedure__patient_id"]], row["total"]) for row in above],
    )


def dashboard_csv_rows(dashboard: Dashboard) -> list[list[str]]:
    """Return the dashboard as CSV rows (a header, then one row per group and measure)."""
    rows = [["section", "group", "measure", "n", "count", "percent", "ci95_low_percent", "ci95_high_percent"]]

    def add(section: str, group: str, measure: str, rate: Rate) -> None:
        low_high = rate.interval
        rows.append(
            [
                section,
                group,
                measure,
                str(rate.n),
                str(rate.k),
                "" if rate.share is None else f"{rate.share * 100:.1f}",
                "" if low_high is None else f"{low_high[0] * 100:.1f}",
                "" if low_high is None else f"{low_high[1] * 100:.1f}",
            ]
        )

    sections = [
        ("overall", [dashboard.overall]),
        ("treatment", dashboard.by_treatment),
        ("provider", dashboard.by_provider),
        ("muscle", dashboard.by_muscle),
    ]
    for section, groups in sections:
        for group in groups:
            add(section, group.label, "responder_72h", group.check_in)
            add(section, group.label, "substantial_72h", group.check_in_substantial)
            add(section, group.label, "responder_1_month", group.reassessment)
            add(section, group.label, "substantial_1_month", group.reassessment_substantial)
    add("follow_up", "72-hour check-in", "answered_of_sent", dashboard.check_in_answers)
    add("follow_up", "one-month reassessment", "answered_of_sent", dashboard.reassessment_answers)
    relief = dashboard.relief
    median = "" if relief.median_days is None else str(relief.median_days)
    rows.append(["relief", "all", "median_days_kaplan_meier", str(relief.answered), median, "", "", ""])
    rows.append(["relief", "all", "worn_off", str(relief.answered), str(relief.worn_off), "", "", ""])
    steroid = dashboard.steroid
    for entry in steroid.above:
        rows.append(
            [
                "steroid_above_threshold",
                entry.patient.mrn,
                f"mg_over_{steroid.window_days}_days",
                "",
                f"{entry.total_mg:g}",
                "",
                "",
                "",
            ]
        )
    return rows
