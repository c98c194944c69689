from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "clinic.messaging"
    label = "messaging"
    verbose_name = "Messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.audit.registry import audit_writes
        from clinic.messaging import export_sections  # noqa: F401  (registers the messaging export sections)
        from clinic.messaging.models import ConsentEvent, InboundMessage

        from . import checks  # noqa: F401  (registers system checks)

        # Consent changes and the review of patients' replies; the outbox keeps its own MessageEvent trail.
        audit_writes(ConsentEvent)
        audit_writes(InboundMessage)
