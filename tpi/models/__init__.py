from .followups import FollowUp
from .procedures import Addendum, Injection, MassageNote, Procedure
from .sites import TriggerPointSite

__all__ = ["Addendum", "FollowUp", "Injection", "MassageNote", "Procedure", "TriggerPointSite"]
