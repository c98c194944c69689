"""One transition table per status field.

A status field's table is the single statement of which status may follow which. Services read it
to refuse a move (`check`) and to build conditional updates that claim a row only while it is in a
status the move may start from (`sources`); admin actions, templates and the API read it to offer
only the moves that can succeed (`targets`). A new status is one edit here plus its migration.

Kept in-house rather than django-fsm style decorators: our moves are conditional `UPDATE ... WHERE
status IN (...)` statements (claims that must touch exactly one row), not in-memory `save()` calls.
"""

from collections.abc import Iterable, Mapping


class TransitionNotAllowed(ValueError):
    """A move from one status to another that the table does not allow."""

    def __init__(self, field: str, current: str, target: str) -> None:
        self.field, self.current, self.target = field, current, target
        super().__init__(f"{field} cannot go from {current!r} to {target!r}")


class Transitions:
    """The allowed moves of one status field: {status: statuses it may move to}."""

    def __init__(self, field: str, table: Mapping[str, Iterable[str]]) -> None:
        self.field = field
        self._table = {str(status): frozenset(str(t) for t in targets) for status, targets in table.items()}
        unknown = {t for targets in self._table.values() for t in targets} - set(self._table)
        if unknown:
            raise ValueError(f"{field}: targets {sorted(unknown)} have no row of their own")

    @property
    def statuses(self) -> frozenset[str]:
        """Return every status the field can hold."""
        return frozenset(self._table)

    @property
    def terminal(self) -> frozenset[str]:
        """Return the statuses nothing moves on from."""
        return frozenset(status for status, targets in self._table.items() if not targets)

    def targets(self, current: str) -> frozenset[str]:
        """Return the statuses CURRENT may move to."""
        return self._table[str(current)]

    def sources(self, target: str) -> frozenset[str]:
        """Return the statuses from which TARGET may be reached (for `status__in` claims)."""
        return frozenset(status for status, targets in self._table.items() if str(target) in targets)

    def allows(self, current: str, target: str) -> bool:
        """Return whether CURRENT may move to TARGET."""
        return str(target) in self._table.get(str(current), frozenset())

    def check(self, current: str, target: str) -> None:
        """Raise TransitionNotAllowed unless CURRENT may move to TARGET."""
        if not self.allows(current, target):
            raise TransitionNotAllowed(self.field, str(current), str(target))
