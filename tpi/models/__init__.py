from .followups import FollowUp
from .plans import PlanOccurrence, TreatmentPlan
from .procedures import Addendum, Injection, MassageNote, Procedure
from .sites import TriggerPointSite

__all__ = [
    "Addendum",
    "FollowUp",
    "Injection",
    "MassageNote",
    "PlanOccurrence",
    "Procedure",
    "TreatmentPlan",
    "TriggerPointSite",
]
