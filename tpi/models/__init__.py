from .followups import FollowUp
from .plans import PlanOccurrence, TreatmentPlan
from .procedures import Addendum, Injection, Laterality, MassagedSite, MassageNote, MassageNoteAddendum, Procedure
from .sites import TriggerPointSite

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
    "TreatmentPlan",
    "TriggerPointSite",
]
