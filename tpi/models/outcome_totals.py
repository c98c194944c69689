"""Stored totals of the results dashboard (filled by tpi.outcome_totals, read by tpi.outcome_stats).

Derived data, rebuilt from the procedures at any time: nothing here is a record of its own. A row sums
the signed procedures performed on one clinic day (`period` "day") or in one clinic month ("month",
`day` its first day) at one location (None: no visit) by one provider, and, per table, in one
treatment group, at one site, or with one relief duration. Each count adds up across rows: a procedure
lies in exactly one day, location, provider and treatment group, counts once per site it treated, and
has one relief duration.
"""

from django.db import models


class Period(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class TotalsKey(models.Model):
    period = models.CharField(max_length=5, choices=Period.choices)
    day = models.DateField()
    location = models.ForeignKey("scheduling.Location", null=True, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey("clinic.Provider", on_delete=models.CASCADE, related_name="+")
    procedures = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.period} {self.day} provider {self.provider_id} location {self.location_id}"


class RateCounts(models.Model):
    """Answered (n), responders (k) and substantial responders (s) at 72 hours (ci) and one month (re)."""

    ci_n = models.PositiveIntegerField(default=0)
    ci_k = models.PositiveIntegerField(default=0)
    ci_s = models.PositiveIntegerField(default=0)
    re_n = models.PositiveIntegerField(default=0)
    re_k = models.PositiveIntegerField(default=0)
    re_s = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class OutcomeTotal(TotalsKey, RateCounts):
    """Per treatment group: the rates, and the follow-ups sent and answered of those sent."""

    treatment = models.CharField(max_length=12)
    ci_sent = models.PositiveIntegerField(default=0)
    re_sent = models.PositiveIntegerField(default=0)
    ci_answered_of_sent = models.PositiveIntegerField(default=0)
    re_answered_of_sent = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["period", "day"], name="tpi_outcome_total_day")]


class OutcomeSiteTotal(TotalsKey, RateCounts):
    """Per trigger point site (muscle): each procedure counts once per site it treated."""

    site = models.ForeignKey("tpi.TriggerPointSite", on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["period", "day"], name="tpi_outcome_site_total_day")]


class OutcomeReliefTotal(TotalsKey):
    """The relief-duration histogram: procedures whose relief lasted `relief_days` (censored or not)."""

    relief_days = models.IntegerField()
    censored = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["period", "day"], name="tpi_outcome_relief_total_day")]


class OutcomeTotalsState(models.Model):
    """The one row saying how far the totals reach: every day before `watermark` is stored."""

    watermark = models.DateField(null=True)
    definitions = models.CharField(max_length=100, blank=True)  # the settings the totals were computed with
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"outcome totals up to {self.watermark}"


class OutcomeDirtyDay(models.Model):
    """A stored day that changed after it was totalled (late answer, sign, void): live until refreshed."""

    day = models.DateField(db_index=True)

    def __str__(self) -> str:
        return f"outcome day {self.day} changed"
