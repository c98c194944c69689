"""The slot finder: free times for a visit type, honouring working hours, time off, rooms that can host the visit,
their locations' opening hours and closures, durations, buffers and DST."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from clinic.models import Patient, Provider
from scheduling.clock import local_datetime
from scheduling.hours import Interval, working_intervals_at
from scheduling.locations import open_intervals_many, rooms_hosting
from scheduling.models import Appointment, AppointmentType, Location, Room


@dataclass(frozen=True)
class Slot:
    """A free time: the visit [start, end) with this provider in this room."""

    provider: Provider
    room: Room
    start: dt.datetime
    end: dt.datetime


def _free(busy: list[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return all(end <= b_start or start >= b_end for b_start, b_end in busy)


def _inside(open_: list[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    return any(o_start <= start and end <= o_end for o_start, o_end in open_)


def slots_find(
    *,
    appointment_type: AppointmentType,
    first_day: dt.date,
    last_day: dt.date,
    provider: Provider | None = None,
    room: Room | None = None,
    location: Location | None = None,
    patient: Patient | None = None,
    exclude_ids: frozenset[int] = frozenset(),
    limit: int | None = None,
) -> list[Slot]:
    """Return free slots on the local days FIRST_DAY..LAST_DAY (of each room's location) in time order, for one
    provider or any eligible one.

    A slot needs the provider free for the visit plus the type's buffer, a room that can host the type
    free for the same span (ROOM, or the first free one, at LOCATION when given) while its location is
    open (opening hours, no closure), and the patient (when given) free for the visit itself.
    The provider's working hours count at a location when they are that location's or have no location,
    read on the location's clock. Slots start on a grid of SCHEDULING_SLOT_STEP_MINUTES from the start of
    each working interval and never in the past. Runs a fixed number of queries whatever the range.
    """
    duration = dt.timedelta(minutes=appointment_type.default_duration_minutes)
    buffer = dt.timedelta(minutes=appointment_type.buffer_after_minutes)
    step = dt.timedelta(minutes=settings.SCHEDULING_SLOT_STEP_MINUTES)
    if provider is not None:
        providers = [provider] if provider.is_active and appointment_type.allows_role(provider.role) else []
    else:
        providers = list(
            Provider.objects.filter(is_active=True, role__in=appointment_type.allowed_roles or []).select_related(
                "user"
            )
        )
    rooms = rooms_hosting(appointment_type=appointment_type, location=location, room=room)
    if not providers or not rooms:
        return []
    locations = list({r.location_id: r.location for r in rooms}.values())
    # The days are local days of each location; the search window covers all of them.
    range_start = min(local_datetime(first_day, dt.time(0), zone=loc.zone) for loc in locations)
    range_end = max(local_datetime(last_day + dt.timedelta(days=1), dt.time(0), zone=loc.zone) for loc in locations)
    range_end += duration + buffer
    open_at = open_intervals_many(locations=locations, start=range_start, end=range_end)
    who = Q(provider__in=providers) | Q(room__in=rooms)
    if patient is not None:
        who |= Q(patient=patient)
    by_provider: dict[int, list[Interval]] = defaultdict(list)
    by_room: dict[int, list[Interval]] = defaultdict(list)
    by_patient: list[Interval] = []
    existing = (
        Appointment.objects.active()
        .overlapping(range_start, range_end)
        .filter(who)
        .exclude(pk__in=exclude_ids)
        .values_list("provider_id", "room_id", "patient_id", "start", "end", "blocked_end")
    )
    for provider_id, room_id, patient_id, start, end, blocked_end in existing:
        by_provider[provider_id].append((start, blocked_end))
        by_room[room_id].append((start, blocked_end))
        if patient is not None and patient_id == patient.pk:
            by_patient.append((start, end))
    # Each provider's hours at each location, on that location's clock (rows for another location do not count).
    intervals = working_intervals_at(
        provider_ids=[p.pk for p in providers], locations=locations, first_day=first_day, last_day=last_day
    )
    now = timezone.now()
    slots: dict[tuple[int, dt.datetime], Slot] = {}
    for candidate_provider in providers:
        for here in locations:
            rooms_here = [r for r in rooms if r.location_id == here.pk]
            for interval_start, interval_end in intervals[(candidate_provider.pk, here.pk)]:
                start = interval_start
                while start + duration <= interval_end:
                    end, blocked_end = start + duration, start + duration + buffer
                    if (
                        (candidate_provider.pk, start) not in slots  # one room per provider and time is enough
                        and start >= now
                        and _free(by_provider[candidate_provider.pk], start, blocked_end)
                        and _free(by_patient, start, end)
                    ):
                        free_room = next(
                            (
                                r
                                for r in rooms_here
                                if _inside(open_at[here.pk], start, end) and _free(by_room[r.pk], start, blocked_end)
                            ),
                            None,
                        )
                        if free_room is not None:
                            slots[(candidate_provider.pk, start)] = Slot(
                                provider=candidate_provider, room=free_room, start=start, end=end
                            )
                    start += step
    found = sorted(slots.values(), key=lambda s: (s.start, str(s.provider)))
    return found[:limit] if limit is not None else found
