from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from clinic.admin_index import admin_shortcut_register
        from clinic.api.enum_names import enum_names_register
        from clinic.audit.registry import audit_writes
        from scheduling import export_sections  # noqa: F401  (registers the appointments export section)
        from scheduling.models import Appointment, AppointmentStatusChange, Series

        for model in (Appointment, Series, AppointmentStatusChange):
            audit_writes(model)
        enum_names_register(
            AppointmentStatusEnum=Appointment.Status, OccurrenceStatusEnum=["free", "conflict", "outside_hours"]
        )
        admin_shortcut_register(
            section="Today",
            label="Day sheet",
            url_name="admin:scheduling_appointment_daysheet",
            permission="scheduling.view_appointment",
            description="appointments by provider and room",
            position=10,
        )
        admin_shortcut_register(
            section="Today",
            label="Book a visit",
            url_name="admin:scheduling_appointment_book",
            permission="scheduling.add_appointment",
            description="with free-slot suggestions",
            position=20,
        )
