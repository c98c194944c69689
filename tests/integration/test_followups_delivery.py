"""Follow-ups end to end on real PostgreSQL, Redis, Celery worker and beat processes; Twilio is a local stub.

The stub counts the sends it accepted, which is what a real provider would have delivered.
"""

import collections
import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import close_old_connections
from django.utils import timezone

from clinic.messaging.models import Message
from clinic.messaging.outbox import messages_sweep
from clinic.messaging.tasks import messages_sweep_task
from tests.celery_worker import ROOT, BeatProcess, database_url_for_tests, wait_until
from tests.factories import PatientFactory, signed_procedure
from tests.integration.test_messaging_outbox import (
    FINAL,
    UNREACHABLE_BROKER,
    daytime_zone,
    worker_env,
)
from tpi.followups import followups_sweep
from tpi.models import FollowUp
from tpi.tasks import followups_sweep_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def due_check_in(*, in_seconds: float = -60) -> FollowUp:
    """Return the check-in of a newly signed procedure, due IN_SECONDS from now (negative: already due)."""
    performed = timezone.now() - dt.timedelta(hours=72) + dt.timedelta(seconds=in_seconds)
    procedure = signed_procedure(performed_at=performed, patient=PatientFactory(time_zone=daytime_zone()))
    return procedure.follow_ups.get(kind="check_in")


def messages_of(follow_up: FollowUp):
    return Message.objects.filter(source_key=follow_up.source_key)


def all_final(follow_ups) -> bool:
    for follow_up in follow_ups:
        statuses = list(messages_of(follow_up).values_list("status", flat=True))
        if not statuses or any(s not in FINAL for s in statuses):
            return False
    return True


def test_two_sweeps_and_two_beats_at_once_send_each_follow_up_once(twilio_stub, celery_workers, tmp_path, settings):
    twilio_stub.default_delay = 0.3
    env = worker_env(
        twilio_stub,
        TPI_FOLLOWUP_SWEEP_SECONDS="1",
        MESSAGING_SWEEP_SECONDS="1",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
    )
    celery_workers(concurrency=2, env=env)
    follow_ups = [due_check_in() for _ in range(3)]
    beats = [BeatProcess(tmp_path, f"beat{i}", env).start() for i in range(2)]
    try:
        follow_ups.append(due_check_in(in_seconds=3))  # falls due while both beats are sweeping

        def sweep():
            try:
                followups_sweep()
            finally:
                close_old_connections()

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wait_until(lambda: all_final(follow_ups), timeout=90, message="every follow-up's SMS to be sent")
        time.sleep(3)  # more sweeps from both beats and both threads' tasks run meanwhile
    finally:
        for beat in beats:
            beat.stop()
    per_recipient = collections.Counter(m.to for m in twilio_stub.messages)
    expected = {str(f.procedure.patient.mobile_phone): 1 for f in follow_ups}
    assert dict(per_recipient) == expected
    for follow_up in follow_ups:
        follow_up.refresh_from_db()
        assert follow_up.status == "sent"
        assert list(messages_of(follow_up).values_list("status", "attempts")) == [("sent", 1)]
    assert Message.objects.count() == len(follow_ups)
    assert all("Sending due task tpi-followups-sweep" in beat.log_path.read_text() for beat in beats)


def test_sigkill_during_the_send_then_restart_never_sends_twice(twilio_stub, celery_workers):
    twilio_stub.default_delay = 8.0
    env = worker_env(twilio_stub, MESSAGING_SENDING_TIMEOUT_SECONDS="3")
    first = celery_workers(env=env)
    follow_up = due_check_in()
    assert followups_sweep()["sent"] == 1  # commits, then enqueues delivery
    wait_until(lambda: twilio_stub.accepted == 1, timeout=60, message="the send to reach the stub")
    message = messages_of(follow_up).get()
    assert message.status == "sending"
    first.kill()
    twilio_stub.default_delay = 0.0
    celery_workers(env=env)

    def settled():
        followups_sweep_task.delay()  # what beat does every minute
        messages_sweep_task.delay()
        return Message.objects.get(pk=message.pk).status in FINAL

    wait_until(settled, timeout=90, interval=1.0, message="the message to reach a final state")
    time.sleep(2)
    message.refresh_from_db()
    follow_up.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.provider_message_id == twilio_stub.messages[0].sid
    assert twilio_stub.accepted == 1
    assert follow_up.status == "sent"
    assert messages_of(follow_up).count() == 1


def test_broker_unreachable_during_the_sweep_then_back_loses_nothing(twilio_stub, celery_workers):
    follow_up = due_check_in()
    script = (
        "import django; django.setup()\nfrom tpi.followups import followups_sweep\nprint(followups_sweep()['sent'])\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_tests(),
        "CELERY_BROKER_URL": UNREACHABLE_BROKER,
        "CELERY_BROKER_CONNECTION_TIMEOUT": "1",
        "TESTING": "true",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert "could not enqueue delivery" in done.stderr
    follow_up.refresh_from_db()
    message = messages_of(follow_up).get()
    assert (follow_up.status, message.status, twilio_stub.accepted) == ("sent", "queued", 0)

    celery_workers(env=worker_env(twilio_stub))
    assert followups_sweep()["sent"] == 0  # nothing claimed twice
    assert messages_sweep()["due"] == 1  # the broker is back: the outbox sweep finds the due row
    wait_until(lambda: Message.objects.get(pk=message.pk).status in FINAL, timeout=60, message="the SMS to be sent")
    message.refresh_from_db()
    assert (message.status, message.attempts, twilio_stub.accepted) == ("sent", 1, 1)
    assert messages_of(follow_up).count() == 1
