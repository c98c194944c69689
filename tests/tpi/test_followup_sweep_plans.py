"""Every statement of a follow-up sweep run reads the growing tables by index (PostgreSQL plans).

A sweep runs every minute over tables that hold years of history. Each statement one run makes is
explained with sequential scans disabled (the test tables are tiny, so the planner would otherwise
prefer them): a `Seq Scan` left in a plan means no index can serve it, and at a million rows that
statement reads the whole table on every run.
"""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.messaging.backends import locmem
from clinic.models import Patient
from tests.factories import PatientFactory, signed_procedure
from tpi.followups import followups_sweep_step
from tpi.models import FollowUp

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="the plans are PostgreSQL's"),
]
NOON = dt.datetime(2026, 3, 12, 16, 0, tzinfo=dt.UTC)
GROWING = ("tpi_followup", "tpi_procedure", "clinic_patient", "messaging_message", "messaging_messageevent",
           "messaging_consentevent")  # fmt: skip


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def due_follow_ups(settings):
    settings.SMS_BACKEND = "clinic.messaging.backends.locmem.SmsBackend"
    locmem.outbox.clear()
    for minutes in range(4):
        performed = NOON - dt.timedelta(hours=72, minutes=5 + minutes)
        with time_machine.travel(performed + dt.timedelta(hours=1), tick=False):
            signed_procedure(performed_at=performed, patient=PatientFactory(preferred_channel=Patient.Channel.BOTH))
    yield
    locmem.outbox.clear()


def test_each_statement_of_a_sweep_run_reads_by_index(due_follow_ups):
    with time_machine.travel(NOON, tick=False), CaptureQueriesContext(connection) as captured:
        counts, more = followups_sweep_step(now=NOON)
    assert (counts["sent"], more) == (4, False)

    statements = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(("SELECT", "UPDATE", "WITH"))]
    assert len(statements) >= 10
    for sql in statements:
        plan = explain(sql)
        for table in GROWING:
            assert f"Seq Scan on {table}" not in plan, f"{sql[:300]}\n{plan}"


def test_carried_follow_ups_are_read_from_their_own_small_index(due_follow_ups):
    lead, carried = FollowUp.objects.filter(kind="check_in").order_by("id")[:2]
    FollowUp.objects.filter(pk=carried.pk).update(status="sent", sent_with=lead)
    with time_machine.travel(NOON, tick=False), CaptureQueriesContext(connection) as captured:
        followups_sweep_step(now=NOON)

    carried_updates = [q["sql"] for q in captured.captured_queries if "sent in another follow-up" in q["sql"]]
    assert len(carried_updates) == 4  # failed, skipped, cancelled, and sent again
    for sql in carried_updates:
        assert "followup_carried_status" in explain(sql), explain(sql)
