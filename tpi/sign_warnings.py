"""Warnings a provider sees before signing: facts worth a second look, never blocks."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from clinic.clock import staff_date
from tpi.models import Injection, Procedure


@dataclass(frozen=True)
class SignWarning:
    """One warning: CODE its kind, KEY what acknowledges it (stable; per site for a repeated site)."""

    code: str
    message: str
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.code)


def procedure_sign_warnings(*, procedure: Procedure) -> list[SignWarning]:
    """Return the pre-sign warnings for PROCEDURE (allergy, anticoagulants, repeat site, steroid load)."""
    patient = procedure.patient
    warnings: list[SignWarning] = []
    if patient.local_anaesthetic_allergy:
        warnings.append(SignWarning("anaesthetic_allergy", "The patient has a local anaesthetic allergy on file."))
    if patient.on_anticoagulants:
        details = f" ({patient.anticoagulant_details})" if patient.anticoagulant_details else ""
        warnings.append(SignWarning("anticoagulants", f"The patient takes anticoagulants{details}."))

    earlier = Injection.objects.filter(procedure__patient=patient, procedure__status=Procedure.Status.SIGNED).exclude(
        procedure=procedure
    )
    own = list(procedure.injections.select_related("site"))
    min_days = settings.TPI_SAME_SITE_MIN_DAYS
    recent = (
        earlier.filter(
            site__in=[i.site_id for i in own],
            procedure__performed_at__gt=procedure.performed_at - timedelta(days=min_days),
            procedure__performed_at__lte=procedure.performed_at,
        )
        .select_related("site", "procedure")
        .order_by("site__name", "-procedure__performed_at")
    )
    seen = set()
    for injection in recent:
        if injection.site_id in seen:
            continue
        seen.add(injection.site_id)
        warnings.append(
            SignWarning(
                "same_site_recent",
                f"{injection.site} was injected on {staff_date(injection.procedure.performed_at)}, "
                f"fewer than {min_days} days before this procedure.",
                key=f"same_site_recent:{injection.site_id}",
            )
        )

    window = settings.TPI_STEROID_WINDOW_DAYS
    earlier_mg = earlier.filter(
        procedure__performed_at__gt=procedure.performed_at - timedelta(days=window),
        procedure__performed_at__lte=procedure.performed_at,
    ).aggregate(total=Sum("steroid_dose_mg"))["total"] or Decimal(0)
    own_mg = sum((i.steroid_dose_mg or Decimal(0) for i in own), Decimal(0))
    total = earlier_mg + own_mg
    threshold = Decimal(str(settings.TPI_STEROID_CUMULATIVE_MAX_MG))
    if total > threshold:
        warnings.append(
            SignWarning(
                "steroid_cumulative",
                f"Cumulative steroid dose over {window} days would be {float(total):g} mg "
                f"(threshold {float(threshold):g} mg).",
            )
        )
    return warnings
