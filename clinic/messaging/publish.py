"""Publishing delivery tasks: a few ids per broker message, each message marked while its task waits.

A queued message carries `enqueued_at`, set when its delivery is published (by the sweep in its
claim, by everyone else just before the publish) and cleared again when the publish fails. The
outbox sweep re-publishes a due message only when no task is waiting for it: never published,
published before its current due time (a retry, the end of quiet hours), or published longer than
MESSAGING_REPUBLISH_AFTER_SECONDS ago (the task was lost).
"""

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from clinic.messaging.models import Message
from clinic.sweeps import among, batch_commit_unflushed

logger = logging.getLogger(__name__)


def messages_awaiting_publish(queryset: QuerySet[Message], *, now: dt.datetime) -> QuerySet[Message]:
    """Narrow QUERYSET to the messages no delivery task is waiting for."""
    lost = now - dt.timedelta(seconds=settings.MESSAGING_REPUBLISH_AFTER_SECONDS)
    return queryset.filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=F("next_attempt_at")) | Q(enqueued_at__lte=lost)
    )


def deliveries_publish(message_ids: Sequence[int], *, mark: bool = True, spread: bool = True) -> None:
    """Publish delivery of MESSAGE_IDS, MESSAGING_DELIVER_CHUNK ids per task; call after commit.

    MARK: set their `enqueued_at` first (one UPDATE); False when the caller's claim already set it.
    SPREAD: more ids than one task takes go to the broker once, as a task that publishes their chunks
    from a worker (a sweep's batch of a thousand publishes once, not forty times); False publishes the
    chunks here. If the broker is down nothing is lost: the rows stay due, their marks are cleared, and
    the sweep publishes them again. A spreading task that is lost leaves its messages to the sweep's
    lost-task rule (MESSAGING_REPUBLISH_AFTER_SECONDS), as a lost delivery task does.
    """
    from clinic.messaging.tasks import deliveries_publish_task, messages_deliver_task

    chunk = max(settings.MESSAGING_DELIVER_CHUNK, 1)
    ids = list(message_ids)
    if not ids:
        return
    if mark:
        with transaction.atomic():
            batch_commit_unflushed()  # a lost mark only lets the outbox sweep publish it again (claims stay once)
            Message.objects.filter(among("pk", ids), status=Message.Status.QUEUED).update(enqueued_at=timezone.now())
    start = 0
    try:
        if spread and len(ids) > chunk:
            deliveries_publish_task.apply_async(tuple(ids))
            return
        with messages_deliver_task.app.producer_or_acquire() as producer:  # one connection for the batch
            for start in range(0, len(ids), chunk):
                messages_deliver_task.apply_async(tuple(ids[start : start + chunk]), producer=producer)
    except Exception:  # the broker is unreachable: stop trying, the sweep picks the rows up again
        rest = ids[start:]
        logger.warning("could not enqueue delivery of %s message(s); the sweep will pick them up", len(rest))
        Message.objects.filter(among("pk", rest), status=Message.Status.QUEUED).update(enqueued_at=None)
