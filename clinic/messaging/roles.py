"""Messaging's share of the staff roles (see clinic.roles).

The front desk works the messages log, the messages needing attention and the triage inbox, and
records consent changes (signed form, phone call). Providers read the log of their patients' messages
and their consent, and work the triage inbox with the front desk (a pain score or a symptom is theirs
to answer). Massage therapists see no patient messages.
"""

from clinic.roles import FRONT_DESK, MASSAGE_THERAPIST, PROVIDER

_READ = [
    "messaging.view_message",
    "messaging.view_messageevent",
    "messaging.view_consentevent",
    "messaging.view_inboundmessage",
]

_TRIAGE = ["messaging.view_triageitem", "messaging.change_triageitem", "messaging.view_triageanswer"]

ROLE_PERMISSIONS = {
    FRONT_DESK: [
        *_READ,
        "messaging.change_message",
        "messaging.view_messageneedingattention",
        "messaging.change_messageneedingattention",
        "messaging.change_inboundmessage",
        *_TRIAGE,
        "messaging.add_consentevent",
    ],
    PROVIDER: [*_READ, *_TRIAGE],
    MASSAGE_THERAPIST: [],
}
