"""Beat's entries come from the apps that own the tasks (clinic.beat), at the configured intervals."""

import json
import os
import subprocess
import sys
from pathlib import Path

from celery import signals
from celery.schedules import crontab

from clinic.beat import beat_entry_register, beat_start_tasks
from clinic.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def test_every_app_registers_its_periodic_jobs_at_the_default_intervals():
    schedule = celery_app.conf.beat_schedule
    assert schedule == {
        "messaging-sweep": {"task": "messaging.messages_sweep", "schedule": 60},
        "scheduling-reminders-sweep": {"task": "scheduling.reminders_sweep", "schedule": 60},
        "scheduling-waitlist-sweep": {"task": "scheduling.waitlist_sweep", "schedule": 60},
        "tpi-followups-sweep": {"task": "tpi.followups_sweep", "schedule": 60},
        "tpi-plans-book-due": {"task": "tpi.plans_book_due", "schedule": crontab(minute=0, hour=6)},
        "tpi-fhir-exports-resume": {"task": "tpi.fhir_exports_resume", "schedule": 60},
        "tpi-outcome-totals-refresh": {"task": "tpi.outcome_totals_refresh", "schedule": 300},
    }


def test_the_intervals_come_from_the_settings():
    code = (
        "import django, json; django.setup(); from clinic.celery import app; "
        "print(json.dumps({name: str(entry['schedule']) for name, entry in app.conf.beat_schedule.items()}))"
    )
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "MESSAGING_SWEEP_SECONDS": "17",
        "SCHEDULING_WAITLIST_SWEEP_SECONDS": "29",
        "TPI_FOLLOWUP_SWEEP_SECONDS": "23",
        "SCHEDULING_REMINDER_SWEEP_SECONDS": "29",
        "TPI_PLAN_BOOKING_RUN_HOUR_UTC": "4",
        "TPI_FHIR_EXPORT_RESUME_SECONDS": "29",
        "TPI_OUTCOMES_TOTALS_REFRESH_SECONDS": "31",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "messaging-sweep": "17",
        "scheduling-reminders-sweep": "29",
        "scheduling-waitlist-sweep": "29",
        "tpi-followups-sweep": "23",
        "tpi-plans-book-due": str(crontab(minute=0, hour=4)),
        "tpi-fhir-exports-resume": "29",
        "tpi-outcome-totals-refresh": "31",
    }


def test_registering_adds_an_entry_without_touching_the_others():
    before = celery_app.conf.beat_schedule
    try:
        beat_entry_register(name="test-entry", task="tests.nothing", schedule=5)
        assert celery_app.conf.beat_schedule == {**before, "test-entry": {"task": "tests.nothing", "schedule": 5}}
        assert "test-entry" not in before
    finally:
        celery_app.conf.beat_schedule = before


def test_the_sweeps_are_published_once_when_beat_starts(monkeypatch):
    published = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, *args, **kwargs: published.append(name))

    signals.beat_init.send(sender=None)

    assert sorted(published) == [  # not the daily plan run
        "messaging.messages_sweep",
        "scheduling.reminders_sweep",
        "scheduling.waitlist_sweep",
        "tpi.followups_sweep",
    ]
    assert sorted(beat_start_tasks()) == sorted(published)


def test_beat_starts_even_when_the_broker_refuses_the_start_tasks(monkeypatch, caplog):
    def refuse(name, *args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(celery_app, "send_task", refuse)

    signals.beat_init.send(sender=None)

    assert "beat could not publish tpi.followups_sweep at start; its schedule runs it" in caplog.messages
