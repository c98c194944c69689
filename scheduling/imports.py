"""Future appointments from the clinic's previous system (CSV), booked through the booking service.

Columns: `patient_mrn`, `provider` (username or NPI), `room` (name), `appointment_type` (code or
name), `start` (ISO 8601; without an offset it is the clinic's wall time), optional `end`, `notes`.
Each row is `create` (booked through scheduling.booking.appointment_book, every rule of the admin's
booking form: clashes with the schedule and with earlier rows of the same file, closures, working
and opening hours, a room that cannot host the visit type), `unchanged` (the patient already has
an active appointment with that provider, visit type and start: a second import books nothing), or
`refuse` with the reasons (unknown patient, provider, room or visit type; a past or unreadable
start; whatever the booking service refuses). The dry run and the all-or-nothing commit are one
pass (clinic.imports.runner). Appointments are matched, never moved: a time that changed in the
previous system is a new booking, and the old one is cancelled by staff.
"""

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clinic.accounts.actors import Actor
from clinic.clock import clinic_tz, staff_datetime
from clinic.imports.runner import (
    CREATE,
    REFUSE,
    UNCHANGED,
    ImportParseError,
    ImportReport,
    RowOutcome,
    import_run,
    row_savepoint,
)
from clinic.models import Patient, Provider
from scheduling.booking import appointment_book
from scheduling.exceptions import BookingError
from scheduling.models import Appointment, AppointmentType, Room

REQUIRED_COLUMNS = ("patient_mrn", "provider", "room", "appointment_type", "start")
COLUMNS = (*REQUIRED_COLUMNS, "end", "notes")


def appointments_read_csv(stream: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {column: text}) for each data row; ImportParseError when columns are missing or unknown."""
    reader = csv.DictReader(stream)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    problems = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)} (the columns are: {', '.join(COLUMNS)})")
    if problems:
        raise ImportParseError("; ".join(problems))
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def appointments_rows(*, content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """Return the rows of an uploaded CSV (UTF-8)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportParseError("The file is not UTF-8 text.") from None
    return appointments_read_csv(io.StringIO(text, newline=""))


def _when(column: str, text: str, errors: list[str]) -> dt.datetime | None:
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        errors.append(f"{column}: not a date and time ({text!r}); write it as 2026-12-07 10:30 (clinic time).")
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=clinic_tz())


class AppointmentImporter:
    """Apply rows one by one: book, recognise an earlier import, or refuse with the reasons."""

    def __init__(self, *, by: Actor, now: dt.datetime) -> None:
        self.by, self.now = by, now
        self.rooms = {r.name.casefold(): r for r in Room.objects.filter(is_active=True)}
        self.types = {}
        for visit in AppointmentType.objects.filter(is_active=True):
            self.types[visit.code.casefold()] = visit
            self.types.setdefault(visit.name.casefold(), visit)

    def _provider(self, text: str) -> Provider | None:
        return (
            Provider.objects.select_related("user")
            .filter(Q(user__username__iexact=text) | Q(npi=text), is_active=True)
            .first()
        )

    def apply(self, line: int, columns: dict[str, str]) -> RowOutcome:
        errors: list[str] = []
        mrn = columns.get("patient_mrn", "")
        patient = Patient.objects.filter(mrn=mrn).first() if mrn else None
        label = f"MRN {mrn or '?'} {columns.get('start', '')} {columns.get('provider', '')}".strip()
        if patient is None:
            errors.append(f"patient_mrn: no patient has MRN {mrn!r} (import the patients first).")
        provider = self._provider(columns["provider"]) if columns.get("provider") else None
        if provider is None:
            errors.append(f"provider: no active provider {columns.get('provider', '')!r} (give the username or NPI).")
        room = self.rooms.get(columns.get("room", "").casefold())
        if room is None:
            errors.append(f"room: no active room {columns.get('room', '')!r}.")
        visit = self.types.get(columns.get("appointment_type", "").casefold())
        if visit is None:
            errors.append(f"appointment_type: no active visit type {columns.get('appointment_type', '')!r}.")
        start = _when("start", columns.get("start", ""), errors)
        end = _when("end", columns["end"], errors) if columns.get("end") else None
        if start is not None and start <= self.now:
            errors.append(f"start: {staff_datetime(start)} is past; only future appointments are imported.")
        if patient is not None and start is not None:
            label = f"{patient.display_name} (MRN {mrn}), {staff_datetime(start)}"

        def refused(reasons: list[str]) -> RowOutcome:
            return RowOutcome(line=line, action=REFUSE, label=label, reasons=tuple(reasons))

        if errors or patient is None or provider is None or room is None or visit is None or start is None:
            return refused(errors)
        booked = Appointment.objects.active().filter(
            patient=patient, provider=provider, appointment_type=visit, start=start
        )
        if booked.exists():
            return RowOutcome(line=line, action=UNCHANGED, label=label)

        def book() -> RowOutcome:
            try:
                appointment_book(
                    patient=patient,
                    provider=provider,
                    room=room,
                    appointment_type=visit,
                    start=start,
                    end=end,
                    notes=columns.get("notes", ""),
                    by=self.by,
                )
            except BookingError as exc:
                return refused([exc.message])  # staff read the message; the code is for programs
            return RowOutcome(line=line, action=CREATE, label=label)

        return row_savepoint(book, refused)


def appointments_import(
    *,
    rows: Iterable[tuple[int, dict[str, str]]],
    by: Actor,
    commit: bool,
    now: dt.datetime | None = None,
    keep_rows: bool = True,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Dry-run or commit (all or nothing) the appointments of ROWS; see the module docstring for the rules."""
    importer = AppointmentImporter(by=by, now=now or timezone.now())
    return import_run(rows=rows, apply=importer.apply, commit=commit, keep_rows=keep_rows, progress=progress)
