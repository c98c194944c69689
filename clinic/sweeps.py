"""What every sweep over due rows shares: claiming a batch under row locks, and committing it.

A sweep (follow-ups, appointment reminders, ...) claims a batch of due rows with one locking statement
(`rows_locked`: SKIP LOCKED on PostgreSQL, so several sweeps take disjoint batches), settles it in bulk
and commits. Its commit need not wait for the disk (`batch_commit_unflushed`): a database crash loses at
most the last batches, whose rows are then due again and swept again; a message delivered from such a
batch was claimed by a commit that did wait for the disk, and the write-ahead log is flushed in order, so
the batch that made the message was flushed before its claim. Nothing is sent twice, nothing is lost.
"""

from collections.abc import Sequence
from typing import TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def rows_locked(queryset: QuerySet[M], *, of: Sequence[str] = ("self",)) -> QuerySet[M]:
    """Lock the rows of QUERYSET (and the related rows OF names) for this transaction, skipping rows another
    transaction holds (PostgreSQL). SQLite has no row locks: every write transaction there is BEGIN IMMEDIATE
    (settings), so sweeps run one after the other."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=tuple(of))
    return queryset.select_for_update()


def batch_commit_unflushed() -> None:
    """Let the current transaction (a sweep's batch) commit without waiting for the disk (PostgreSQL)."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
