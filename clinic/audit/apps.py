from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "clinic.audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from clinic.accounts.models import BreakGlassGrant
        from clinic.audit import export_sections  # noqa: F401  (registers the core's export section)
        from clinic.audit.registry import audit_writes
        from clinic.models import Patient, Provider

        audit_writes(Patient)
        audit_writes(Provider)
        audit_writes(BreakGlassGrant)
