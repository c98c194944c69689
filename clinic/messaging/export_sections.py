"""Messaging's sections of the right-of-access export (clinic.audit.export): messages and consent."""

from clinic.audit.export import export_section, model_fields
from clinic.messaging.models import ConsentEvent, InboundMessage, Message
from clinic.models import Patient


@export_section("messages")
def messages(patient: Patient) -> list[dict]:
    """Messages sent (or queued) to the patient and the SMS they sent us."""
    sent = [model_fields(m) for m in Message.objects.filter(patient=patient).order_by("id")]
    received = [model_fields(m) for m in InboundMessage.objects.filter(patient=patient).order_by("id")]
    return [{"direction": "outbound", **m} for m in sent] + [{"direction": "inbound", **m} for m in received]


@export_section("consent_events")
def consent_events(patient: Patient) -> list[dict]:
    return [model_fields(e) for e in ConsentEvent.objects.filter(patient=patient).order_by("at", "id")]
