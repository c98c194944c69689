"""The FHIR resource types served: which rows each comes from, who may read them, and their search parameters.

Every type follows the REST API's rules for the rows behind it: the model permission of its role matrix
(`<app>/roles.py`) and, for clinical rows, the object rules of tpi.access (a provider reads their own
procedures and, during a break-glass grant, that patient's; a massage therapist reads procedure basics
only, no medication or pain scores). Consent and Communication follow the messaging log's permissions.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from clinic.accounts.actors import AnyUser
from clinic.messaging.models import ConsentEvent, Message
from clinic.models import Patient, Provider
from scheduling.models import Appointment
from tpi.access import clinical_rows_visible, procedure_shows_clinical_detail
from tpi.fhir import codes, resources
from tpi.fhir.resources import Resource
from tpi.models import FollowUp, Injection, Procedure


class SearchError(ValueError):
    """A search parameter this server does not know, or a value it cannot read (a 400 OperationOutcome)."""


def _int(value: str, *, name: str, prefix: str = "") -> int:
    raw = value.removeprefix(prefix) if prefix and value.startswith(prefix) else value
    if not raw.isdigit():
        raise SearchError(f"{name}: {value!r} is not an id{' (' + prefix + '<id>)' if prefix else ''}.")
    return int(raw)


def _token(value: str) -> tuple[str | None, str]:
    """Split a token search value "system|code" (or a bare "code") into (system or None, code)."""
    if "|" in value:
        system, code = value.split("|", 1)
        return system, code
    return None, value


DATE_PREFIXES = {"eq": "", "lt": "__lt", "le": "__lte", "gt": "__gt", "ge": "__gte"}


def _date_filter(field_name: str, value: str, *, name: str) -> Q:
    prefix = value[:2] if value[:2] in DATE_PREFIXES or value[:2].isalpha() else "eq"
    raw = value[2:] if value[:2].isalpha() else value
    if prefix not in DATE_PREFIXES:
        raise SearchError(f"{name}: the prefix {prefix!r} is not supported (eq, lt, le, gt, ge).")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise SearchError(f"{name}: {value!r} is not a date (YYYY-MM-DD).") from None
    return Q(**{f"{field_name}{DATE_PREFIXES[prefix]}": day})


@dataclass(frozen=True)
class ResourceType:
    """One FHIR resource type: its rows, its readers and its search parameters."""

    name: str
    permissions: tuple[str, ...]
    base: Callable[[], QuerySet[Any]]  # every row, with what the builder reads loaded
    build: Callable[[Any, bool], list[Resource]]  # a row (and whether the reader sees clinical detail)
    patient_field: str | None  # the row's patient id, for ?patient= and $everything
    params: dict[str, Callable[[str], Q]] = field(default_factory=dict)
    visible: Callable[[AnyUser | None, QuerySet[Any]], QuerySet[Any]] = lambda user, queryset: queryset
    # The database id of the row behind a resource id (None: no row of ours); derived resources have their own.
    locate: Callable[[str], int | None] = lambda resource_id: int(resource_id) if resource_id.isdigit() else None
    description: str = ""
    one_per_row: bool = True

    def may_read(self, user: AnyUser | None) -> bool:
        return user is not None and all(user.has_perm(perm) for perm in self.permissions)

    def rows(self, user: AnyUser | None) -> QuerySet[Any]:
        """Return the rows USER may read (every row for USER None: the system's bulk export)."""
        queryset = self.base()
        return queryset if user is None else self.visible(user, queryset)

    def search(self, user: AnyUser | None, query: Iterable[tuple[str, str]]) -> QuerySet[Any]:
        """Return the rows USER may read that match every (parameter, value) of QUERY."""
        queryset = self.rows(user)
        for name, value in query:
            if name not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                raise SearchError(f"Unknown search parameter {name!r} for {self.name} (supported: {known}).")
            if value == "":
                raise SearchError(f"{name}: give a value.")
            queryset = queryset.filter(self.params[name](value))
        return queryset


def _injection_id(resource_id: str) -> int | None:
    match = re.fullmatch(r"injection-([0-9]+)-(anaesthetic|steroid)", resource_id)
    return int(match.group(1)) if match else None


def _observation_procedure_id(resource_id: str) -> int | None:
    """Return the procedure behind a pain score id: "procedure-<id>-before|after" or "followup-<id>"."""
    match = re.fullmatch(r"procedure-([0-9]+)-(before|after)", resource_id)
    if match:
        return int(match.group(1))
    match = re.fullmatch(r"followup-([0-9]+)", resource_id)
    if match:
        return FollowUp.objects.filter(pk=int(match.group(1))).values_list("procedure_id", flat=True).first()
    return None


def _patient_param(field_name: str) -> Callable[[str], Q]:
    return lambda value: Q(**{field_name: _int(value, name="patient", prefix="Patient/")})


def _patient_identifier(value: str) -> Q:
    from django.conf import settings

    system, code = _token(value)
    if system not in (None, "", settings.TPI_FHIR_MRN_SYSTEM):
        return Q(pk__in=[])  # another organisation's identifier: no patient of ours
    return Q(mrn=code)


def _name(*fields: str) -> Callable[[str], Q]:
    def build(value: str) -> Q:
        condition = Q()
        for name in fields:
            condition |= Q(**{f"{name}__istartswith": value})
        return condition

    return build


def _patients() -> QuerySet[Patient]:
    return Patient.objects.order_by("pk")


def _providers() -> QuerySet[Provider]:
    return Provider.objects.select_related("user").order_by("pk")


def _procedures() -> QuerySet[Procedure]:
    return (
        Procedure.objects.with_muscle_count()
        .select_related("patient", "provider__user")
        .prefetch_related(Prefetch("injections", queryset=Injection.objects.select_related("site")), "follow_ups")
        .order_by("pk")
    )


def _injections() -> QuerySet[Injection]:
    return (
        Injection.objects.filter(dry_needling=False)
        .select_related("site", "procedure__patient", "procedure__provider__user")
        .order_by("pk")
    )


def _appointments() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("patient", "provider__user", "room", "appointment_type").order_by("pk")


def _consent_events() -> QuerySet[ConsentEvent]:
    later = ConsentEvent.objects.filter(patient_id=OuterRef("patient_id"), channel=OuterRef("channel")).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    )
    return (
        ConsentEvent.objects.annotate(superseded=Exists(later))
        .select_related("patient", "by__provider__user")
        .order_by("pk")
    )


def _messages() -> QuerySet[Message]:
    return Message.objects.filter(status__in=codes.COMMUNICATION_STATUSES).select_related("patient").order_by("pk")


def _procedure_status(value: str) -> Q:
    statuses = [status for status, fhir in codes.PROCEDURE_STATUS.items() if fhir in value.split(",")]
    return Q(status__in=statuses)


def _clinical(user: AnyUser | None, queryset: QuerySet[Any]) -> QuerySet[Any]:
    return clinical_rows_visible(user=user, queryset=queryset)


PATIENT = ResourceType(
    name="Patient",
    permissions=("clinic.view_patient",),
    base=_patients,
    build=lambda patient, detail: [resources.patient_resource(patient)],
    patient_field="pk",
    params={
        "_id": lambda value: Q(pk=_int(value, name="_id")),
        "identifier": _patient_identifier,
        "name": _name("legal_first_name", "legal_last_name", "preferred_name"),
        "family": _name("legal_last_name"),
        "given": _name("legal_first_name", "preferred_name"),
        "birthdate": lambda value: _date_filter("date_of_birth", value, name="birthdate"),
    },
    description="Read; search by _id, identifier (MRN), name, family, given, birthdate",
)
PRACTITIONER = ResourceType(
    name="Practitioner",
    permissions=("clinic.view_provider",),
    base=_providers,
    build=lambda provider, detail: [resources.practitioner_resource(provider)],
    patient_field=None,
    params={
        "_id": lambda value: Q(pk=_int(value, name="_id")),
        "identifier": lambda value: (
            Q(npi=_token(value)[1]) if _token(value)[0] in (None, "", codes.NPI) else Q(pk=None)
        ),
        "name": _name("user__first_name", "user__last_name"),
    },
    description="Read; search by _id, identifier (NPI), name",
)
PROCEDURE = ResourceType(
    name="Procedure",
    permissions=("tpi.view_procedure",),
    base=_procedures,
    build=lambda procedure, detail: [resources.procedure_resource(procedure, detail=detail)],
    patient_field="patient_id",
    params={
        "_id": lambda value: Q(pk=_int(value, name="_id")),
        "patient": _patient_param("patient_id"),
        "subject": _patient_param("patient_id"),
        "status": _procedure_status,
    },
    visible=_clinical,
    description="Read; search by patient (subject), _id, status",
)
MEDICATION_ADMINISTRATION = ResourceType(
    name="MedicationAdministration",
    permissions=("tpi.view_procedure", "tpi.view_injection"),
    base=_injections,
    build=lambda injection, detail: resources.medication_administrations(injection),
    patient_field="procedure__patient_id",
    params={"patient": _patient_param("procedure__patient_id"), "subject": _patient_param("procedure__patient_id")},
    visible=_clinical,
    locate=_injection_id,
    one_per_row=False,
    description="The anaesthetic and steroid of each injected site. Read; search by patient (subject)",
)
OBSERVATION = ResourceType(
    name="Observation",
    permissions=("tpi.view_procedure", "tpi.view_injection"),
    base=_procedures,
    build=lambda procedure, detail: resources.pain_observations(procedure),
    patient_field="patient_id",
    params={"patient": _patient_param("patient_id"), "subject": _patient_param("patient_id")},
    visible=_clinical,
    locate=_observation_procedure_id,
    one_per_row=False,
    description="Pain scores (LOINC 72514-3): in clinic before and after, and the patients' answers. "
    "Read; search by patient (subject)",
)
APPOINTMENT = ResourceType(
    name="Appointment",
    permissions=("scheduling.view_appointment",),
    base=_appointments,
    build=lambda appointment, detail: [resources.appointment_resource(appointment)],
    patient_field="patient_id",
    params={
        "_id": lambda value: Q(pk=_int(value, name="_id")),
        "patient": _patient_param("patient_id"),
        "actor": lambda value: (
            Q(patient_id=_int(value, name="actor", prefix="Patient/"))
            if not value.startswith("Practitioner/")
            else Q(provider_id=_int(value, name="actor", prefix="Practitioner/"))
        ),
        "date": lambda value: _date_filter("start__date", value, name="date"),
    },
    description="Read; search by patient, actor (Patient/<id> or Practitioner/<id>), date, _id",
)
CONSENT = ResourceType(
    name="Consent",
    permissions=("messaging.view_consentevent",),
    base=_consent_events,
    build=lambda event, detail: [resources.consent_resource(event, current=not event.superseded)],
    patient_field="patient_id",
    params={"_id": lambda value: Q(pk=_int(value, name="_id")), "patient": _patient_param("patient_id")},
    description="Each change of SMS or email consent (the latest per channel active). Read; search by patient, _id",
)
COMMUNICATION = ResourceType(
    name="Communication",
    permissions=("messaging.view_message",),
    base=_messages,
    build=lambda message, detail: [resources.communication_resource(message)],
    patient_field="patient_id",
    params={
        "_id": lambda value: Q(pk=_int(value, name="_id")),
        "patient": _patient_param("patient_id"),
        "subject": _patient_param("patient_id"),
    },
    description="Messages sent to patients (SMS, email). Read; search by patient (subject), _id",
)

RESOURCE_TYPES: dict[str, ResourceType] = {
    t.name: t
    for t in (
        PATIENT,
        PRACTITIONER,
        PROCEDURE,
        MEDICATION_ADMINISTRATION,
        OBSERVATION,
        APPOINTMENT,
        CONSENT,
        COMMUNICATION,
    )
}


def shows_detail(user: AnyUser | None) -> bool:
    """Return True when USER reads clinical detail (every reader but massage therapists; the system export too)."""
    return user is None or procedure_shows_clinical_detail(user=user)


def resources_of(resource_type: ResourceType, rows: Iterable[Any], user: AnyUser | None) -> Iterable[Resource]:
    """Yield the resources of ROWS as USER may read them."""
    detail = shows_detail(user)
    for row in rows:
        yield from resource_type.build(row, detail)
