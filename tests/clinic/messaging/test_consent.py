import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from clinic.messaging.consent import consent_change, patient_channels
from clinic.messaging.models import ConsentEvent
from clinic.models import Patient
from tests.clinic.messaging.conftest import NOON_NY
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_revoking_and_granting_consent_is_logged_with_its_source(noon):
    patient = PatientFactory()
    staff = UserFactory(username="frontdesk")
    assert consent_change(patient=patient, channel="sms", granted=False, source="reply") is True
    patient.refresh_from_db()
    assert (patient.sms_consent, patient.sms_consent_at, patient.sms_consent_method) == (False, None, "")
    later = NOON_NY + dt.timedelta(days=1)
    assert consent_change(patient=patient, channel="sms", granted=True, source="staff", by=staff, at=later) is True
    patient.refresh_from_db()
    assert (patient.sms_consent, patient.sms_consent_at, patient.sms_consent_method) == (True, later, "verbal")
    events = list(ConsentEvent.objects.order_by("at").values_list("channel", "granted", "source", "by__username"))
    assert events == [("sms", False, "reply", None), ("sms", True, "staff", "frontdesk")]


def test_form_grant_records_the_web_form_method_and_written_can_be_given(noon):
    patient = PatientFactory(email_consent=False, email_consent_at=None, email_consent_method="")
    consent_change(patient=patient, channel="email", granted=True, source="form")
    assert Patient.objects.get(pk=patient.pk).email_consent_method == "web_form"
    consent_change(patient=patient, channel="email", granted=False, source="staff")
    consent_change(patient=patient, channel="email", granted=True, source="staff", method="written")
    assert Patient.objects.get(pk=patient.pk).email_consent_method == "written"


@pytest.mark.parametrize(
    ("preferred", "channels"),
    [("sms", ["sms"]), ("email", ["email"]), ("both", ["sms", "email"]), ("none", [])],
)
def test_patient_channels_follow_the_preference(preferred, channels):
    assert patient_channels(PatientFactory.build(preferred_channel=preferred)) == channels


def test_no_change_is_no_event(noon):
    patient = PatientFactory()
    assert consent_change(patient=patient, channel="sms", granted=True, source="staff") is False
    assert ConsentEvent.objects.count() == 0


def test_bad_channel_or_source_is_refused_naming_the_field(noon):
    patient = PatientFactory()
    with pytest.raises(ValidationError) as caught:
        consent_change(patient=patient, channel="fax", granted=True, source="staff")
    assert caught.value.message_dict == {"channel": ["Unknown channel 'fax'."]}
    with pytest.raises(ValidationError) as caught:
        consent_change(patient=patient, channel="sms", granted=False, source="rumour")
    assert caught.value.message_dict == {"source": ["Unknown consent source 'rumour'."]}
    assert ConsentEvent.objects.count() == 0
