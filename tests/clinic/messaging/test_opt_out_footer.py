"""The opt-out footer: the first automated SMS to a number, then at least one every MESSAGING_OPT_OUT_FOOTER_DAYS."""

import datetime as dt

import pytest

from clinic.messaging.models import Message
from clinic.messaging.outbox import message_queue
from tests.clinic.messaging.conftest import NOON_NY
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
CHECK_IN = (
    "Riverside Pain Clinic: checking in after your visit. How is your pain today, 0 (none) to 10 (worst)? "
    "Reply with a number."
)
FOOTER = " Reply STOP to opt out."


def check_in(patient, channel="sms"):
    return message_queue(patient=patient, channel=channel, purpose="check_in", template="check_in", context={})


def test_the_first_text_and_one_every_30_days_say_how_to_opt_out(noon):
    patient = PatientFactory(mobile_phone="+12025550143")
    assert check_in(patient).body == CHECK_IN + FOOTER
    assert check_in(patient).body == CHECK_IN  # told 0 days ago
    noon.move_to(NOON_NY + dt.timedelta(days=29, hours=23))
    assert check_in(patient).body == CHECK_IN  # the first one is 29 days 23 hours old
    noon.move_to(NOON_NY + dt.timedelta(days=30, minutes=1))
    assert check_in(patient).body == CHECK_IN + FOOTER
    assert check_in(patient, channel="email").body.endswith("Riverside Pain Clinic")  # emails carry no footer


def test_a_footer_that_never_went_out_does_not_count(noon):
    patient = PatientFactory(mobile_phone="+12025550143")
    first = check_in(patient)
    Message.objects.filter(pk=first.pk).update(status=Message.Status.FAILED)
    assert check_in(patient).body == CHECK_IN + FOOTER


def test_a_new_number_is_told_again(noon):
    patient = PatientFactory(mobile_phone="+12025550143")
    check_in(patient)
    patient.mobile_phone = "+12025550144"
    patient.save()
    assert check_in(patient).body == CHECK_IN + FOOTER


def test_the_days_are_a_setting(noon, settings):
    settings.MESSAGING_OPT_OUT_FOOTER_DAYS = 7
    patient = PatientFactory(mobile_phone="+12025550143")
    check_in(patient)
    noon.move_to(NOON_NY + dt.timedelta(days=7, minutes=1))
    assert check_in(patient).body == CHECK_IN + FOOTER


def test_a_spanish_text_gets_the_spanish_footer(noon):
    patient = PatientFactory(mobile_phone="+12025550143", preferred_language="es")
    assert check_in(patient).body.endswith("Responda con la cifra. Responda STOP para darse de baja.")
