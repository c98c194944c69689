"""Messaging's share of the staff roles (see clinic.roles).

The front desk works the messages log, the messages needing attention and the replies to review,
and records consent changes (signed form, phone call). Clinicians read the log of their patients'
messages and their consent; they change nothing here.
"""

from clinic.roles import FRONT_DESK, MASSAGE_THERAPIST, PROVIDER

_READ = [
    "messaging.view_message",
    "messaging.view_messageevent",
    "messaging.view_consentevent",
    "messaging.view_inboundmessage",
]

ROLE_PERMISSIONS = {
    FRONT_DESK: [
        *_READ,
        "messaging.change_message",
        "messaging.view_messageneedingattention",
        "messaging.change_messageneedingattention",
        "messaging.change_inboundmessage",
        "messaging.view_replytoreview",
        "messaging.change_replytoreview",
        "messaging.add_consentevent",
    ],
    PROVIDER: _READ,
    MASSAGE_THERAPIST: [],
}
