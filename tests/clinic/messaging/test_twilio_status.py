"""Twilio's status words in ours: one mapping, used by sends, lookups and delivery reports alike."""

import pytest

from clinic.messaging.backends import DeliveryStatus
from clinic.messaging.backends.twilio.status import delivery_status


@pytest.mark.parametrize(
    ("twilio_status", "ours"),
    [
        ("delivered", DeliveryStatus.DELIVERED),
        ("undelivered", DeliveryStatus.FAILED),
        ("failed", DeliveryStatus.FAILED),
        ("canceled", DeliveryStatus.FAILED),
        ("Delivered", DeliveryStatus.DELIVERED),
        ("accepted", DeliveryStatus.SENT),
        ("queued", DeliveryStatus.SENT),
        ("sending", DeliveryStatus.SENT),
        ("sent", DeliveryStatus.SENT),
        ("", DeliveryStatus.SENT),
        (None, DeliveryStatus.SENT),
    ],
)
def test_twilio_statuses_map_to_ours(twilio_status, ours):
    assert delivery_status(twilio_status) is ours
