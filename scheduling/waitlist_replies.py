"""The YES to a waitlist offer: `handle` receives clinic.messaging's reply_received (SchedulingConfig.ready).

It takes a yes-like reply (YES, SI, Y) only when the latest SMS that asked this patient something
(`clinic.messaging.prompts.latest_prompt`) is a waitlist offer, so a YES to a reminder or another app's
question is never read as taking a visit. The first YES within the offer's life books the slot; any
other answer to an offer (late, or after someone else took it) is told the visit has gone.
"""

from clinic.messaging.keywords import keyword_normalize
from clinic.messaging.models import InboundMessage
from clinic.messaging.prompts import latest_prompt
from scheduling.waitlist import OFFER_PURPOSE, waitlist_reply
from scheduling.waitlist_models import WaitlistOffer

# Compared after keyword_normalize (upper case, no accents, spaces or punctuation): "yes!", "Sí", "y".
YES_WORDS = frozenset({"YES", "SI", "Y"})


def handle(sender: object, *, inbound: InboundMessage, **kwargs: object) -> bool:
    """Take a YES answering the patient's latest question when that is a waitlist offer; False otherwise."""
    if inbound.patient_id is None or keyword_normalize(inbound.body) not in YES_WORDS:
        return False
    asked = latest_prompt(patient_id=inbound.patient_id, at=inbound.received_at)
    key = (asked.source_key or "") if asked is not None else ""
    if asked is None or asked.purpose != OFFER_PURPOSE or not key.startswith("waitlist_offer:"):
        return False
    found = WaitlistOffer.objects.filter(pk=int(key.split(":")[1]), entry__patient_id=inbound.patient_id).first()
    if found is None:
        return False
    waitlist_reply(offer=found, at=inbound.received_at)
    return True
