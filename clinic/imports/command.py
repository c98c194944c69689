"""The shared shape of the import commands: FILE, --dry-run or --commit, --by, a progress line.

Large files (100,000 patients) stream from disk row by row; the report keeps only the refused
rows; a progress line on stderr says how far the pass is (rows done of the file's rows, per cent,
rows a second). The command fails (exit status 1) when any row is refused, so a script stops there.
"""

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.imports.runner import ImportParseError, ImportReport

PROGRESS_EVERY = 500


class Progress:
    """A one-line progress report, redrawn in place: '12,000 / 100,000 rows (12%), 850 rows/s'."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total, self.stream, self.started = total, stream or sys.stderr, time.monotonic()

    def __call__(self, done: int) -> None:
        if done % PROGRESS_EVERY and done != self.total:
            return
        rate = done / max(time.monotonic() - self.started, 1e-6)
        share = f" ({100 * done // self.total}%)" if self.total else ""
        self.stream.write(f"\r{done:,} / {self.total:,} rows{share}, {rate:,.0f} rows/s")
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("\n")


class ImportCommand(BaseCommand):
    """Subclasses name the file's rows (`rows`) and the import service (`run`)."""

    noun = "rows"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--dry-run", action="store_true", help="List what would happen; write nothing.")
        mode.add_argument("--commit", action="store_true", help="Write every row, or nothing if any is refused.")
        parser.add_argument("--by", metavar="USERNAME", help="The staff user the import is recorded as.")

    def rows(self, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
        raise NotImplementedError("Return the (line, columns) rows of the file at PATH.")

    def run(self, **kwargs: Any) -> ImportReport:
        raise NotImplementedError("Call the import service with rows, by, commit, keep_rows and progress.")

    def count(self, path: Path) -> int:
        """Return how many rows the file holds (data lines of a CSV; 0 when unknown)."""
        with path.open("rb") as f:
            return max(sum(1 for _ in f) - 1, 0)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        by = None
        if options["by"]:
            by = get_user_model().objects.filter(username=options["by"], is_active=True).first()
            if by is None:
                raise CommandError(f"No active user {options['by']!r}.")
        progress = Progress(self.count(path), self.stderr._out)
        try:
            report = self.run(rows=self.rows(path), by=by, commit=options["commit"], keep_rows=False, progress=progress)
        except ImportParseError as exc:
            raise CommandError(f"{path}: {exc}") from None
        finally:
            progress.end()
        for outcome in report.refused:
            self.stdout.write(f"line {outcome.line}: {outcome.label}: {'; '.join(outcome.reasons)}")
        self.stdout.write(report.summary())
        if report.refused:
            raise CommandError(
                f"{len(report.refused)} {self.noun} refused; nothing was written. Fix them and run again."
            )
        if report.committed:
            self.stdout.write(self.style.SUCCESS(f"Imported: {report.summary()}."))
        else:
            self.stdout.write("Dry run: nothing was written. Run again with --commit.")
