"""Run an import: the dry run and the commit are the same pass through the same services.

Every row goes through the service the admin uses, inside one database transaction. The dry run
rolls that transaction back; the commit keeps it only when no row was refused, so a commit writes
all of the file or none of it, and a dry run lists exactly what the commit would do (clashes
between rows of the same file included). A row's outcome is `create`, `update`, `unchanged` or
`refuse` with the reasons; a second commit of the same file finds every row `unchanged`.
"""

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.db import transaction

CREATE, UPDATE, UNCHANGED, REFUSE = "create", "update", "unchanged", "refuse"
ACTIONS = (CREATE, UPDATE, UNCHANGED, REFUSE)

Row = TypeVar("Row")


@dataclasses.dataclass(frozen=True)
class RowOutcome:
    """What an import does with one row of the file (LINE counts from 1, the header being line 1 of a CSV)."""

    line: int
    action: str
    label: str  # how staff recognise the row: "MRN 1234 Rivera, Jordan"
    reasons: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()  # the fields an update changes


@dataclasses.dataclass
class ImportReport:
    """The outcome of a whole file: counts per action, the rows kept, and whether it was written."""

    committed: bool = False
    counts: Counter = dataclasses.field(default_factory=Counter)
    rows: list[RowOutcome] = dataclasses.field(default_factory=list)
    refused: list[RowOutcome] = dataclasses.field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """Return e.g. "3 to create, 1 to update, 0 unchanged, 1 refused" (or "created ..." once committed)."""
        if self.committed:
            words = ("created", "updated", "unchanged", "refused")
        else:
            words = ("to create", "to update", "unchanged", "refused")
        return ", ".join(f"{self.counts[a]} {w}" for a, w in zip(ACTIONS, words, strict=True))


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run (or a refused commit) back."""


class ImportParseError(ValueError):
    """The file cannot be read at all (not CSV / not a FHIR Bundle, columns missing): nothing to list."""


def import_run(
    *,
    rows: Iterable[tuple[int, Row]],
    apply: Callable[[int, Row], RowOutcome],
    commit: bool,
    keep_rows: bool = True,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Apply every (line, row) with APPLY in one transaction; keep it only if COMMIT and nothing was refused.

    APPLY writes through the app's services and returns the row's outcome; it must not raise for a bad
    row (it returns `refuse` with the reasons, its own writes undone by a savepoint). KEEP_ROWS=False
    keeps only the refused rows (a 100,000-row file). PROGRESS is called with the number of rows done.
    """
    report = ImportReport()
    try:
        with transaction.atomic():
            for done, (line, row) in enumerate(rows, start=1):
                outcome = apply(line, row)
                report.counts[outcome.action] += 1
                if keep_rows:
                    report.rows.append(outcome)
                if outcome.action == REFUSE:
                    report.refused.append(outcome)
                if progress is not None:
                    progress(done)
            if not commit or report.refused:
                raise _DryRun
    except _DryRun:
        return report
    report.committed = True
    return report


def row_savepoint(apply: Callable[[], RowOutcome], refused: Callable[[list[str]], RowOutcome]) -> RowOutcome:
    """Run APPLY in a savepoint: a refusal it returns, or a validation error it raises, undoes its writes."""
    from django.core.exceptions import ValidationError

    try:
        with transaction.atomic():
            outcome = apply()
            if outcome.action == REFUSE:
                raise _RowRefused(outcome)
            return outcome
    except _RowRefused as exc:
        return exc.outcome
    except ValidationError as exc:
        return refused(validation_reasons(exc))


class _RowRefused(Exception):
    def __init__(self, outcome: RowOutcome) -> None:
        super().__init__(outcome.reasons)
        self.outcome = outcome


def validation_reasons(error: Any) -> list[str]:
    """Return "field: reason" lines of a Django ValidationError (the reason alone for a whole-record rule)."""
    if hasattr(error, "error_dict"):
        return [
            (message if field == "__all__" else f"{field}: {message}")
            for field, errors in error.error_dict.items()
            for e in errors
            for message in e.messages
        ]
    return list(error.messages)


def batched(items: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """Yield lists of SIZE items (the last one shorter)."""
    batch: list[Row] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
