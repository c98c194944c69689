"""Break-glass: a clinic admin's time-boxed, reasoned, recorded access to one patient's chart."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import BreakGlassGrant
from clinic.models import Patient
from clinic.roles import is_clinic_admin

MIN_REASON_LENGTH = 10


def break_glass_open(*, user: User, patient: Patient, reason: str) -> BreakGlassGrant:
    """Open emergency access for USER to PATIENT's chart for BREAK_GLASS_MINUTES; the reason is required."""
    if not is_clinic_admin(user):
        raise PermissionDenied("Only a clinic admin may open break-glass access.")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ValidationError(
            {"reason": [f"Give the reason for emergency access (at least {MIN_REASON_LENGTH} characters)."]}
        )
    now = timezone.now()
    with transaction.atomic():
        return BreakGlassGrant.objects.create(
            user=user,
            patient=patient,
            reason=reason,
            opened_at=now,
            expires_at=now + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
        )
