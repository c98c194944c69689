"""benchmarks.sweeps at a scale of 50: the command keeps working (not a timed test: no time is asserted)."""

import pytest

from benchmarks.sweeps import MARK, delivery_compare, main, sweep_compare, table
from clinic.messaging.models import Message
from tests.celery_worker import SUBPROCESS_APP, broker_namespace
from tpi.models import FollowUp

SCALE = 50


@pytest.mark.django_db
def test_the_sweep_benchmark_settles_every_seeded_follow_up_both_ways(settings):
    row = sweep_compare(SCALE)

    assert (row.path, row.count, row.reference) == ("follow-up sweep", SCALE, "one SQL statement")
    assert row.seconds > 0
    assert row.reference_seconds > 0
    # Both runs were checked (every follow-up sent, one message each) and cleared afterwards.
    assert FollowUp.objects.filter(procedure__patient__legal_last_name=MARK).count() == 0
    assert Message.objects.filter(patient__legal_last_name=MARK).count() == 0
    lines = table([row]).splitlines()
    assert lines[0].startswith("| path | n | seconds |")
    assert lines[2].startswith(f"| follow-up sweep | {SCALE} |")


@pytest.mark.django_db  # its sweep's publish (after commit) never happens: nothing is left in the broker
def test_the_command_prints_the_table(capsys):
    main(["--due", str(SCALE), "--no-delivery"])

    out = capsys.readouterr().out
    assert f"| follow-up sweep | {SCALE} |" in out


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_delivery_benchmark_delivers_every_message_on_a_real_worker(monkeypatch):
    # The worker listens on this test process's broker namespace, as the suite's own workers do.
    monkeypatch.setenv("BENCHMARK_CELERY_APP", SUBPROCESS_APP)
    monkeypatch.setenv("TEST_BROKER_NAMESPACE", broker_namespace())
    rows = delivery_compare(SCALE, timeout=120)

    assert [(r.path, r.count, r.reference) for r in rows] == [
        ("delivery, chunked publish", SCALE, "no-op task"),
        ("delivery, one task each", SCALE, "no-op task"),
    ]
    assert all(r.seconds > 0 and r.reference_seconds > 0 for r in rows)
    assert Message.objects.filter(patient__legal_last_name=MARK).count() == 0  # cleared afterwards
