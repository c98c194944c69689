"""Keep sent SMS in memory, in the module-level `outbox` list (for tests)."""

import datetime as dt
import uuid
from dataclasses import dataclass

from clinic.messaging.backends.base import BaseSmsBackend, DeliveryStatus, ProviderMessage, SendError, SendResult


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    from_: str
    reference: str
    provider_message_id: str


outbox: list[SentSms] = []
# Tests put SendError instances here; each send pops and raises the first one.
failures: list[SendError] = []


class SmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str, from_: str, reference: str) -> SendResult:
        if failures:
            raise failures.pop(0)
        sent = SentSms(to=to, body=body, from_=from_, reference=reference, provider_message_id=f"LM{uuid.uuid4().hex}")
        outbox.append(sent)
        return SendResult(provider_message_id=sent.provider_message_id)

    def lookup(
        self, *, to: str, body: str, since: dt.datetime, provider_message_id: str = ""
    ) -> ProviderMessage | None:
        for sent in outbox:
            if (provider_message_id and sent.provider_message_id == provider_message_id) or (
                sent.to == to and sent.body == body
            ):
                return ProviderMessage(
                    provider_message_id=sent.provider_message_id, status=DeliveryStatus.SENT, to=to, body=body
                )
        return None
