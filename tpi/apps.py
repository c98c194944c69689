from django.apps import AppConfig


class TpiConfig(AppConfig):
    name = "tpi"
    verbose_name = "Trigger point injections"

    def ready(self) -> None:
        from clinic.audit.registry import audit_writes
        from tpi import (
            export_sections,  # noqa: F401  (registers tpi's export sections)
            plan_tasks,  # noqa: F401  (registers the plan tasks; autodiscovery only finds tpi.tasks)
        )
        from tpi.models import Addendum, FollowUp, Injection, MassageNote, PlanOccurrence, Procedure, TreatmentPlan

        # Sign and void are updates of `status` (and signed_/voided_ fields): the log shows them.
        for model in (Procedure, Injection, Addendum, FollowUp, TreatmentPlan, PlanOccurrence):
            audit_writes(model)
        audit_writes(MassageNote, m2m_fields={"sites"})
