"""Benchmark: each list request at a large scale beside the same request on a 1,000-procedure database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tpi_bench_lists python -m benchmarks.lists --procedures 1000000

Use an EMPTY database of its own (the command refuses one that already holds procedures): it migrates
it, seeds the reference (1,000 procedures, two injections each: one muscle injected, one dry-needled;
a patient per ten procedures but at least as many patients as the reference has procedures, every
tenth named Garcia, so the patient searches fill their first page (100 rows) at both scales and the
ratio measures the table, not a page holding more rows; 20 providers; an appointment per ten
procedures, one every 15 minutes back from the end of today, so today's day sheet holds the same 96
visits at any scale while the history behind it grows), times each request, then grows the same
database to --procedures (PostgreSQL: COPY; SQLite: bulk_create in big chunks; the injections with
one INSERT ... SELECT), runs ANALYZE and times the same requests again. Not a timed
test: it prints a table of the median server time of --repeat runs of each request, the ratio to the
reference, and each one's query count (which must not grow). The requests (issue 15's table):

- `GET /api/procedures/?page=1` as a clinic admin, and as a provider (own procedures);
- the admin procedure change list; `GET /api/patients/?search=garcia`; the admin patient search;
- the admin day sheet (one day).

tests/benchmarks runs this at a scale of 30 (reference 20) to keep it working.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import django

PROVIDERS = 20
CHUNK = 50_000  # rows a COPY batch or bulk_create call holds in memory
REQUESTS = [
    ("GET /api/procedures/?page=1", "admin", "/api/procedures/?page=1"),
    ("same, as a provider (own procedures)", "provider", "/api/procedures/?page=1"),
    ("admin procedure change list", "admin", "/admin/tpi/procedure/"),
    ("GET /api/patients/?search=garcia", "admin", "/api/patients/?search=garcia"),
    ("admin patient search", "admin", "/admin/clinic/patient/?q=garcia"),
    ("admin day sheet (one day)", "admin", "/admin/scheduling/appointment/day-sheet/"),
]


@dataclass(frozen=True)
class Timing:
    request: str
    seconds: float
    queries: int


@dataclass(frozen=True)
class Row:
    request: str
    reference: Timing
    large: Timing

    @property
    def ratio(self) -> float:
        return self.large.seconds / self.reference.seconds if self.reference.seconds else 0.0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()


def _users() -> dict[str, Any]:
    """Return the admin and provider users the requests run as (the providers are created here)."""
    from django.contrib.auth import get_user_model

    from clinic.models import Provider

    users = get_user_model().objects
    admin, _ = users.get_or_create(username="benchmark-admin", defaults={"is_superuser": True, "is_staff": True})
    for i in range(PROVIDERS):
        user, _ = users.get_or_create(username=f"benchmark-provider-{i}", defaults={"is_staff": True})
        Provider.objects.get_or_create(user=user, defaults={"role": Provider.Role.PHYSICIAN})
    provider_user = users.get(username="benchmark-provider-0")
    from django.contrib.auth.models import Group

    provider_user.groups.set(Group.objects.filter(name__icontains="provider")[:1])
    return {"admin": admin, "provider": provider_user}


def _columns(model: Any) -> list[Any]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _values(instance: Any) -> list[Any]:
    from django.db import connection

    return [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in _columns(type(instance))]


def _write(model: Any, rows: Iterator[Any]) -> None:
    """Insert the model instances ROWS: COPY on PostgreSQL, bulk_create in chunks elsewhere."""
    from django.db import connection

    if connection.vendor != "postgresql":
        batch: list[Any] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                model.objects.bulk_create(batch, batch_size=2_000)
                batch = []
        model.objects.bulk_create(batch, batch_size=2_000)
        return
    names = ", ".join(connection.ops.quote_name(f.column) for f in _columns(model))
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's cursor: its COPY writes rows without building SQL
        with raw.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(_values(row))


def procedures_seed(count: int, *, min_patients: int = 1) -> None:
    """Grow the database to COUNT procedures (and their patients and injections); see the module docstring."""
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from clinic.models import Patient, Provider
    from tpi.models import Injection, Procedure, TriggerPointSite

    now = timezone.now().replace(microsecond=0)
    existing = Procedure.objects.count()
    if count <= existing:
        return
    patients_wanted = max(count // 10, min_patients)
    patients_have = Patient.objects.count()
    providers = list(
        Provider.objects.filter(user__username__startswith="benchmark-provider-").values_list("pk", flat=True)
    )

    def patients() -> Iterator[Patient]:
        for i in range(patients_have, patients_wanted):
            yield Patient(
                mrn=f"B{i:09d}",
                legal_first_name=f"Pat{i % 997}",
                legal_last_name="Garcia" if i % 10 == 0 else f"Name{i % 50_000}",
                date_of_birth=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                mobile_phone=f"+1202{i % 10_000_000:07d}",
                created_at=now,
                updated_at=now,
            )

    with transaction.atomic():
        _write(Patient, patients())
    first_patient = Patient.objects.order_by("pk").values_list("pk", flat=True).first()
    user_of = dict(Provider.objects.filter(pk__in=providers).values_list("pk", "user_id"))
    last_procedure = Procedure.objects.aggregate(m=Max("pk"))["m"] or 0

    def procedures() -> Iterator[Procedure]:
        for i in range(existing, count):
            provider = providers[i % len(providers)]
            performed_at = now - dt.timedelta(minutes=20 * (i + 1))  # about 20 months a million
            yield Procedure(
                patient_id=first_patient + (i * 7919) % patients_wanted,
                provider_id=provider,
                performed_at=performed_at,
                indication="Myofascial pain, upper trapezius",
                indication_icd10="M79.18",
                pain_before=7,
                pain_after=3,
                consent_obtained=True,
                consent_obtained_by_id=user_of[provider],
                consent_obtained_at=performed_at - dt.timedelta(minutes=10),
                created_at=now,
                updated_at=now,
            )

    with transaction.atomic():
        _write(Procedure, procedures())
    appointments_seed(max(count // 10, 1), providers=providers, first_patient=first_patient)
    injected, needled = TriggerPointSite.objects.order_by("pk")[:2]
    prototypes = [
        Injection(site=injected, laterality="left", anaesthetic_agent="lidocaine",
                  anaesthetic_concentration_percent=1, anaesthetic_volume_ml=2, created_at=now),
        Injection(site=needled, laterality="left", dry_needling=True, created_at=now),
    ]  # fmt: skip
    columns = _columns(Injection)
    with transaction.atomic(), connection.cursor() as cursor:
        for prototype in prototypes:
            names = ", ".join(connection.ops.quote_name(f.column) for f in columns)
            picks = ", ".join("p.id" if f.name == "procedure" else "%s" for f in columns)
            params = [v for f, v in zip(columns, _values(prototype), strict=True) if f.name != "procedure"]
            cursor.execute(
                # Column names from the model, values as parameters.
                f"INSERT INTO tpi_injection ({names}) SELECT {picks} FROM tpi_procedure p WHERE p.id > %s",  # noqa: S608
                [*params, last_procedure],
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have after a bulk load


def appointments_seed(count: int, *, providers: list[int], first_patient: int) -> None:
    """Grow the appointments to COUNT: one every 15 minutes back from the end of today (clinic time).

    Every appointment has a time of its own, so no provider or room is double-booked whatever the
    count (the database's exclusion constraints hold on PostgreSQL); past ones are completed.
    """
    from django.db import transaction
    from django.utils import timezone

    from scheduling.models import Appointment, AppointmentType, Location, Room

    have = Appointment.objects.count()
    if count <= have:
        return
    location, _ = Location.objects.get_or_create(name="Benchmark location")
    visit, _ = AppointmentType.objects.get_or_create(code="benchmark-visit", defaults={"name": "Benchmark visit"})
    rooms = [
        Room.objects.get_or_create(name=f"Benchmark room {i}", defaults={"location": location})[0] for i in range(4)
    ]
    for room in rooms:
        room.appointment_types.add(visit)
    now = timezone.now().replace(microsecond=0)
    # In UTC: wall-clock steps back across a daylight-saving change would end an appointment before it starts.
    day_end = dt.datetime.combine(
        timezone.localdate() + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    ).astimezone(dt.UTC)
    step = dt.timedelta(minutes=15)

    def appointments() -> Iterator[Appointment]:
        for i in range(have, count):
            start = day_end - step * (i + 1)
            yield Appointment(
                patient_id=first_patient + (i * 7919) % count,
                provider_id=providers[i % len(providers)],
                room_id=rooms[i % len(rooms)].pk,
                appointment_type=visit,
                start=start,
                end=start + step,
                blocked_end=start + step,
                status=Appointment.Status.COMPLETED if start + step <= now else Appointment.Status.BOOKED,
                created_at=now,
                updated_at=now,
            )

    with transaction.atomic():
        _write(Appointment, appointments())


def requests_time(
    *, users: dict[str, Any], repeat: int, requests: list[tuple[str, str, str]] | None = None
) -> list[Timing]:
    """Return the median time and the query count of each request, run REPEAT times (after a warm-up)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    timings = []
    for label, who, url in requests if requests is not None else REQUESTS:
        client = clients[who]
        # Counted with an execute wrapper, not connection.queries (a deque that stops growing when DEBUG fills it).
        captured: list[str] = []
        with connection.execute_wrapper(
            lambda execute, sql, *args, log=captured: log.append(sql) or execute(sql, *args)
        ):
            response = client.get(url, secure=True)  # the warm-up run, whose queries are counted
        if response.status_code != 200:
            raise RuntimeError(f"{label}: {url} answered {response.status_code}")
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url, secure=True)
            seconds.append(time.perf_counter() - started)
        timings.append(Timing(label, statistics.median(seconds), len(captured)))
    return timings


def lists_compare(*, procedures: int, reference: int = 1_000, repeat: int = 5) -> list[Row]:
    """Time the requests at REFERENCE procedures, grow to PROCEDURES, time them again; return the rows."""
    from tpi.models import Procedure

    if Procedure.objects.exists():
        raise RuntimeError("benchmarks.lists needs an empty database (it grows the reference to the scale)")
    users = _users()
    procedures_seed(reference, min_patients=reference)
    small = requests_time(users=users, repeat=repeat)
    procedures_seed(procedures, min_patients=reference)
    large = requests_time(users=users, repeat=repeat)
    return [Row(s.request, s, b) for s, b in zip(small, large, strict=True)]


def table(rows: list[Row], *, reference: int, procedures: int) -> str:
    """Return ROWS as a Markdown table: times, ratio and query counts at both scales."""
    lines = [
        f"| request | {reference:,} procedures | {procedures:,} procedures | growth | queries |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.request} | {row.reference.seconds * 1000:.0f} ms | {row.large.seconds * 1000:.0f} ms | "
            f"{row.ratio:.2f}x | {row.reference.queries} / {row.large.queries} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lists", description=__doc__.splitlines()[0])
    parser.add_argument("--procedures", type=int, default=20_000, help="procedures at scale (default 20000)")
    parser.add_argument("--reference", type=int, default=1_000, help="procedures of the reference (default 1000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each request (default 5)")
    args = parser.parse_args(argv)
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    rows = lists_compare(procedures=args.procedures, reference=args.reference, repeat=args.repeat)
    database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite"
    sys.stdout.write(
        f"{database}, {os.cpu_count()} CPUs, {time.perf_counter() - started:.0f} s in all (seeding included)\n"
        f"{table(rows, reference=args.reference, procedures=args.procedures)}\n"
    )


if __name__ == "__main__":
    main()
