"""benchmarks.lists at a scale of 30 (reference 20): the command keeps working (no time is asserted)."""

import datetime as dt
import itertools

import pytest
import time_machine
from django.utils import timezone

from benchmarks.lists import REQUESTS, lists_compare, main, table
from scheduling.models import Appointment
from tpi.models import Injection, Procedure

pytestmark = pytest.mark.django_db


def test_the_benchmark_times_every_request_at_both_scales_with_the_same_query_count():
    rows = lists_compare(procedures=30, reference=20, repeat=1)

    assert [row.request for row in rows] == [label for label, _, _ in REQUESTS]
    assert all(row.reference.seconds > 0 and row.large.seconds > 0 for row in rows)
    assert [row.reference.queries for row in rows] == [row.large.queries for row in rows]
    # Seeded as documented: two injections (one injected muscle, one dry-needled) per procedure.
    assert Procedure.objects.count() == 30
    assert (
        Injection.objects.filter(dry_needling=True).count()
        == Injection.objects.filter(dry_needling=False).count()
        == 30
    )
    assert {p.cpt_code for p in Procedure.objects.with_muscle_count()} == {"20552, 20560"}
    # An appointment per ten procedures, one every 15 minutes back from the end of today.
    starts = list(Appointment.objects.order_by("-start").values_list("start", flat=True))
    assert len(starts) == 3
    assert [a - b for a, b in itertools.pairwise(starts)] == [dt.timedelta(minutes=15)] * 2
    assert timezone.localtime(starts[0]).time() == dt.time(23, 45)
    lines = table(rows, reference=20, procedures=30).splitlines()
    assert lines[0] == "| request | 20 procedures | 30 procedures | growth | queries |"
    assert lines[2].startswith("| GET /api/procedures/?page=1 | ")


def test_the_command_prints_the_table(capsys):
    main(["--procedures", "12", "--reference", "10", "--repeat", "1"])

    out = capsys.readouterr().out
    assert "| admin day sheet (one day) | " in out


def test_the_command_refuses_a_database_that_holds_procedures():
    lists_compare(procedures=3, reference=2, repeat=1)

    with pytest.raises(RuntimeError, match="needs an empty database"):
        lists_compare(procedures=3, reference=2, repeat=1)


@time_machine.travel(dt.datetime(2026, 3, 8, 17, tzinfo=dt.UTC), tick=False)  # the day New York springs forward
def test_appointments_are_seeded_15_minutes_apart_across_a_dst_change():
    from benchmarks.lists import _users, appointments_seed
    from clinic.models import Provider
    from tests.factories import PatientFactory

    _users()
    providers = list(Provider.objects.values_list("pk", flat=True))
    first_patient = PatientFactory.create_batch(96)[0].pk

    appointments_seed(96, providers=providers, first_patient=first_patient)

    rows = list(Appointment.objects.order_by("-start").values_list("start", "end"))
    assert len(rows) == 96
    assert all(end - start == dt.timedelta(minutes=15) for start, end in rows)
    assert [a[0] - b[0] for a, b in itertools.pairwise(rows)] == [dt.timedelta(minutes=15)] * 95
