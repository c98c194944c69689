"""Which SMS asked the patient something: the rule that lets several apps read the same short answers.

A patient's "YES" (or "C", "SI") means something only next to the question it answers. Each app
registers the purposes of the messages it sends that expect an answer (`question_purposes_register`,
from its AppConfig.ready: scheduling's waitlist offers, tpi's check-ins); a reply receiver takes a
yes-like answer only when `question_last` (the latest such SMS that reached the patient) is its own.
So a reminder and a waitlist offer sent the same day never both take one YES.
"""

import datetime as dt

from clinic.messaging.models import Channel, Message

_question_purposes: dict[str, None] = {}  # insertion-ordered set

# A message that reached the provider counts as asked; a queued, skipped or failed one never reached them.
_ASKED = (Message.Status.SENT, Message.Status.DELIVERED)


def question_purposes_register(*purposes: str) -> None:
    """Declare message PURPOSES that ask the patient to answer by SMS."""
    _question_purposes.update(dict.fromkeys(purposes))


def question_purposes() -> tuple[str, ...]:
    """Return every registered purpose of an SMS that expects an answer."""
    return tuple(_question_purposes)


def question_last(*, patient_id: int, at: dt.datetime) -> Message | None:
    """Return the latest SMS sent to the patient before AT that expects an answer, or None."""
    return (
        Message.objects.filter(
            patient_id=patient_id,
            channel=Channel.SMS,
            purpose__in=question_purposes(),
            status__in=_ASKED,
            sent_at__lte=at,
        )
        .order_by("-sent_at", "-id")
        .first()
    )
