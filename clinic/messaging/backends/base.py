"""What every channel backend speaks: neutral send results, statuses and errors, and the SMS contract.

Backends translate their provider's vocabulary into these types; the outbox reads nothing else.
"""

import datetime as dt
import enum
from dataclasses import dataclass

from django.core.checks import CheckMessage


class DeliveryStatus(enum.StrEnum):
    """How far a provider got with a message, in our words."""

    SENT = "sent"  # accepted (queued, sending or sent on its side)
    DELIVERED = "delivered"  # the recipient's network or server confirmed it
    FAILED = "failed"  # the provider gave up on it


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message."""

    provider_message_id: str
    status: DeliveryStatus = DeliveryStatus.SENT


@dataclass(frozen=True)
class ProviderMessage:
    """A message as the provider knows it, found when reconciling an unknown outcome."""

    provider_message_id: str
    status: DeliveryStatus
    to: str
    body: str
    created_at: dt.datetime | None = None


class SendError(Exception):
    """Sending failed, on any channel.

    `permanent`: retrying cannot help (a bad number, a refused address).
    `outcome_unknown`: the request may have reached the provider (a read timeout, a dropped
    connection after the request was written); the message must not be resent blindly.
    """

    def __init__(self, message: str, *, permanent: bool = False, outcome_unknown: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.outcome_unknown = outcome_unknown


class LookupNotSupported(NotImplementedError):
    """The backend cannot ask its provider about past sends; staff must reconcile by hand."""


class BaseSmsBackend:
    """Base class for SMS backends. Subclasses implement `send`, and `lookup` when they can."""

    def __init__(self, **kwargs) -> None:
        pass

    @classmethod
    def check(cls) -> list[CheckMessage]:
        """Return the system-check messages for this backend's settings (none by default)."""
        return []

    def send(self, *, to: str, body: str, from_: str, reference: str) -> SendResult:
        """Send BODY to the E.164 number TO and return what the provider accepted.

        REFERENCE is our own id for the message (for logs and stubs, never shown to patients).
        Raise SendError for every failure: with permanent=True when retrying cannot help, with
        outcome_unknown=True when the provider may have accepted the message anyway.
        """
        raise NotImplementedError("subclasses of BaseSmsBackend must provide a send() method")

    def lookup(
        self, *, to: str, body: str, since: dt.datetime, provider_message_id: str = ""
    ) -> ProviderMessage | None:
        """Return the provider's record of a message we may have sent, or None if it has none.

        Fetch by PROVIDER_MESSAGE_ID when known, else search messages to TO with BODY created at or
        after SINCE. Raise LookupNotSupported when the provider cannot answer, and SendError
        when asking failed (the question stays open).
        """
        raise LookupNotSupported(f"{type(self).__name__} cannot look up past messages")
