"""Links other apps offer on a checked-in visit (the day sheet card and the appointment page).

Scheduling knows nothing of what happens in the treatment room: an app registers a link source from
its AppConfig.ready() (tpi offers "Document procedure" and "Write massage note"). A source receives the
whole day's visits at once, so it answers in a fixed number of queries, and decides per user (role,
permission, object rules) which links to show.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from clinic.accounts.actors import AnyUser
from scheduling.models import Appointment


@dataclass(frozen=True)
class AppointmentLink:
    label: str
    url: str


LinkSource = Callable[[Sequence[Appointment], AnyUser], Mapping[int, list[AppointmentLink]]]

# The visit is under way or just over: the moment to document it.
DOCUMENTABLE_STATUSES = frozenset({Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED})

_sources: dict[str, LinkSource] = {}


def appointment_links_register(*, name: str, source: LinkSource) -> None:
    """Add SOURCE (appointments, user -> {appointment id: links}) under NAME; registering NAME again replaces it."""
    _sources[name] = source


def appointment_links_for(*, appointments: Sequence[Appointment], user: AnyUser) -> dict[int, list[AppointmentLink]]:
    """Return {appointment id: links} for the checked-in or completed APPOINTMENTS, in registration order."""
    documentable = [a for a in appointments if a.status in DOCUMENTABLE_STATUSES]
    links: dict[int, list[AppointmentLink]] = {}
    if not documentable:
        return links
    for source in _sources.values():
        for appointment_id, found in source(documentable, user).items():
            links.setdefault(appointment_id, []).extend(found)
    return links
