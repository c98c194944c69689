"""Right-of-access export: a patient's complete record as JSON, assembled from every app's section.

Each app contributes its part without the core importing it, e.g. in tpi's AppConfig.ready:

    from clinic.audit.export import export_section

    @export_section("procedures")
    def procedures(patient):
        return [model_fields(p) for p in patient.procedures.all()]

Sections return JSON-ready data (see `model_fields` / `plain`).
"""

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from clinic.models import Patient
from clinic.roles import is_clinic_admin

EXPORT_FORMAT = "tpi-clinic.patient-record/1"

_sections: dict[str, Callable[[Patient], Any]] = {}


def export_section(name: str) -> Callable[[Callable[[Patient], Any]], Callable[[Patient], Any]]:
    """Register the decorated `fn(patient) -> JSON-ready data` as section NAME of the export."""

    def register(fn: Callable[[Patient], Any]) -> Callable[[Patient], Any]:
        if name in _sections and _sections[name] is not fn:
            raise ValueError(f"export section {name!r} is already registered")
        _sections[name] = fn
        return fn

    return register


def export_sections() -> dict[str, Callable[[Patient], Any]]:
    """Return the registered sections by name."""
    return dict(_sections)


def plain(value: Any) -> Any:
    """Return VALUE as JSON-ready data (ISO dates, strings for phone numbers, decimals and UUIDs)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)


def model_fields(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return every concrete field of OBJ (foreign keys as ids) as JSON-ready data."""
    return {
        field.attname: plain(field.value_from_object(obj))
        for field in obj._meta.concrete_fields
        if field.name not in exclude and field.attname not in exclude
    }


def patient_record_export(
    *, user: User, patient: Patient, request: HttpRequest | Request | None = None
) -> dict[str, Any]:
    """Return PATIENT's complete record for a right-of-access request; clinic admins only; audited."""
    if not is_clinic_admin(user):
        raise PermissionDenied("Only a clinic admin may export a patient's record.")
    with transaction.atomic():
        record = {
            "format": EXPORT_FORMAT,
            "generated_at": timezone.now().isoformat(),
            "patient": {"id": patient.pk, "mrn": patient.mrn},
            "sections": {name: fn(patient) for name, fn in sorted(_sections.items())},
        }
        access_record(user=user, patient=patient, obj=patient, action=AccessLog.Action.EXPORT, request=request)
    return record
