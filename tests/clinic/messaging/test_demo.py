import pytest

from clinic import demo as clinic_demo
from clinic.messaging import demo
from clinic.messaging.models import InboundMessage, Message, TriageItem

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(sms_outbox, noon):
    clinic_demo.seed()
    demo.seed()
    demo.seed()
    assert Message.objects.filter(source_key="demo:welcome").count() == 1
    assert InboundMessage.objects.filter(needs_review=True).count() == 3
    assert sorted(TriageItem.objects.values_list("reason", "urgency")) == [
        ("free_text", 10), ("reschedule", 20), ("unknown_number", 10)
    ]  # fmt: skip
