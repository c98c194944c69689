from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from clinic.audit.registry import audit_writes
        from scheduling import export_sections  # noqa: F401  (registers the appointments export section)
        from scheduling.models import Appointment, AppointmentStatusChange, Series

        for model in (Appointment, Series, AppointmentStatusChange):
            audit_writes(model)
