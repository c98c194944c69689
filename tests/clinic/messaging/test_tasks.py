import pytest

from clinic.celery import PhiInTaskArgumentsError
from clinic.messaging.backends import SendError, locmem
from clinic.messaging.models import Message
from clinic.messaging.outbox import message_queue
from clinic.messaging.tasks import message_deliver_task, message_reconcile_task, messages_sweep_task
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_tasks_are_registered_under_stable_names():
    from clinic.celery import app

    for name in ("messaging.message_deliver", "messaging.message_reconcile", "messaging.messages_sweep"):
        assert name in app.tasks


def test_deliver_task_takes_an_id_and_sends(sms_outbox, noon):
    message = message_queue(
        patient=PatientFactory(), channel="sms", purpose="check_in", template="check_in", context={}
    )
    message_deliver_task.delay(message.pk)
    message_deliver_task.delay(message.pk)
    assert Message.objects.get(pk=message.pk).status == "sent"
    assert len(sms_outbox) == 1


def test_tasks_refuse_anything_but_ids(sms_outbox, noon):
    message = message_queue(
        patient=PatientFactory(), channel="sms", purpose="check_in", template="check_in", context={}
    )
    with pytest.raises(PhiInTaskArgumentsError):
        message_deliver_task.delay(message)


def test_reconcile_task_settles_an_unknown_message(sms_outbox, noon):
    locmem.failures.append(SendError("timeout", outcome_unknown=True))
    message = message_queue(
        patient=PatientFactory(), channel="sms", purpose="check_in", template="check_in", context={}
    )
    message_deliver_task.delay(message.pk)
    assert Message.objects.get(pk=message.pk).status == "unknown"
    message_reconcile_task.delay(message.pk)
    message.refresh_from_db()
    assert message.status == "queued"  # the provider never had it: queued again (after commit: delivery)


def test_sweep_task_runs_the_sweep(sms_outbox, noon, django_capture_on_commit_callbacks):
    message = message_queue(
        patient=PatientFactory(), channel="sms", purpose="check_in", template="check_in", context={}
    )
    with django_capture_on_commit_callbacks(execute=True):
        messages_sweep_task.delay()
    assert Message.objects.get(pk=message.pk).status == "sent"
