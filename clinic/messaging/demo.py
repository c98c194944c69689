"""Demo data for messaging: a sent message, replies waiting in the triage inbox. Idempotent."""

from django.utils import timezone

from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Channel
from clinic.messaging.outbox import message_queue
from clinic.models import Patient


def seed() -> None:
    patient = Patient.objects.filter(legal_first_name="Jordan", legal_last_name="Rivera").first()
    if patient is None or not patient.mobile_phone:
        return
    message_queue(
        patient=patient,
        channel=Channel.SMS,
        purpose="appointment_confirmation",
        template="appointment_confirmation",
        context={"when": "Tuesday at 10:30"},
        source_key="demo:welcome",
        send_after=timezone.now(),
    )
    inbound_sms_receive(
        provider_message_id="SMdemo00000000000000000000000001",
        from_number=str(patient.mobile_phone),
        body="Can I bring my husband to the next visit?",
    )
    # A reschedule request (soon) from another patient, and a text from a number nobody has.
    other = Patient.objects.exclude(pk=patient.pk).exclude(mobile_phone="").order_by("id").first()
    if other is not None:
        inbound_sms_receive(
            provider_message_id="SMdemo00000000000000000000000002", from_number=str(other.mobile_phone), body="R"
        )
    inbound_sms_receive(
        provider_message_id="SMdemo00000000000000000000000003", from_number="+12025550987", body="Is this the clinic?"
    )
