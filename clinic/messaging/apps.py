from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "clinic.messaging"
    label = "messaging"
    verbose_name = "Messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from clinic.admin_index import admin_shortcut_register
        from clinic.audit.registry import audit_writes
        from clinic.beat import beat_entry_register
        from clinic.messaging import export_sections  # noqa: F401  (registers the messaging export sections)
        from clinic.messaging.models import ConsentEvent, InboundMessage, TriageAnswer, TriageItem

        from . import checks  # noqa: F401  (registers system checks)

        # Consent changes and the review of patients' replies; the outbox keeps its own MessageEvent trail.
        audit_writes(ConsentEvent)
        audit_writes(InboundMessage)
        audit_writes(TriageItem)
        audit_writes(TriageAnswer)
        beat_entry_register(
            name="messaging-sweep",
            task="messaging.messages_sweep",
            schedule=settings.MESSAGING_SWEEP_SECONDS,
            run_at_start=True,
        )
        admin_shortcut_register(
            section="Today",
            label="Triage inbox",
            url_name="admin:messaging_triageitem_changelist",
            permission="messaging.view_triageitem",
            description="patient replies that need a person, most urgent first",
            position=90,
        )
