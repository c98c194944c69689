"""Benchmark: the follow-up sweep beside one set-based SQL statement, delivery beside a no-op task.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tpi_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
        python -m benchmarks.sweeps --due 100000 --deliveries 2000

Use a database and a broker of its own: the command migrates the database, seeds rows it marks as
its own (patients named "Benchmark" with draft procedures, kept for the next run; their follow-ups
and messages are removed before and after each part) and purges the broker's
default queue before the delivery part. Not a timed test: it prints a table of times and ratios
measured side by side in one run, on one machine:

- sweep: N due check-ins (seeded with bulk INSERTs, draft procedures: the sweep does not read the
  signature) settled by `tpi.followups.followups_sweep` (claim, decide, messages, events, publish),
  beside the reference: the same state change in one SQL statement (PostgreSQL: a data-modifying
  CTE that moves the follow-ups and inserts their messages and events; SQLite, which has no such
  CTE: the same three statements in one transaction). Target: the sweep at most 5x the reference.
- delivery: M due SMS messages delivered by a real `celery worker` (prefork, --concurrency 2) on the
  in-memory SMS backend, published as the sweep publishes them (MESSAGING_DELIVER_CHUNK ids per task)
  and one task per message, beside M no-op tasks on the same worker. Target: delivery at least 0.3x
  the no-op throughput.

`--no-delivery` skips the worker part; `--repeat N` (3) runs the sweep and its reference N times each,
alternating, and prints the medians. tests/benchmarks runs this at a scale of 50 to keep it working.
"""

import argparse
import datetime as dt
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
MARK = "Benchmark"  # the legal last name of every seeded patient


@dataclass(frozen=True)
class Row:
    path: str
    count: int
    seconds: float
    reference: str = ""
    reference_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()


CLEAR = [
    """DELETE FROM messaging_messageevent WHERE message_id IN (SELECT m.id FROM messaging_message m
       JOIN clinic_patient p ON p.id = m.patient_id WHERE p.legal_last_name = %s)""",
    """DELETE FROM messaging_message WHERE patient_id IN (SELECT id FROM clinic_patient WHERE legal_last_name = %s)""",
    """DELETE FROM tpi_followup WHERE procedure_id IN (SELECT r.id FROM tpi_procedure r
       JOIN clinic_patient p ON p.id = r.patient_id WHERE p.legal_last_name = %s)""",
]


def benchmark_clear() -> None:
    """Remove the messages (and their events) and follow-ups of the benchmark's patients.

    Plain DELETEs: the ORM's delete would load every row (and audit each follow-up) first. Its patients
    and draft procedures stay for the next run: clinical records are never deleted (PostgreSQL
    triggers refuse it).
    """
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for sql in CLEAR:
            cursor.execute(sql, [MARK])


def _provider():  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from clinic.models import Provider

    user, _ = get_user_model().objects.get_or_create(username="benchmark-provider")
    provider, _ = Provider.objects.get_or_create(user=user, defaults={"role": Provider.Role.PHYSICIAN})
    return provider


def _patients(count: int, *, now: dt.datetime) -> list:  # type: ignore[type-arg]
    """Return COUNT benchmark patients, creating those a previous run did not leave."""
    from clinic.models import Patient

    mine = Patient.objects.filter(legal_last_name=MARK)
    existing = list(mine.order_by("pk")[:count])
    first = mine.count()
    patients = [
        Patient(
            mrn=f"9{i:07d}",
            legal_first_name="Pat",
            legal_last_name=MARK,
            date_of_birth=dt.date(1980, 5, 17),
            sex=Patient.Sex.FEMALE,
            mobile_phone=f"+1202{i % 10_000_000:07d}",
            preferred_channel=Patient.Channel.SMS,
            sms_consent=True,
            sms_consent_at=now,
            sms_consent_method=Patient.ConsentMethod.WRITTEN,
        )
        for i in range(first, first + count - len(existing))
    ]
    return existing + Patient.objects.bulk_create(patients, batch_size=5000)


def followups_seed(count: int, *, now: dt.datetime) -> None:
    """Seed COUNT check-ins due five minutes before NOW, one patient and (draft) procedure each."""
    from tpi.models import FollowUp, Procedure

    mine = Procedure.objects.filter(patient__legal_last_name=MARK)
    procedures = list(mine.order_by("pk")[:count])
    if len(procedures) < count:
        provider = _provider()
        have = set(mine.values_list("patient_id", flat=True))
        patients = [p for p in _patients(count, now=now) if p.pk not in have][: count - len(procedures)]
        performed = now - dt.timedelta(hours=72, minutes=5)
        procedures += Procedure.objects.bulk_create(
            [
                Procedure(patient=p, provider=provider, performed_at=performed, indication="benchmark", pain_before=6)
                for p in patients
            ],
            batch_size=5000,
        )
    FollowUp.objects.bulk_create(
        [FollowUp(procedure=p, kind=FollowUp.Kind.CHECK_IN, due_at=now - dt.timedelta(minutes=5)) for p in procedures],
        batch_size=5000,
    )


REFERENCE_POSTGRES = """
WITH moved AS (
    UPDATE tpi_followup f SET status = 'sent', status_reason = 'queued: sms', sent_at = %(now)s, updated_at = %(now)s
    FROM tpi_procedure p
    WHERE f.procedure_id = p.id AND f.status = 'scheduled' AND f.due_at <= %(now)s
    RETURNING f.id, f.kind, p.patient_id
), stored AS (
    INSERT INTO messaging_message (patient_id, channel, recipient, subject, body, template, purpose, language,
        automated, source_key, status, reason, attempts, attempts_at_staff_retry, next_attempt_at,
        provider_message_id, needs_review, created_at, updated_at, enqueued_at)
    SELECT m.patient_id, 'sms', pt.mobile_phone, '', %(body)s, m.kind, m.kind, 'en', true,
        'followup:' || m.id || ':' || m.kind, 'queued', '', 0, 0, %(now)s, '', false, %(now)s, %(now)s, %(now)s
    FROM moved m JOIN clinic_patient pt ON pt.id = m.patient_id
    RETURNING id
)
INSERT INTO messaging_messageevent (message_id, at, from_status, to_status, detail)
SELECT id, %(now)s, '', 'queued', '' FROM stored
"""

REFERENCE_SQLITE = [
    """
    INSERT INTO messaging_message (patient_id, channel, recipient, subject, body, template, purpose, language,
        automated, source_key, status, reason, attempts, attempts_at_staff_retry, next_attempt_at,
        provider_message_id, needs_review, created_at, updated_at, enqueued_at)
    SELECT p.patient_id, 'sms', pt.mobile_phone, '', %(body)s, f.kind, f.kind, 'en', 1,
        'followup:' || f.id || ':' || f.kind, 'queued', '', 0, 0, %(now)s, '', 0, %(now)s, %(now)s, %(now)s
    FROM tpi_followup f JOIN tpi_procedure p ON p.id = f.procedure_id JOIN clinic_patient pt ON pt.id = p.patient_id
    WHERE f.status = 'scheduled' AND f.due_at <= %(now)s
    """,
    """
    INSERT INTO messaging_messageevent (message_id, at, from_status, to_status, detail)
    SELECT id, %(now)s, '', 'queued', '' FROM messaging_message WHERE created_at = %(now)s AND status = 'queued'
    """,
    """
    UPDATE tpi_followup SET status = 'sent', status_reason = 'queued: sms', sent_at = %(now)s, updated_at = %(now)s
    WHERE status = 'scheduled' AND due_at <= %(now)s
    """,
]


def tables_vacuum() -> None:
    """PostgreSQL: VACUUM ANALYZE the tables a sweep reads and writes, so each timed part starts from the same
    state (a server with autovacuum off otherwise keeps every run's dead rows and stale statistics)."""
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for table in ("tpi_followup", "tpi_procedure", "clinic_patient", "messaging_message", "messaging_messageevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def reference_run(*, now: dt.datetime) -> None:
    """Make the sweep's state change for every due check-in with set-based SQL (the yardstick)."""
    from django.db import connection, transaction

    stamp = connection.ops.adapt_datetimefield_value(now)  # as the ORM stores it (SQLite: text)
    params = {"now": stamp, "body": "Hi Pat, how is your pain today (0-10)? Reply with a number."}
    with transaction.atomic(), connection.cursor() as cursor:
        statements = [REFERENCE_POSTGRES] if connection.vendor == "postgresql" else REFERENCE_SQLITE
        for sql in statements:
            cursor.execute(sql, params)


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def sweep_compare(due: int, *, repeat: int = 1) -> Row:
    """Seed DUE check-ins and time the sweep; seed them again and time the reference; REPEAT times, taking
    each side's median (the two alternate, so a busy moment of the machine falls on both)."""
    from django.test import override_settings

    # Every seeded patient inside the send window whatever the hour, so every message is due now.
    with override_settings(MESSAGING_QUIET_HOURS_START="00:00", MESSAGING_QUIET_HOURS_END="23:59:59.999999"):
        rows = [_sweep_compare(due) for _ in range(max(repeat, 1))]
    return Row(
        "follow-up sweep",
        due,
        statistics.median(row.seconds for row in rows),
        "one SQL statement",
        statistics.median(row.reference_seconds for row in rows),
    )


def _sweep_compare(due: int) -> Row:
    from django.utils import timezone

    from clinic.messaging.models import Message
    from tpi.followups import followups_sweep
    from tpi.models import FollowUp

    benchmark_clear()
    now = timezone.now()
    followups_seed(due, now=now)
    tables_vacuum()
    sweep_seconds = _timed(lambda: followups_sweep(now=now))
    sent = FollowUp.objects.filter(procedure__patient__legal_last_name=MARK, status="sent").count()
    if sent != due or Message.objects.filter(patient__legal_last_name=MARK).count() != due:
        raise RuntimeError(f"the sweep settled {sent} of {due} follow-ups")
    benchmark_clear()
    now = timezone.now()
    followups_seed(due, now=now)
    tables_vacuum()
    reference_seconds = _timed(lambda: reference_run(now=now))
    if FollowUp.objects.filter(procedure__patient__legal_last_name=MARK, status="sent").count() != due:
        raise RuntimeError("the reference did not settle every follow-up")
    benchmark_clear()
    return Row("follow-up sweep", due, sweep_seconds, "one SQL statement", reference_seconds)


# --- delivery on a real worker ------------------------------------------------------------------


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


class Worker:
    """A `celery worker` subprocess (prefork, concurrency 2) on this database and broker, locmem SMS."""

    def __init__(self, log_path: Path, *, marks: Path):
        from django.conf import settings

        self.log_path = log_path
        env = {
            "BENCHMARK_MARKS": str(marks),
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "SMS_BACKEND": "clinic.messaging.backends.locmem.SmsBackend",
            "MESSAGING_QUIET_HOURS_START": "00:00",
            "MESSAGING_QUIET_HOURS_END": "23:59:59.999999",
            "LOG_LEVEL": "WARNING",
        }
        log = log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            # BENCHMARK_CELERY_APP lets the test suite run the worker on its own broker namespace.
            [sys.executable, "-m", "celery", "-A", os.environ.get("BENCHMARK_CELERY_APP", "clinic"), "worker",
             "--loglevel", "INFO", "--pool", "prefork",
             "--concurrency", "2", "--hostname", f"benchmark-{os.getpid()}@%h", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--include", "benchmarks.tasks"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        _wait(lambda: " ready." in log_path.read_text(errors="replace"), timeout=60, what="the worker to start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def _wait(done: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.01)


def _broker_purge() -> None:
    from clinic.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_declare(queue=app.conf.task_default_queue, durable=True, auto_delete=False)
        channel.queue_purge(app.conf.task_default_queue)


def _messages_seed(count: int) -> list[int]:
    from django.utils import timezone

    from clinic.messaging.models import Message

    now = timezone.now()
    patients = _patients(count, now=now)
    messages = Message.objects.bulk_create(
        [
            Message(
                patient=p,
                channel="sms",
                recipient=str(p.mobile_phone),
                body="Benchmark message.",
                template="check_in",
                purpose="check_in",
                next_attempt_at=now,
            )
            for p in patients
        ],
        batch_size=5000,
    )
    return [m.pk for m in messages]


def _sent(ids: list[int]) -> int:
    from clinic.messaging.models import Message

    return Message.objects.filter(pk__in=ids, status="sent").count()


def delivery_compare(count: int, *, timeout: float) -> list[Row]:
    """Time COUNT no-op tasks, then COUNT deliveries published in chunks, then one task per message."""
    from benchmarks.tasks import noop_task
    from clinic.messaging.publish import deliveries_publish
    from clinic.messaging.tasks import message_deliver_task

    benchmark_clear()
    _broker_purge()
    work = Path(tempfile.mkdtemp(prefix="tpi-benchmark-"))
    marks = work / "noop"
    marks.touch()
    worker = Worker(work / "worker.log", marks=marks)
    try:
        noop_task.delay(0)  # warm the pool up
        _wait(lambda: marks.stat().st_size >= 1, timeout=timeout, what="the warm-up task")
        marks.write_bytes(b"")

        def noops() -> None:
            for i in range(count):
                noop_task.delay(i)
            _wait(lambda: marks.stat().st_size >= count, timeout=timeout, what="the no-op tasks")

        noop_seconds = _timed(noops)
        chunked = _messages_seed(count)

        def chunked_deliveries() -> None:
            deliveries_publish(chunked)
            _wait(lambda: _sent(chunked) >= count, timeout=timeout, what="the deliveries")

        chunked_seconds = _timed(chunked_deliveries)
        single = _messages_seed(count)

        def single_deliveries() -> None:
            for pk in single:
                message_deliver_task.delay(pk)
            _wait(lambda: _sent(single) >= count, timeout=timeout, what="the deliveries")

        single_seconds = _timed(single_deliveries)
    finally:
        worker.stop()
        benchmark_clear()
    return [
        Row("delivery, chunked publish", count, chunked_seconds, "no-op task", noop_seconds),
        Row("delivery, one task each", count, single_seconds, "no-op task", noop_seconds),
    ]


def table(rows: list[Row]) -> str:
    """Return ROWS as a Markdown table: times, rates and the ratio to each reference."""
    lines = [
        "| path | n | seconds | per second | reference | ref. seconds | ref. per second | time ratio | rate ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ref_rate = row.count / row.reference_seconds if row.reference_seconds else 0.0
        time_ratio = row.seconds / row.reference_seconds if row.reference_seconds else 0.0
        rate_ratio = row.rate / ref_rate if ref_rate else 0.0
        lines.append(
            f"| {row.path} | {row.count} | {row.seconds:.2f} | {row.rate:.0f} | {row.reference} | "
            f"{row.reference_seconds:.2f} | {ref_rate:.0f} | {time_ratio:.1f}x | {rate_ratio:.2f}x |"
        )
    return "\n".join(lines)


def benchmarks_run(
    *, due: int, deliveries: int, delivery: bool = True, timeout: float = 600, repeat: int = 1
) -> list[Row]:
    """Run the sweep (REPEAT times, medians) and (DELIVERY) the delivery comparison; return the table's rows."""
    rows = [sweep_compare(due, repeat=repeat)]
    if delivery:
        rows += delivery_compare(deliveries, timeout=timeout)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweeps", description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=10_000, help="due follow-ups to sweep (default 10000)")
    parser.add_argument("--deliveries", type=int, default=2_000, help="messages to deliver (default 2000)")
    parser.add_argument("--no-delivery", action="store_true", help="skip the delivery part (no worker)")
    parser.add_argument("--repeat", type=int, default=3, help="sweep runs per side, medians (default 3)")
    args = parser.parse_args(argv)
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    rows = benchmarks_run(due=args.due, deliveries=args.deliveries, delivery=not args.no_delivery, repeat=args.repeat)
    database = "PostgreSQL" if settings.IS_POSTGRES else "SQLite"
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    sys.stdout.write(f"{database}, broker {broker}, {os.cpu_count()} CPUs\n{table(rows)}\n")


if __name__ == "__main__":
    main()
