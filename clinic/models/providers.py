from typing import Any

from django.conf import settings
from django.db import models

from clinic.validators import validate_npi


class Provider(models.Model):
    """A staff member who sees patients: the clinical profile on a Django user."""

    class Role(models.TextChoices):
        PHYSICIAN = "physician", "Physician"
        NP_PA = "np_pa", "Nurse practitioner / physician assistant"
        MASSAGE_THERAPIST = "massage_therapist", "Massage therapist"
        NURSE = "nurse", "Nurse"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider")
    role = models.CharField(max_length=32, choices=Role.choices)
    credentials = models.CharField(max_length=100, blank=True, help_text="e.g. MD, DO, NP-C, LMT")
    npi = models.CharField(
        "NPI", max_length=10, blank=True, validators=[validate_npi], help_text="10-digit National Provider Identifier"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["npi"], condition=~models.Q(npi=""), name="provider_npi_unique"),
        ]

    def __str__(self) -> str:
        name = self.user.get_full_name() or self.user.get_username()
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def is_injector(self) -> bool:
        """Return True when this role may perform injections."""
        return self.role in (self.Role.PHYSICIAN, self.Role.NP_PA)


def staff_name(user: Any) -> str:
    """Return how a signed note names USER: "Dana Lee, MD" (full name and credentials), never a bare login."""
    if user is None:
        return ""
    provider = getattr(user, "provider", None)
    if provider is not None:
        return str(provider)
    return user.get_full_name() or user.get_username()
