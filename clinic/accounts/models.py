from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone


class BreakGlassGrantQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """Grants that have not yet expired."""
        return self.filter(expires_at__gt=now or timezone.now())


class BreakGlassGrant(models.Model):
    """Time-boxed emergency access by a clinic admin to one patient's chart, with the reason."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_grants")
    patient = models.ForeignKey("clinic.Patient", on_delete=models.PROTECT, related_name="break_glass_grants")
    reason = models.TextField()
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    objects = BreakGlassGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("opened_at")), name="break_glass_ends"),
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("reason"), 10),
                name="break_glass_has_reason",
                violation_error_message="Give the reason for emergency access (at least 10 characters).",
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass #{self.pk} by user {self.user_id} on patient {self.patient_id}"

    @property
    def is_active(self) -> bool:
        """Return True until the grant expires."""
        return self.expires_at > timezone.now()
