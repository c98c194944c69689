"""Messages that expect an answer, and which one a patient's bare "YES" answers.

A "YES" (or "SI") means nothing by itself: it answers the last question we asked. Apps register the
purposes of their messages that ask one (scheduling: the appointment reminder; tpi: the check-in and
the reassessment) from their AppConfig.ready(); a reply_received receiver takes a yes-like reply only
when `latest_prompt` for the patient is one of its own messages (docs/decisions.md, Messaging).
"""

import datetime as dt

from django.db.models.functions import Coalesce

from clinic.messaging.models import Channel, Message

_prompt_purposes: dict[str, None] = {}  # insertion-ordered set
# The SMS left (or may have left) the outbox: the patient may be answering it.
_OUT = (Message.Status.SENDING, Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNKNOWN)


def prompt_purposes_register(*purposes: str) -> None:
    """Declare PURPOSES as messages that ask the patient something (a yes-like reply may answer them)."""
    _prompt_purposes.update(dict.fromkeys(purposes))


def prompt_purposes() -> tuple[str, ...]:
    """Return the registered purposes of messages that expect an answer."""
    return tuple(_prompt_purposes)


def latest_prompt(*, patient_id: int, at: dt.datetime) -> Message | None:
    """Return the most recent SMS that expects an answer sent to the patient by AT (None if there is none)."""
    return (
        Message.objects.filter(
            patient_id=patient_id, channel=Channel.SMS, purpose__in=prompt_purposes(), status__in=_OUT
        )
        .annotate(left_at=Coalesce("sent_at", "last_attempt_at", "created_at"))
        .filter(left_at__lte=at)
        .order_by("-left_at", "-id")
        .first()
    )
