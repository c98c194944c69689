import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from clinic.messaging.consent import consent_change
from clinic.messaging.models import Message, MessageEvent
from clinic.messaging.outbox import message_queue
from clinic.models import Patient
from tests.clinic.messaging.conftest import NOON_NY
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CHECK_IN = {"purpose": "check_in", "template": "check_in", "context": {}}


def queue(patient, channel="sms", **kwargs):
    return message_queue(patient=patient, channel=channel, **{**CHECK_IN, **kwargs})


def test_queued_sms_is_rendered_stored_and_delivered_after_commit(sms_outbox, noon, django_capture_on_commit_callbacks):
    patient = PatientFactory(mobile_phone="+12025550143")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue(patient, source_key="followup:1:check_in")
        assert Message.objects.get().status == "queued"
        assert sms_outbox == []  # nothing leaves before the transaction commits
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == "sent"
    assert (message.recipient, message.attempts, message.language) == ("+12025550143", 1, "en")
    assert message.body == (
        "Riverside Pain Clinic: checking in after your visit. How is your pain today, 0 (none) to 10 (worst)? "
        "Reply with a number. Reply STOP to opt out."  # the first text to this number says how to opt out
    )
    assert [(m.to, m.body) for m in sms_outbox] == [("+12025550143", message.body)]
    assert message.provider_message_id == sms_outbox[0].provider_message_id
    assert message.sent_at == NOON_NY
    assert list(message.events.values_list("from_status", "to_status")) == [
        ("", "queued"),
        ("queued", "sending"),
        ("sending", "sent"),
    ]


def test_spanish_patient_gets_the_spanish_template(sms_outbox, noon):
    message = queue(PatientFactory(preferred_language="es"))
    assert message.language == "es"
    assert message.body == (
        "Riverside Pain Clinic: ¿qué tal después de su visita? ¿Su dolor hoy, de 0 (nada) a 10 (peor)? "
        "Responda con la cifra. Responda STOP para darse de baja."
    )


def test_email_is_rendered_with_subject_and_sent_through_django_mail(noon, django_capture_on_commit_callbacks):
    patient = PatientFactory(email="jordan@patients.example", legal_first_name="Jordan", preferred_name="")
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(patient, channel="email", purpose="reassessment", template="reassessment",
                        context={"offer_booking": True})  # fmt: skip
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.subject == "Riverside Pain Clinic: one month since your visit"
    (sent,) = mail.outbox
    assert sent.to == ["jordan@patients.example"]
    assert sent.subject == message.subject
    assert sent.extra_headers["Message-ID"] == message.provider_message_id
    assert message.provider_message_id.startswith("<")
    assert f".message-{message.pk}@" in message.provider_message_id
    assert sent.body.startswith("Hi Jordan,\n\nIt has been a month since your visit.")
    assert "To book your next visit, text BOOK or call us." in sent.body
    assert "http" not in sent.body


def test_one_message_per_source_key_and_channel(sms_outbox, noon):
    patient = PatientFactory()
    first = queue(patient, source_key="followup:7:check_in")
    again = queue(patient, source_key="followup:7:check_in")
    email = queue(patient, channel="email", source_key="followup:7:check_in")
    assert again.pk == first.pk
    assert email.pk != first.pk
    assert Message.objects.count() == 2
    assert len(sms_outbox) == 0  # on_commit never ran: still queued, the sweep would send it


def test_database_refuses_a_second_message_for_the_same_source_and_channel(noon):
    patient = PatientFactory()
    queue(patient, source_key="followup:8:check_in")
    with pytest.raises(IntegrityError):
        Message.objects.create(patient=patient, channel="sms", template="t", purpose="p", status="skipped",
                               source_key="followup:8:check_in")  # fmt: skip


@pytest.mark.parametrize(
    ("patient_fields", "channel", "reason"),
    [
        ({"sms_consent": False, "sms_consent_at": None, "sms_consent_method": ""}, "sms", "no sms consent"),
        ({"email_consent": False, "email_consent_at": None, "email_consent_method": ""}, "email", "no email consent"),
        ({"status": Patient.Status.INACTIVE}, "sms", "patient is inactive"),
        ({"status": Patient.Status.DECEASED}, "email", "patient is deceased"),
        ({"mobile_phone": ""}, "sms", "no mobile phone number"),
        ({"email": ""}, "email", "no email address"),
        ({"preferred_channel": Patient.Channel.NONE}, "sms", "patient wants no automated messages"),
    ],
)
def test_skips_are_recorded_with_their_reason(
    sms_outbox, noon, django_capture_on_commit_callbacks, patient_fields, channel, reason
):
    patient = PatientFactory(**patient_fields)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue(patient, channel=channel, source_key="followup:9:check_in")
    assert (message.status, message.reason, message.body) == ("skipped", reason, "")
    assert callbacks == []
    assert sms_outbox == []
    assert mail.outbox == []
    assert list(MessageEvent.objects.values_list("to_status", "detail")) == [("skipped", reason)]


def test_opted_out_patient_is_skipped_as_opted_out(noon):
    patient = PatientFactory()
    consent_change(patient=patient, channel="sms", granted=False, source="reply")
    assert queue(patient).reason == "opted out of sms"


def test_send_after_in_the_future_waits_in_the_database(sms_outbox, noon, django_capture_on_commit_callbacks):
    later = NOON_NY + dt.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue(PatientFactory(), send_after=later)
    assert (message.status, message.next_attempt_at) == ("queued", later)
    assert callbacks == []  # no countdown task: the sweep finds it when due
    assert sms_outbox == []


def test_unknown_template_and_channel_are_refused(noon):
    patient = PatientFactory()
    with pytest.raises(ValidationError) as caught:
        queue(patient, template="nope")
    assert caught.value.message_dict == {"template": ["No sms template named 'nope'."]}
    with pytest.raises(ValidationError) as caught:
        queue(patient, channel="fax")
    assert caught.value.message_dict == {"channel": ["Unknown channel 'fax'."]}
    assert Message.objects.count() == 0
