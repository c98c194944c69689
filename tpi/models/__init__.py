from .fhir_export import FhirExport, FhirExportDownload
from .followups import FollowUp
from .outcome_totals import (
    OutcomeDirtyDay,
    OutcomeReliefTotal,
    OutcomeSiteTotal,
    OutcomeTotal,
    OutcomeTotalsState,
)
from .outcomes import ProcedureOutcome
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
from .repeat_offers import RepeatOffer
from .sites import TriggerPointSite
from .stock import StockLot

__all__ = [
    "Addendum",
    "FhirExport",
    "FhirExportDownload",
    "FollowUp",
    "Injection",
    "Laterality",
    "MassageNote",
    "MassageNoteAddendum",
    "MassagedSite",
    "OutcomeDirtyDay",
    "OutcomeReliefTotal",
    "OutcomeSiteTotal",
    "OutcomeTotal",
    "OutcomeTotalsState",
    "PlanOccurrence",
    "Procedure",
    "ProcedureOutcome",
    "RepeatOffer",
    "SignAcknowledgement",
    "StockLot",
    "TreatmentPlan",
    "TriggerPointSite",
]
