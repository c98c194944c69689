"""Domain exceptions shared by every app's services; the API maps them to HTTP status codes."""


class StateConflict(Exception):
    """The action clashes with the record's current state (already signed, voided, ...): HTTP 409."""

    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
