"""Signals other apps listen to without the core knowing them."""

from django.dispatch import Signal

# Sent with inbound=InboundMessage for every reply that is no keyword. A receiver that took the
# reply (e.g. stored a pain score) returns True; if none does, the reply goes to staff review.
reply_received = Signal()
