"""The clinic's stock of local anaesthetic vials: the lots the injection rows offer as quick picks."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models

from .procedures import Injection


class StockLotQuerySet(models.QuerySet["StockLot"]):
    def current(self, *, on: dt.date) -> "StockLotQuerySet":
        """Lots offered as quick picks ON a clinic day: active and not expired (usable through expires_on)."""
        return self.filter(is_active=True, expires_on__gte=on)

    def refusal(self, *, agent: str, lot_number: str, on: dt.date) -> str | None:
        """Return why LOT_NUMBER may not be recorded for AGENT on the clinic day ON, or None.

        A lot the stock list does not know is accepted (the list is a convenience, not a register);
        a known lot is refused when it expired before that day or belongs to another agent.
        """
        lots: list[StockLot] = list(self.filter(lot_number=lot_number.strip()))
        if not lots:
            return None
        same_agent = [lot for lot in lots if lot.agent == agent]
        if agent and not same_agent:
            other = lots[0]
            return f"Lot {other.lot_number} is a {other.get_agent_display().lower()} lot, not {agent}."
        candidates: list[StockLot] = same_agent or lots
        lot = max(candidates, key=_expiry)
        if lot.expires_on < on:
            return (
                f"Lot {lot.lot_number} ({lot.label_agent}) expired on {lot.expires_on:%Y-%m-%d}; "
                "take a vial from a current lot."
            )
        return None


def _expiry(lot: "StockLot") -> dt.date:
    return lot.expires_on


class StockLot(models.Model):
    """One lot of a local anaesthetic the clinic keeps: offered as a quick pick while active and unexpired."""

    agent = models.CharField(max_length=12, choices=Injection.Anaesthetic.choices)
    concentration_percent = models.DecimalField("concentration (%)", max_digits=4, decimal_places=2)
    lot_number = models.CharField(max_length=40)
    expires_on = models.DateField(help_text="The vial's expiry date: usable through this day")
    is_active = models.BooleanField(default=True, help_text="Untick when the lot is used up or withdrawn")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StockLotQuerySet.as_manager()

    class Meta:
        ordering = ["agent", "concentration_percent", "expires_on", "lot_number"]
        verbose_name = "stocked anaesthetic lot"
        constraints = [
            models.UniqueConstraint(fields=["agent", "lot_number"], name="stocklot_once_per_agent"),
            models.CheckConstraint(condition=models.Q(concentration_percent__gt=0), name="stocklot_concentration_gt_0"),
            models.CheckConstraint(condition=~models.Q(lot_number=""), name="stocklot_lot_number_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.label_agent} lot {self.lot_number} (expires {self.expires_on:%Y-%m-%d})"

    @property
    def label_agent(self) -> str:
        """Return the agent with its strength, as the quick pick shows it ("Lidocaine 1%")."""
        return f"{self.get_agent_display()} {self.concentration_percent.normalize():f}%"

    def clean(self) -> None:
        self.lot_number = self.lot_number.strip()
        if not self.lot_number:
            raise ValidationError({"lot_number": "This field is required."})
        if self.concentration_percent is not None and self.concentration_percent <= 0:
            raise ValidationError({"concentration_percent": "Must be greater than zero."})
