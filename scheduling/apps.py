from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from django.conf import settings

        from clinic.admin_index import admin_shortcut_register
        from clinic.api.enum_names import enum_names_register
        from clinic.audit.registry import audit_writes
        from clinic.beat import beat_entry_register
        from clinic.messaging.questions import question_purposes_register
        from clinic.messaging.signals import reply_received
        from scheduling import (
            export_sections,  # noqa: F401  (registers the appointments export section)
            waitlist_replies,
        )
        from scheduling.models import Appointment, AppointmentStatusChange, Series, WaitlistEntry, WaitlistOffer

        for model in (Appointment, Series, AppointmentStatusChange, WaitlistEntry, WaitlistOffer):
            audit_writes(model)
        # The waitlist: a YES takes an offer only when the offer is the patient's latest question.
        question_purposes_register("waitlist_offer")
        reply_received.connect(waitlist_replies.handle, dispatch_uid="scheduling.waitlist_replies")
        beat_entry_register(
            name="scheduling-waitlist-sweep",
            task="scheduling.waitlist_sweep",
            schedule=settings.SCHEDULING_WAITLIST_SWEEP_SECONDS,
            run_at_start=True,
        )
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
        admin_shortcut_register(
            section="Today",
            label="Waitlist",
            url_name="admin:scheduling_waitlistentry_changelist",
            permission="scheduling.view_waitlistentry",
            description="patients waiting for an earlier visit",
            position=30,
        )
