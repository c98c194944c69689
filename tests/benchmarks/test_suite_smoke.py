"""`python -m benchmarks`, the suite: each part on a fresh database of its own, every table printed at the end."""

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from benchmarks.__main__ import main


def test_a_database_that_is_not_postgresql_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--database-url", "sqlite:///tmp/bench.sqlite3"])
    assert exit_.value.code == 2
    assert "must name a PostgreSQL server: the suite seeds with COPY" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not settings.IS_POSTGRES, reason="the suite runs on PostgreSQL")
def test_the_suite_runs_a_part_on_a_fresh_database_and_prints_every_table(monkeypatch, capsys):
    db = connection.settings_dict
    name = f"{db['NAME']}_suite"  # one per test process (pytest-xdist)
    server = f"{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")  # the part's publishes go nowhere
    try:
        code = main(
            ["--parts", "sweeps", "--due", "20", "--no-delivery", "--database-url", f"postgres://{server}/{name}"]
        )
    finally:
        with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                             dbname="postgres", autocommit=True) as admin:  # fmt: skip
            admin.execute(f'DROP DATABASE IF EXISTS "{name}_sweeps" WITH (FORCE)')
    out = capsys.readouterr().out
    assert code == 0
    assert f"(database {name}_sweeps)" in out
    summary = out.split("== every table")[1]
    assert "sweeps:\nPostgreSQL, broker memory, " in summary
    assert "| follow-up sweep | 20 |" in summary
