"""The channels a Message goes out on: each turns a stored Message into its backend's call.

The outbox asks `channel_for(message.channel)` and speaks only the neutral results and errors of
`clinic.messaging.backends.base`; which provider sits behind a channel is the backend's business.
"""

from typing import Protocol

from django.conf import settings

from clinic.messaging.backends import LookupNotSupported, ProviderMessage, SendResult, get_sms_backend
from clinic.messaging.backends.email import EmailBackend
from clinic.messaging.models import Channel, Message


class MessageChannel(Protocol):
    def send(self, message: Message) -> SendResult:
        """Send MESSAGE; raise SendError (permanent / outcome_unknown) for every failure."""
        ...

    def lookup(self, message: Message) -> ProviderMessage | None:
        """Return the provider's record of MESSAGE's last attempt, None if it has none.

        Raise LookupNotSupported (its text says why, for staff) when the provider cannot be asked,
        SendError when asking failed.
        """
        ...


class SmsChannel:
    def send(self, message: Message) -> SendResult:
        return get_sms_backend().send(
            to=message.recipient, body=message.body, from_=settings.SMS_FROM_NUMBER, reference=f"message-{message.pk}"
        )

    def lookup(self, message: Message) -> ProviderMessage | None:
        try:
            return get_sms_backend().lookup(
                to=message.recipient,
                body=message.body,
                since=message.last_attempt_at or message.created_at,
                provider_message_id=message.provider_message_id,
            )
        except LookupNotSupported as exc:
            raise LookupNotSupported("the SMS backend cannot be asked whether it took the message") from exc


class EmailChannel:
    def send(self, message: Message) -> SendResult:
        return EmailBackend().send(
            to=message.recipient, subject=message.subject, body=message.body, reference=f"message-{message.pk}"
        )

    def lookup(self, message: Message) -> ProviderMessage | None:
        return EmailBackend().lookup(
            to=message.recipient,
            body=message.body,
            since=message.last_attempt_at or message.created_at,
            provider_message_id=message.provider_message_id,
        )


_CHANNELS: dict[str, MessageChannel] = {Channel.SMS: SmsChannel(), Channel.EMAIL: EmailChannel()}


def channel_for(channel: str) -> MessageChannel:
    """Return the sender of CHANNEL (a Channel value)."""
    return _CHANNELS[channel]
