"""scheduling's section of the right-of-access export (clinic.audit.export): the appointments."""

from clinic.audit.export import export_section, model_fields
from clinic.models import Patient
from scheduling.models import Appointment, Series


@export_section("appointments")
def appointments(patient: Patient) -> list[dict]:
    return [model_fields(a) for a in Appointment.objects.filter(patient=patient).order_by("start", "id")]


@export_section("appointment_series")
def appointment_series(patient: Patient) -> list[dict]:
    return [model_fields(s) for s in Series.objects.filter(patient=patient).order_by("id")]
