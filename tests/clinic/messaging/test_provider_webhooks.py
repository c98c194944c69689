"""The provider-neutral webhook path: any provider's view validates, parses, and hands over neutral events."""

from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.test import RequestFactory

from clinic.messaging.backends import DeliveryStatus
from clinic.messaging.models import InboundMessage, Message
from clinic.messaging.outbox import message_deliver, message_queue
from clinic.messaging.webhooks import (
    DeliveryReport,
    InboundSms,
    ProviderWebhookView,
    WebhookPayloadError,
    WebhookRefused,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
PHONE = "+12025550143"
SECRET = "acme-shared-secret"


class AcmeView(ProviderWebhookView):
    """A made-up provider: a shared secret header, JSON-free form fields in its own words."""

    def validate_request(self, request: HttpRequest) -> None:
        if request.headers.get("X-Acme-Secret") != SECRET:
            raise WebhookRefused("bad secret")

    def parse_events(self, request: HttpRequest) -> list:
        kind = request.POST.get("kind")
        if kind == "dlr":
            state = {"OK": DeliveryStatus.DELIVERED, "KO": DeliveryStatus.FAILED}[request.POST["state"]]
            return [DeliveryReport(provider_message_id=request.POST["id"], status=state, description="acme KO 7")]
        if kind == "mo":
            return [InboundSms(provider_message_id=request.POST["id"], from_number=request.POST["msisdn"],
                               to_number="", body=request.POST["text"])]  # fmt: skip
        raise WebhookPayloadError("kind is required")


def post(data, secret=SECRET):
    request = RequestFactory().post("/acme/", data, headers={"X-Acme-Secret": secret})
    return AcmeView.as_view()(request)


def test_another_provider_reports_delivery_through_the_same_outbox(sms_outbox, noon):
    patient = PatientFactory(mobile_phone=PHONE)
    sent, failed = (
        message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={},
                      source_key=f"acme:{n}")
        for n in (1, 2)
    )  # fmt: skip
    for message in (sent, failed):
        message_deliver(message_id=message.pk)
        message.refresh_from_db()
    assert post({"kind": "dlr", "id": sent.provider_message_id, "state": "OK"}).status_code == 204
    assert post({"kind": "dlr", "id": failed.provider_message_id, "state": "KO"}).status_code == 204
    sent.refresh_from_db()
    failed.refresh_from_db()
    assert (sent.status, failed.status, failed.reason) == ("delivered", "failed", "the provider reports it acme KO 7")
    assert failed.events.last().detail == "delivery report: acme KO 7"


def test_another_provider_hands_inbound_sms_to_the_same_inbound_path(sms_outbox, noon):
    PatientFactory(mobile_phone=PHONE)
    assert post({"kind": "mo", "id": "acme-1", "msisdn": PHONE, "text": "7"}).status_code == 204
    assert post({"kind": "mo", "id": "acme-1", "msisdn": PHONE, "text": "7"}).status_code == 204
    inbound = InboundMessage.objects.get()
    assert (inbound.provider_message_id, inbound.body, inbound.needs_review) == ("acme-1", "7", True)


def test_a_bad_signature_is_403_and_a_bad_payload_400_and_neither_changes_anything(noon):
    assert post({"kind": "mo", "id": "acme-2", "msisdn": PHONE, "text": "STOP"}, secret="guess").status_code == 403
    assert post({"id": "acme-3"}).status_code == 400
    assert (InboundMessage.objects.count(), Message.objects.count()) == (0, 0)


def test_a_provider_view_must_say_how_it_validates_and_parses():
    request = RequestFactory().post("/x/", {})
    with pytest.raises(NotImplementedError, match="must check the request's signature"):
        ProviderWebhookView().validate_request(request)
    with pytest.raises(NotImplementedError, match="must parse its payload"):
        ProviderWebhookView().parse_events(request)


def test_only_the_twilio_package_speaks_twilio_in_the_messaging_app():
    root = Path(settings.BASE_DIR) / "clinic" / "messaging"
    speaking = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "twilio" in path.read_text(encoding="utf-8").lower() and "backends/twilio" not in path.as_posix()
    )
    assert speaking == ["urls.py"]  # the one wiring line that includes the package's webhook URLs
