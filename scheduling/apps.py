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
        from clinic.messaging.prompts import prompt_purposes_register
        from clinic.messaging.signals import reply_received
        from clinic.messaging.triage import triage_context_register
        from scheduling import (
            checks,  # noqa: F401  (registers the system checks)
            export_sections,  # noqa: F401  (registers the appointments export section)
            replies,
            tasks,  # noqa: F401  (registers the reminder and waitlist sweep tasks)
            waitlist_replies,
        )
        from scheduling.models import Appointment, AppointmentStatusChange, Series, WaitlistEntry, WaitlistOffer
        from scheduling.reminders import REMINDER_PURPOSE

        for model in (Appointment, Series, AppointmentStatusChange, WaitlistEntry, WaitlistOffer):
            audit_writes(model)
        # The waitlist: a YES takes an offer only when the offer is the patient's latest question.
        prompt_purposes_register("waitlist_offer")
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
            section="Numbers",
            label="Reminder numbers",
            url_name="admin:scheduling_appointment_numbers",
            permission="scheduling.view_appointment_numbers",
            description="confirmation and no-show rates per month",
            position=90,
        )
        # Reminders: the sweep claims due AppointmentReminder rows; C / YES / SI / R answer them.
        beat_entry_register(
            name="scheduling-reminders-sweep",
            task="scheduling.reminders_sweep",
            schedule=settings.SCHEDULING_REMINDER_SWEEP_SECONDS,
            run_at_start=True,
        )
        reply_received.connect(replies.handle, dispatch_uid="scheduling.replies")
        # An R (or free text) after a reminder is linked, in the triage inbox, to the visit it is about.
        triage_context_register("scheduling.reminders", replies.reminder_context)
        prompt_purposes_register(REMINDER_PURPOSE)
        admin_shortcut_register(
            section="Today",
            label="Waitlist",
            url_name="admin:scheduling_waitlistentry_changelist",
            permission="scheduling.view_waitlistentry",
            description="patients waiting for an earlier visit",
            position=30,
        )
