"""What tpi contributes to the core, registered from TpiConfig.ready(): nothing of it lives in clinic/."""

from pathlib import Path

import pytest
from django.template.loader import get_template

from clinic.messaging import content
from clinic.messaging.models import InboundMessage
from clinic.messaging.signals import reply_received
from tpi import plan_replies, replies
from tpi.phi_words import PHI_WORDS

TPI_DIR = Path(replies.__file__).resolve().parent


def test_tpi_receives_replies_through_the_signal():
    live = reply_received._live_receivers(InboundMessage)
    receivers = live[0] if isinstance(live, tuple) else live  # (sync, async) since Django 5.0
    assert replies.handle in receivers
    assert plan_replies.handle in receivers


@pytest.mark.parametrize("body", ["7", "3/10", "BOOK", "cita."])
def test_tpi_receivers_never_claim_the_same_reply(body):
    from clinic.messaging.keywords import reply_number

    claims = [reply_number(body) is not None, plan_replies.is_book_request(body)]
    assert claims.count(True) == 1


def test_tpi_words_are_refused_in_messages_but_not_listed_by_the_core():
    assert not set(PHI_WORDS) & set(content.PHI_WORDS)
    assert set(PHI_WORDS) <= set(content.phi_words())
    assert content.content_problems("Your lidocaine visit for the neck") == [
        "names a diagnosis, medication or treated site: lidocaine, neck"
    ]


@pytest.mark.parametrize(
    "name",
    [
        "messaging/sms/check_in.en.txt",
        "messaging/sms/reassessment.es.txt",
        "messaging/email/check_in.en.subject.txt",
        "messaging/email/reassessment.es.txt",
    ],
)
def test_the_follow_up_texts_live_in_tpi(name):
    assert Path(get_template(name).origin.name).is_relative_to(TPI_DIR / "templates")
