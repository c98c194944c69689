"""Signals other apps listen to without the core knowing them."""

from django.dispatch import Signal

# Sent with inbound=InboundMessage for every reply that is no keyword (STOP/START/HELP are answered
# before), inside the transaction that records it. Every receiver is called (Django signal semantics,
# no precedence): one that took the reply (e.g. stored a pain score) returns True and must take only
# replies it recognises; if none does, the reply goes to staff review. Apps connect their receivers in
# their AppConfig.ready().
reply_received = Signal()
