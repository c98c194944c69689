"""Import future appointments from the previous system (CSV) through the booking service."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clinic.imports.command import ImportCommand
from clinic.imports.runner import ImportReport
from scheduling.imports import appointments_import, appointments_read_csv


class Command(ImportCommand):
    help = (
        "Import future appointments (CSV: patient_mrn, provider, room, appointment_type, start, end, notes): "
        "--dry-run lists the refused rows and the counts; --commit books all or nothing."
    )
    noun = "appointments"

    def rows(self, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
        with path.open(encoding="utf-8-sig", newline="") as f:
            yield from appointments_read_csv(f)

    def run(self, **kwargs: Any) -> ImportReport:
        return appointments_import(**kwargs)
