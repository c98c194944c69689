from django.apps import AppConfig


class TpiConfig(AppConfig):
    name = "tpi"
    verbose_name = "Trigger point injections"

    def ready(self) -> None:
        from celery.schedules import crontab
        from django.conf import settings

        from clinic.admin_index import admin_shortcut_register
        from clinic.api.enum_names import enum_names_register
        from clinic.audit.registry import audit_writes
        from clinic.beat import beat_entry_register
        from clinic.messaging.content import phi_words_register
        from clinic.messaging.prompts import prompt_purposes_register
        from clinic.messaging.signals import reply_received
        from clinic.messaging.triage import triage_context_register
        from scheduling.appointment_links import appointment_links_register
        from tpi import (
            export_sections,  # noqa: F401  (registers tpi's export sections)
            plan_replies,
            plan_tasks,  # noqa: F401  (registers the plan tasks; autodiscovery only finds tpi.tasks)
            repeat_replies,
            replies,
        )
        from tpi.models import (
            Addendum,
            FollowUp,
            Injection,
            MassagedSite,
            MassageNote,
            MassageNoteAddendum,
            PlanOccurrence,
            Procedure,
            RepeatOffer,
            TreatmentPlan,
        )
        from tpi.phi_words import PHI_WORDS
        from tpi.visit_links import visit_links

        # Sign and void are updates of `status` (and signed_/voided_ fields): the log shows them.
        for model in (Procedure, Injection, Addendum, FollowUp, TreatmentPlan, PlanOccurrence, RepeatOffer):
            audit_writes(model)
        # A massage note's sites are MassagedSite rows (with their side): each row's write is logged.
        for massage_model in (MassageNote, MassagedSite, MassageNoteAddendum):
            audit_writes(massage_model)
        enum_names_register(ProcedureStatusEnum=Procedure.Status, MassageNoteStatusEnum=MassageNote.Status)

        # Pain scores and BOOK requests: each receiver takes only its own kind of reply.
        reply_received.connect(replies.handle, dispatch_uid="tpi.replies")
        reply_received.connect(plan_replies.handle, dispatch_uid="tpi.plan_replies")
        # BOOK / YES answering a repeat offer's text (the latest question asked): never a plan's BOOK.
        reply_received.connect(repeat_replies.handle, dispatch_uid="tpi.repeat_replies")
        # The check-in and the reassessment ask for a pain score: a later bare YES does not answer an earlier reminder.
        prompt_purposes_register(FollowUp.Kind.CHECK_IN, FollowUp.Kind.REASSESSMENT)
        # The repeat offer asks "reply BOOK", then "reply YES to book it" (tpi.repeat_offers).
        prompt_purposes_register("repeat_offer", "repeat_slot")
        # A free-text reply nobody took is linked, in the triage inbox, to the recent follow-up it answers.
        triage_context_register("tpi.followups", replies.followup_context)
        phi_words_register(*PHI_WORDS)
        beat_entry_register(
            name="tpi-followups-sweep",
            task="tpi.followups_sweep",
            schedule=settings.TPI_FOLLOWUP_SWEEP_SECONDS,
            run_at_start=True,
        )
        beat_entry_register(
            name="tpi-plans-book-due",
            task="tpi.plans_book_due",
            schedule=crontab(minute=0, hour=settings.TPI_PLAN_BOOKING_RUN_HOUR_UTC),
        )
        beat_entry_register(
            name="tpi-outcome-totals-refresh",
            task="tpi.outcome_totals_refresh",
            schedule=settings.TPI_OUTCOMES_TOTALS_REFRESH_SECONDS,
        )
        beat_entry_register(
            name="tpi-fhir-exports-resume",
            task="tpi.fhir_exports_resume",
            schedule=settings.TPI_FHIR_EXPORT_RESUME_SECONDS,
        )
        appointment_links_register(name="tpi", source=visit_links)
        admin_shortcut_register(
            section="Today",
            label="Follow-ups",
            url_name="admin:tpi_followup_changelist",
            permission="tpi.view_followup",
            description="due today, answered, failed, needing review",
            position=30,
        )
        admin_shortcut_register(
            section="Records",
            label="FHIR bulk export",
            url_name="admin:tpi_fhirexport_changelist",
            permission="tpi.view_fhirexport",
            description="every record of the clinic as FHIR files, for another system",
            position=90,
        )
        admin_shortcut_register(
            section="Outcomes",
            label="Results",
            url_name="admin:tpi_procedureoutcome_changelist",
            permission="tpi.view_procedureoutcome",
            description="responders at 72 hours and one month, relief, steroid load",
            position=60,
        )
        admin_shortcut_register(
            section="Outcomes",
            label="Consider repeat",
            url_name="admin:tpi_procedureoutcome_repeat",
            permission="tpi.view_procedureoutcome",
            description="relief worn off, nothing booked or planned",
            position=61,
        )
