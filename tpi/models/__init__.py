from .followups import FollowUp
from .plans import PlanOccurrence, TreatmentPlan
from .procedures import (
    Addendum,
    Injection,
    Laterality,
    MassagedSite,
    MassageNote,
    MassageNoteAddendum,
    Procedure,
    SignAcknowledgement,
)
from .sites import TriggerPointSite
from .stock import StockLot

__all__ = [
    "Addendum",
    "FollowUp",
    "Injection",
    "Laterality",
    "MassageNote",
    "MassageNoteAddendum",
    "MassagedSite",
    "PlanOccurrence",
    "Procedure",
    "SignAcknowledgement",
    "StockLot",
    "TreatmentPlan",
    "TriggerPointSite",
]
