"""Audit of writes: one line per model, e.g. in an AppConfig.ready: `audit_writes(Procedure)`.

django-auditlog records every create, change and delete of a registered model with the actor (from
clinic.audit.middleware), the time, the remote address and the changed fields (old -> new).
"""

from auditlog.registry import auditlog


def audit_writes(model, **options) -> None:
    """Record every create, change and delete of MODEL (options as auditlog's `register`)."""
    if not auditlog.contains(model):
        auditlog.register(model, **options)
