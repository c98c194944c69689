"""scheduling's share of the staff roles (see clinic.roles): the front desk runs the book.

Clinicians see the schedule (the day sheet, their feeds); only the front desk and clinic admins
book, move and cancel, and run the waitlist (providers see it). Locations, rooms, closures, visit
types, working hours and time off are set up by clinic admins; everyone sees them.
"""

from clinic.roles import FRONT_DESK, MASSAGE_THERAPIST, PROVIDER

_SEE_SCHEDULE = [
    "scheduling.view_appointment",
    "scheduling.view_appointmentstatuschange",
    "scheduling.view_series",
    "scheduling.view_room",
    "scheduling.view_location",
    "scheduling.view_openinghours",
    "scheduling.view_closure",
    "scheduling.view_appointmenttype",
    "scheduling.view_workinghours",
    "scheduling.view_timeoff",
]

# Who waits for an earlier visit, and the offers made: the front desk runs it, providers see it.
_WAITLIST = ["scheduling.view_waitlistentry", "scheduling.view_waitlistoffer", "scheduling.view_freedslot"]

ROLE_PERMISSIONS = {
    FRONT_DESK: [
        *_SEE_SCHEDULE,
        "scheduling.add_appointment",
        "scheduling.change_appointment",
        "scheduling.add_series",
        "scheduling.change_series",
        "scheduling.view_appointment_numbers",
        "scheduling.view_appointmentreminder",
        *_WAITLIST,
        "scheduling.add_waitlistentry",
        "scheduling.change_waitlistentry",
    ],
    PROVIDER: [*_SEE_SCHEDULE, *_WAITLIST],
    MASSAGE_THERAPIST: _SEE_SCHEDULE,
}
