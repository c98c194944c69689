from unittest import mock

import pytest

from clinic.celery import PhiInTaskArgumentsError
from clinic.celery import app as celery_app
from clinic.tasks import health_ping_answer


def test_a_task_with_patient_data_as_argument_is_refused_before_it_reaches_the_broker():
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    with mock.patch("kombu.messaging.Producer._publish") as publish, pytest.raises(PhiInTaskArgumentsError) as error:
        health_ping_answer.delay("Jordan Rivera")

    assert str(error.value) == "task clinic.health_ping_answer may only take ids as arguments, got str"
    publish.assert_not_called()


@pytest.mark.django_db
def test_a_task_with_an_id_runs():
    health_ping_answer.delay(12345)  # no such ping: nothing to answer, and no error
