"""benchmarks.outcomes at a scale of 30 (reference 20): the command keeps working (no time is asserted)."""

import pytest

from benchmarks.outcomes import REFRESHES, REQUESTS, main, outcomes_compare
from tpi.models import FollowUp, Injection, Procedure

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_benchmark_times_every_request_at_both_scales_with_the_same_query_count():
    rows = outcomes_compare(procedures=30, reference=20, repeat=1)

    assert [row.request for row in rows] == [*REFRESHES, *(label for label, _, _ in REQUESTS)]
    assert all(row.reference.seconds > 0 and row.large.seconds > 0 for row in rows)
    requests = rows[len(REFRESHES) :]  # a rebuild's steps grow with the days; a request's queries must not
    assert [row.reference.queries for row in requests] == [row.large.queries for row in requests]
    # Seeded as documented: all signed, two follow-ups each, a steroid on every third procedure.
    assert Procedure.objects.filter(status="signed").count() == 30
    assert FollowUp.objects.count() == 60
    # Answered unless the id pattern skips it (check-in: id % 5 == 1, reassessment: id % 4 == 1).
    ids = list(Procedure.objects.values_list("pk", flat=True))
    expected = sum(p % 5 != 1 for p in ids) + sum(p % 4 != 1 for p in ids)
    assert FollowUp.objects.filter(status="answered").count() == expected
    assert Injection.objects.exclude(steroid_agent="").count() == sum(p % 3 == 0 for p in ids)


def test_the_command_prints_the_table(capsys):
    main(["--procedures", "12", "--reference", "10", "--repeat", "1"])

    assert "| consider repeat list | " in capsys.readouterr().out
