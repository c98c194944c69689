"""Import patients from the previous system: a CSV, a FHIR Bundle (.json) or FHIR NDJSON (.ndjson)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils import timezone

from clinic.imports.command import ImportCommand
from clinic.imports.patients import fhir_patient_columns, patients_import, patients_read_csv, patients_read_fhir
from clinic.imports.runner import ImportParseError, ImportReport


class Command(ImportCommand):
    help = (
        "Import patients (CSV columns, a FHIR Bundle of Patients, or FHIR NDJSON, one Patient a line): "
        "--dry-run lists the refused rows and the counts; --commit writes all or nothing."
    )
    noun = "patients"

    def count(self, path: Path) -> int:
        if path.suffix.lower() == ".json":
            return 0  # a Bundle is one JSON document: its size is known only once read
        lines = super().count(path)
        return lines + 1 if path.suffix.lower() == ".ndjson" else lines

    def rows(self, path: Path) -> Iterator[tuple[int, dict[str, str]]]:
        suffix = path.suffix.lower()
        if suffix == ".json":
            yield from patients_read_fhir(path.read_text(encoding="utf-8-sig"))
        elif suffix == ".ndjson":
            with path.open(encoding="utf-8-sig") as f:
                for number, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        resource = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ImportParseError(f"line {number} is not JSON: {exc}") from None
                    if resource.get("resourceType") == "Patient":
                        yield number, fhir_patient_columns(resource)
        else:
            with path.open(encoding="utf-8-sig", newline="") as f:
                yield from patients_read_csv(f)

    def run(self, **kwargs: Any) -> ImportReport:
        return patients_import(now=timezone.now(), **kwargs)
