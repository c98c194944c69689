from django.core.exceptions import PermissionDenied

from clinic.exceptions import StateConflict


class ProcedureStateConflict(StateConflict):
    """The procedure is not in a state that allows this action (e.g. editing or signing a signed note)."""


class ProcedureActionNotAllowed(PermissionDenied):
    """The user may not perform this action on this procedure (e.g. signing another provider's note)."""
