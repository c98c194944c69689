"""What every sweep over due rows shares: claiming a batch under row locks, and committing it.

A sweep (follow-ups, appointment reminders, ...) claims a batch of due rows with one locking statement
(`rows_locked`: SKIP LOCKED on PostgreSQL, so several sweeps take disjoint batches), settles it in bulk
and commits. Its commit need not wait for the disk (`batch_commit_unflushed`): a database crash loses at
most the last batches, whose rows are then due again and swept again; a message delivered from such a
batch was claimed by a commit that did wait for the disk, and the write-ahead log is flushed in order, so
the batch that made the message was flushed before its claim. Nothing is sent twice, nothing is lost.
"""

import contextlib
import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup, Model, Q, QuerySet

from clinic.transitions import Transitions

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


@dataclass
class Move:
    """What becomes of one claimed row: its new status TO with the REASON staff read, the messages to store
    if it is sent, and any other FIELDS its UPDATE sets (e.g. the follow-up whose message carried it)."""

    to: str
    reason: str
    messages: list[Any] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


def moves_apply(
    model: type[Model], moves: Mapping[int, Move], *, source: str, transitions: Transitions, now: dt.datetime
) -> set[int]:
    """Move the claimed rows of MODEL that MOVES names (by id) out of SOURCE: one conditional UPDATE per
    outcome, reason and fields (a batch has few: every sent one of a channel mix reads the same), each
    setting `status`, `status_reason` (200 characters) and `updated_at`; return the ids moved.

    The caller holds the rows' locks, so every UPDATE touches all of its rows; should one not (another
    process moved a row first), only the rows really moved are returned and go on.
    """
    groups: dict[tuple[str, str, tuple[tuple[str, Any], ...]], list[int]] = defaultdict(list)
    for pk, move in moves.items():
        transitions.check(source, move.to)
        groups[(move.to, move.reason[:200], tuple(sorted(move.fields.items())))].append(pk)
    moved: set[int] = set()
    for (to, reason, fields), ids in groups.items():
        rows = model._default_manager.filter(among("pk", ids), status=source)
        if rows.update(status=to, status_reason=reason, updated_at=now, **dict(fields)) == len(ids):
            moved.update(ids)
        else:
            really = model._default_manager.filter(among("pk", ids), status=to, updated_at=now)
            moved.update(really.values_list("pk", flat=True))
    return moved


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's automatic garbage collection for one batch (if it runs), and resume it after.

    A batch makes some thirty short-lived objects per row and almost no reference cycles, but every few
    thousand allocations the collector walks the young objects and, now and then, every object the
    process holds (Django's own: hundreds of thousands): a sixth of a follow-up sweep's time. Paused for
    one batch, the batch's garbage is freed by reference counting as usual and what is left is collected
    after it. A sweep runs in a worker process of its own (one task at a time), so the pause touches
    nothing else.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class AnyOf(Lookup):
    """`field__any_of=[...]` (PostgreSQL): `field = ANY(%s)` with the values as one array parameter."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # foreign keys look their lookups up on themselves


def among(field: str, values: Iterable[Any]) -> Q:
    """Return Q(FIELD__in=VALUES); on PostgreSQL the values go as one array parameter (`= ANY(%s)`) rather than
    one parameter each: a sweep's batch passes a thousand, and each costs Django and the driver per query."""
    values = list(values)
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__any_of": values})
    return Q(**{f"{field}__in": values})
