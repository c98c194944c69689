"""Patients from the clinic's previous system: CSV or a FHIR R4 Bundle of Patient resources.

Each row is matched on its MRN (the previous system's chart number, kept as ours):
- no patient has it: `create` through clinic.patients.patient_create, unless the same legal name and
  date of birth is already registered under another MRN (`refuse`: probably the same person);
- a patient has it with the same date of birth and legal last name: `update` the fields that differ
  through patient_update, or `unchanged`;
- a patient has it with another date of birth or last name: `refuse` (not the same person);
- the MRN appeared earlier in the file: `refuse`.
A row is also refused for any field the patient form would refuse (a bad phone number, an unknown
sex or channel, ...), each named with its reason.

Consent is imported only with its time and how it was given (`sms_consent_at` and
`sms_consent_method`, likewise for email), recorded as a ConsentEvent with source "import"; and only
for a new patient: once registered, consent changes only by the patient (STOP/START) or staff, so a
second import can never undo an opt-out.
"""

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from phonenumber_field.phonenumber import to_python as phone_parse

from clinic.accounts.actors import Actor
from clinic.imports.runner import (
    CREATE,
    REFUSE,
    UNCHANGED,
    UPDATE,
    ImportParseError,
    ImportReport,
    RowOutcome,
    import_run,
    row_savepoint,
    validation_reasons,
)
from clinic.models import Patient
from clinic.patients import patient_create, patient_update

REQUIRED_COLUMNS = ("mrn", "legal_first_name", "legal_last_name", "date_of_birth")
TEXT_COLUMNS = (
    "preferred_name",
    "sex",
    "mobile_phone",
    "email",
    "preferred_channel",
    "preferred_language",
    "time_zone",
    "allergies",
    "anticoagulant_details",
    "status",
)
BOOLEAN_COLUMNS = ("local_anaesthetic_allergy", "on_anticoagulants")
CONSENT_CHANNELS = ("sms", "email")
CONSENT_COLUMNS = tuple(f"{c}_consent{s}" for c in CONSENT_CHANNELS for s in ("", "_at", "_method"))
COLUMNS = (*REQUIRED_COLUMNS, *TEXT_COLUMNS, *BOOLEAN_COLUMNS, *CONSENT_COLUMNS)
ALIASES = {"first_name": "legal_first_name", "last_name": "legal_last_name", "dob": "date_of_birth"}
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0", ""}


# --- reading the file --------------------------------------------------------------------------
def patients_read_csv(stream: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line, {column: text}) for each data row of a CSV whose header names our columns.

    Raise ImportParseError when a required column is missing or a column is unknown (a typo would
    otherwise drop that column's data silently).
    """
    reader = csv.DictReader(stream)
    header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)} (the columns are: {', '.join(COLUMNS)})")
    if problems:
        raise ImportParseError("; ".join(problems))
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def patients_read_fhir(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (entry number, {column: text}) for each Patient of a FHIR R4 Bundle (or a lone Patient)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportParseError(f"Not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("resourceType") not in ("Bundle", "Patient"):
        raise ImportParseError("Expected a FHIR Bundle of Patient resources (resourceType Bundle).")
    if data["resourceType"] == "Patient":
        resources = [data]
    else:
        resources = [e.get("resource") or {} for e in data.get("entry") or [] if isinstance(e, dict)]
    for number, resource in enumerate(resources, start=1):
        if resource.get("resourceType") == "Patient":
            yield number, fhir_patient_columns(resource)


def _fhir_mrn(resource: dict) -> str:
    identifiers = [i for i in resource.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    for identifier in identifiers:
        codings = (identifier.get("type") or {}).get("coding") or []
        if any(c.get("code") == "MR" for c in codings if isinstance(c, dict)):
            return str(identifier["value"])
    return str(identifiers[0]["value"]) if identifiers else ""


def fhir_patient_columns(resource: dict) -> dict[str, str]:
    """Return the CSV columns of one FHIR Patient: MR identifier, official and usual names, telecom, ..."""
    names = [n for n in resource.get("name") or [] if isinstance(n, dict)]
    official = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    usual = next((n for n in names if n.get("use") in ("usual", "nickname") and n is not official), {})
    telecom = [t for t in resource.get("telecom") or [] if isinstance(t, dict)]
    phones = [t for t in telecom if t.get("system") in ("phone", "sms")]
    phone = next((t for t in phones if t.get("use") == "mobile"), phones[0] if phones else {})
    email = next((t for t in telecom if t.get("system") == "email"), {})
    languages = [
        coding.get("code", "")
        for c in resource.get("communication") or []
        for coding in ((c.get("language") or {}).get("coding") or [])
    ]
    status = "active"
    if resource.get("deceasedBoolean") or resource.get("deceasedDateTime"):
        status = "deceased"
    elif resource.get("active") is False:
        status = "inactive"
    return {
        "mrn": _fhir_mrn(resource),
        "legal_first_name": " ".join(official.get("given") or []),
        "legal_last_name": official.get("family") or "",
        "preferred_name": ((usual.get("given") or [""])[0]) if usual else "",
        "date_of_birth": resource.get("birthDate") or "",
        "sex": resource.get("gender") or "unknown",
        "mobile_phone": phone.get("value") or "",
        "email": email.get("value") or "",
        "preferred_language": languages[0].split("-")[0].lower() if languages else "",
        "status": status,
    }


# --- one row -----------------------------------------------------------------------------------
def _boolean(column: str, text: str, errors: list[str]) -> bool:
    if text.lower() in YES:
        return True
    if text.lower() not in NO:
        errors.append(f"{column}: write yes or no, not {text!r}.")
    return False


def _consent_time(column: str, text: str, errors: list[str]) -> dt.datetime | None:
    """An ISO 8601 time; one without an offset is the clinic's wall time."""
    from clinic.clock import clinic_tz

    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        errors.append(f"{column}: not a date and time ({text!r}); write it as 2025-03-01T10:30:00-05:00.")
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=clinic_tz())
    return value


def patient_fields(columns: dict[str, str], *, now: dt.datetime) -> tuple[str, dict[str, Any], list[str]]:
    """Return (mrn, the patient's field values, the reasons to refuse) for one row's COLUMNS."""
    errors: list[str] = []
    mrn = columns.get("mrn", "")
    if not mrn:
        errors.append("mrn: missing.")
    fields: dict[str, Any] = {name: columns[name] for name in ("legal_first_name", "legal_last_name")}
    try:
        fields["date_of_birth"] = dt.date.fromisoformat(columns.get("date_of_birth", ""))
    except ValueError:
        errors.append(f"date_of_birth: not a date ({columns.get('date_of_birth', '')!r}); write it as 1978-04-12.")
    for name in TEXT_COLUMNS:
        if columns.get(name):
            fields[name] = columns[name]
    for name in BOOLEAN_COLUMNS:
        if name in columns:
            fields[name] = _boolean(name, columns[name], errors)
    for channel in CONSENT_CHANNELS:
        given = _boolean(f"{channel}_consent", columns.get(f"{channel}_consent", ""), errors)
        if not given:
            continue
        at_text, method = columns.get(f"{channel}_consent_at", ""), columns.get(f"{channel}_consent_method", "")
        if not at_text or not method:
            errors.append(
                f"{channel}_consent: consent is imported only with its time ({channel}_consent_at) and how it "
                f"was given ({channel}_consent_method: {', '.join(Patient.ConsentMethod.values)})."
            )
            continue
        at = _consent_time(f"{channel}_consent_at", at_text, errors)
        if at is not None and at > now:
            errors.append(f"{channel}_consent_at: in the future.")
        if method not in Patient.ConsentMethod.values:
            methods = ", ".join(Patient.ConsentMethod.values)
            errors.append(f"{channel}_consent_method: {method!r} is not one of {methods}.")
        fields.update({f"{channel}_consent": True, f"{channel}_consent_at": at, f"{channel}_consent_method": method})
    if "mobile_phone" in fields:
        number = phone_parse(fields["mobile_phone"])
        if number is None or not number.is_valid():
            errors.append(f"mobile_phone: {fields['mobile_phone']!r} is not a valid phone number.")
        else:
            fields["mobile_phone"] = number.as_e164
    return mrn, fields, errors


def _label(mrn: str, columns: dict[str, str]) -> str:
    name = ", ".join(p for p in (columns.get("legal_last_name"), columns.get("legal_first_name")) if p)
    return f"MRN {mrn or '?'} {name}".strip()


def _comparable(value: Any) -> Any:
    return str(value) if value is not None and not isinstance(value, bool | dt.date | str) else value


class PatientImporter:
    """Apply rows one by one (the runner calls `apply`): create, update, unchanged or refuse."""

    def __init__(self, *, by: Actor, now: dt.datetime) -> None:
        self.by, self.now = by, now
        self.seen: dict[str, int] = {}

    def apply(self, line: int, columns: dict[str, str]) -> RowOutcome:
        mrn, fields, errors = patient_fields(columns, now=self.now)
        label = _label(mrn, columns)

        def refused(reasons: list[str]) -> RowOutcome:
            return RowOutcome(line=line, action=REFUSE, label=label, reasons=tuple(reasons))

        if mrn and mrn in self.seen:
            errors.insert(0, f"mrn: MRN {mrn} appears again (first on line {self.seen[mrn]}).")
        elif mrn:
            self.seen[mrn] = line
        if errors:
            return refused(errors + self._field_reasons(fields, errors))
        return row_savepoint(lambda: self._write(line, label, mrn, fields), refused)

    @staticmethod
    def _field_reasons(fields: dict[str, Any], known: list[str]) -> list[str]:
        """Return what the patient form would also refuse in FIELDS, beyond the columns KNOWN already names."""
        named = {reason.split(":")[0] for reason in known}
        usable = {k: v for k, v in fields.items() if k not in named and v is not None}
        try:
            Patient(**usable).full_clean(exclude=["mrn", *named], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            return validation_reasons(exc)
        return []

    def _write(self, line: int, label: str, mrn: str, fields: dict[str, Any]) -> RowOutcome:
        existing = Patient.objects.filter(mrn=mrn).first()
        if existing is None:
            # By date of birth (indexed), then the names: a case-insensitive name match alone scans the table.
            name = (fields["legal_first_name"].casefold(), fields["legal_last_name"].casefold())
            born = Patient.objects.filter(date_of_birth=fields["date_of_birth"]).order_by("pk")
            twin = next(
                (p for p in born if (p.legal_first_name.casefold(), p.legal_last_name.casefold()) == name), None
            )
            if twin is not None:
                reason = (
                    f"mrn: {twin.display_name}, born {twin.date_of_birth:%Y-%m-%d}, "
                    f"is already registered as MRN {twin.mrn}."
                )
                return RowOutcome(line=line, action=REFUSE, label=label, reasons=(reason,))
            patient_create(by=self.by, consent_source="import", mrn=mrn, **fields)
            return RowOutcome(line=line, action=CREATE, label=label)
        if existing.date_of_birth != fields["date_of_birth"] or (
            existing.legal_last_name.casefold() != fields["legal_last_name"].casefold()
        ):
            reason = (
                f"mrn: MRN {mrn} is {existing.legal_first_name} {existing.legal_last_name}, "
                f"born {existing.date_of_birth:%Y-%m-%d}: not this person."
            )
            return RowOutcome(line=line, action=REFUSE, label=label, reasons=(reason,))
        consent = {name for name in fields if name.startswith(("sms_consent", "email_consent"))}
        changes = {
            name: value
            for name, value in fields.items()
            if name not in consent and _comparable(getattr(existing, name)) != _comparable(value)
        }
        if not changes:
            return RowOutcome(line=line, action=UNCHANGED, label=label)
        patient_update(patient=existing, by=self.by, consent_source="import", **changes)
        return RowOutcome(line=line, action=UPDATE, label=label, changes=tuple(sorted(changes)))


def patients_import(
    *,
    rows: Iterable[tuple[int, dict[str, str]]],
    by: Actor,
    commit: bool,
    now: dt.datetime,
    keep_rows: bool = True,
    progress: Callable[[int], Any] | None = None,
) -> ImportReport:
    """Dry-run or commit (all or nothing) the patients of ROWS; see the module docstring for the rules."""
    importer = PatientImporter(by=by, now=now)
    return import_run(rows=rows, apply=importer.apply, commit=commit, keep_rows=keep_rows, progress=progress)


def patients_rows(*, name: str, content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """Return the rows of an uploaded file: a FHIR Bundle (.json) or a CSV (anything else), UTF-8."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportParseError("The file is not UTF-8 text.") from None
    if name.lower().endswith((".json", ".ndjson")) or text.lstrip().startswith("{"):
        return patients_read_fhir(text)
    return patients_read_csv(io.StringIO(text, newline=""))
