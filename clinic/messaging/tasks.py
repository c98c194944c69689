"""Celery tasks of the outbox: thin wrappers that take ids and call the services."""

import logging

from celery import shared_task

from clinic.messaging import outbox, publish

logger = logging.getLogger(__name__)


@shared_task(name="messaging.message_deliver")
def message_deliver_task(message_id: int) -> None:
    """Deliver one queued message (does nothing unless it is queued and due)."""
    outbox.message_deliver(message_id=message_id)


@shared_task(name="messaging.messages_deliver")
def messages_deliver_task(*message_ids: int) -> None:
    """Deliver a few queued messages one after the other (one broker message for a batch's ids, one read)."""
    outbox.messages_deliver(message_ids=message_ids)


@shared_task(name="messaging.deliveries_publish")
def deliveries_publish_task(*message_ids: int) -> None:
    """Publish delivery of a batch's messages a few ids per task (the batch went to the broker once)."""
    publish.deliveries_publish(message_ids, mark=False, spread=False)


@shared_task(name="messaging.message_reconcile")
def message_reconcile_task(message_id: int) -> None:
    """Ask the provider about one message whose outcome is unknown."""
    outbox.message_reconcile(message_id=message_id)


@shared_task(name="messaging.messages_sweep")
def messages_sweep_task() -> None:
    """Beat, every minute: enqueue due messages, settle stuck and unknown ones."""
    outbox.messages_sweep()
