"""Benchmark: the results dashboard at a large scale beside the same pages on a 1,000-procedure database.

    DATABASE_URL=postgres://.../tpi_bench_outcomes python -m benchmarks.outcomes --procedures 1000000

Use an EMPTY database of its own. It seeds like `benchmarks.lists` (its `procedures_seed`: COPY on
PostgreSQL), then, for the new rows only, in set statements: every third procedure's injected site
gets a steroid, the procedures move 40 days back and are signed, and each gets its two follow-ups (sent; answered with
scores that vary by id, a few left unanswered). It times each request at the reference and at the
scale and prints the median server time, the ratio and the query count (which must not grow). Not a
timed test; tests/benchmarks runs it at a scale of 30 (reference 20).

- the stored totals (tpi/outcome_totals.py): a full rebuild, then the next day's incremental refresh;
- the results dashboard over all time as a clinic admin, and as a provider (own procedures);
- the last 90 days (what the page opens on), as both;
- the CSV download; the "consider repeat" list.
"""

import argparse
import os
import sys
import time
from typing import Any

from benchmarks import lists
from benchmarks.lists import Row, Timing, _setup, _users, procedures_seed, table

REQUESTS = [
    ("results, all time (admin)", "admin", "/admin/tpi/procedureoutcome/?start="),
    ("results, all time (a provider's own)", "provider", "/admin/tpi/procedureoutcome/?start="),
    ("results, last 90 days (the default)", "admin", "/admin/tpi/procedureoutcome/?start={start}"),
    ("results, last 90 days (a provider's own)", "provider", "/admin/tpi/procedureoutcome/?start={start}"),
    ("results CSV download, all time", "admin", "/admin/tpi/procedureoutcome/?start=&format=csv"),
    ("consider repeat list", "admin", "/admin/tpi/procedureoutcome/repeat/"),
]


def outcomes_seed(count: int) -> None:
    """Grow the database to COUNT signed procedures with follow-ups (see the module docstring)."""
    from django.db import connection, transaction
    from django.db.models import Max

    from tpi.models import Procedure

    last = Procedure.objects.aggregate(m=Max("pk"))["m"] or 0
    procedures_seed(count)
    postgres = connection.vendor == "postgresql"

    def plus(column: str, days: int, hours: int = 0) -> str:
        if postgres:
            return f"{column} + interval '{days} days {hours} hours'"
        return f"datetime({column}, '+{days} days', '+{hours} hours')"

    def minus(column: str, days: int) -> str:
        return f"{column} - interval '{days} days'" if postgres else f"datetime({column}, '-{days} days')"

    now = "CURRENT_TIMESTAMP"
    with transaction.atomic(), connection.cursor() as cursor:
        # Steroids go in while the procedures are drafts (a signed procedure's injections are frozen).
        cursor.execute(
            "UPDATE tpi_injection SET steroid_agent = 'triamcinolone', steroid_dose_mg = 10 "
            "WHERE procedure_id > %s AND procedure_id %% 3 = 0 AND dry_needling = %s",
            [last, False],
        )
        # Forty days back, so that even the newest procedure has had its one-month answer.
        back = {column: minus(column, 40) for column in ("performed_at", "consent_obtained_at")}
        cursor.execute(
            # Fixed SQL built here from literals; the procedure bound is a parameter.
            f"UPDATE tpi_procedure SET pain_before = 4 + id %% 7, status = 'signed', "  # noqa: S608
            f"performed_at = {back['performed_at']}, consent_obtained_at = {back['consent_obtained_at']}, "
            f"signed_at = {back['performed_at']}, signed_by_id = consent_obtained_by_id WHERE id > %s",
            [last],
        )
        for kind, due, answered, score, skip in (
            ("check_in", plus("p.performed_at", 3), plus("p.performed_at", 3, 5), "(p.id * 3) %% 11", 5),
            ("reassessment", plus("p.performed_at", 30), plus("p.performed_at", 31), "(p.id * 7) %% 11", 4),
        ):
            answered_when = f"CASE WHEN p.id %% {skip} = 1 OR {answered} > {now} THEN NULL ELSE {answered} END"
            cursor.execute(
                # Fixed SQL built here from literals; the procedure bound is a parameter.
                "INSERT INTO tpi_followup (procedure_id, kind, due_at, status, status_reason, answer_pain_score, "  # noqa: S608
                "answered_at, answer_method, sent_at, created_at, updated_at) "
                f"SELECT p.id, '{kind}', {due}, "
                f"CASE WHEN {answered_when} IS NULL THEN 'sent' ELSE 'answered' END, '', "
                f"CASE WHEN {answered_when} IS NULL THEN NULL ELSE {score} END, {answered_when}, "
                f"CASE WHEN {answered_when} IS NULL THEN '' ELSE 'sms' END, {due}, p.created_at, p.created_at "
                "FROM tpi_procedure p WHERE p.id > %s",
                [last],
            )
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def requests_time(*, users: dict[str, Any], repeat: int) -> list[Timing]:
    """Return the median time and the query count of each dashboard request (benchmarks.lists times them)."""
    import datetime as dt

    from django.utils import timezone

    start = (timezone.localdate() - dt.timedelta(days=90)).isoformat()
    requests = [(label, who, url.format(start=start)) for label, who, url in REQUESTS]
    return lists.requests_time(users=users, repeat=repeat, requests=requests)


REFRESHES = ["totals refresh, full rebuild (every step)", "totals refresh, the next day (incremental)"]


def refreshes_time() -> list[Timing]:
    """Return the time and query count of a full rebuild of the stored totals, then of the next day's refresh.

    The seed writes around the services (no dirty days marked), so the totals are rebuilt in full: as
    the beat task does, in steps of TPI_OUTCOMES_TOTALS_REFRESH_MAX_PROCEDURES procedures (so its query
    count grows with the procedures; the requests' must not).
    """
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from tpi.outcome_totals import outcome_totals_refresh

    timings = []
    now = timezone.now()
    for label, when, full in ((REFRESHES[0], now, True), (REFRESHES[1], now + dt.timedelta(days=1), False)):
        captured: list[str] = []
        with connection.execute_wrapper(
            lambda execute, sql, *args, log=captured: log.append(sql) or execute(sql, *args)
        ):
            started = time.perf_counter()
            while outcome_totals_refresh(now=when, full=full).more:
                full = False
            seconds = time.perf_counter() - started
        timings.append(Timing(label, seconds, len(captured)))
    # The totals now reach a day further than beat would have them: the numbers are the same (the seeded
    # days are settled), the stored share one day larger.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return timings


def outcomes_compare(*, procedures: int, reference: int = 1_000, repeat: int = 3) -> list[Row]:
    """Time the requests at REFERENCE procedures, grow to PROCEDURES, time them again; return the rows.

    After each seed the stored totals are rebuilt (timed, as two rows of their own) before the requests.
    """
    from django.contrib.auth.models import Permission

    from tpi.models import Procedure

    if Procedure.objects.exists():
        raise RuntimeError("benchmarks.outcomes needs an empty database (it grows the reference to the scale)")
    users = _users()
    users["provider"].user_permissions.add(Permission.objects.get(codename="view_procedureoutcome"))
    outcomes_seed(reference)
    small = refreshes_time() + requests_time(users=users, repeat=repeat)
    outcomes_seed(procedures)
    large = refreshes_time() + requests_time(users=users, repeat=repeat)
    return [Row(s.request, s, b) for s, b in zip(small, large, strict=True)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.outcomes", description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=20_000, help="procedures at scale (default 20000)")
    parser.add_argument("--reference", type=int, default=1_000, help="procedures of the reference (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each request (default 3)")
    args = parser.parse_args(argv)
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rows = outcomes_compare(procedures=args.procedures, reference=args.reference, repeat=args.repeat)
    database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite"
    sys.stdout.write(
        f"{database}, {os.cpu_count()} CPUs, {time.perf_counter() - started:.0f} s in all (seeding included)\n"
        f"{table(rows, reference=args.reference, procedures=args.procedures)}\n"
    )


if __name__ == "__main__":
    main()
