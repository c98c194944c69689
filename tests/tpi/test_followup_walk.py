"""A procedure walked from signing to its check-in and reassessment, with the clock moved by time_machine.

The patient lives in New York: follow-ups due in quiet hours wait for 09:00 local, across the
November and March daylight-saving changes; every SMS fits one segment and names nothing clinical.
"""

import datetime as dt
import itertools

import pytest
import time_machine

from clinic.messaging.content import message_render, sms_body_check, sms_length
from clinic.messaging.inbound import inbound_sms_receive
from clinic.messaging.models import Message
from clinic.messaging.outbox import messages_sweep
from tests.factories import PatientFactory, signed_procedure
from tpi.followups import followups_sweep
from tpi.outcomes import procedure_pain_timeline

pytestmark = pytest.mark.django_db
Z = dt.UTC
SIDS = itertools.count(1)
# The check-in is the first text to the number: it says how to opt out; the reassessment, within 30 days, need not.
BODIES = {
    "en": {
        "check_in": "Riverside Pain Clinic: checking in after your visit. How is your pain today, 0 (none) to 10 "
        "(worst)? Reply with a number. Reply STOP to opt out.",
        "reassessment": "Riverside Pain Clinic: it has been a month since your visit. Pain today, 0-10? Reply with a "
        "number.",
    },
    "es": {
        "check_in": "Riverside Pain Clinic: ¿qué tal después de su visita? ¿Su dolor hoy, de 0 (nada) a 10 (peor)? "
        "Responda con la cifra. Responda STOP para darse de baja.",
        "reassessment": "Riverside Pain Clinic: hace un mes de su visita. ¿Su dolor hoy, de 0 a 10? Responda con la "
        "cifra.",
    },
}
# (performed at, check-in due, check-in sent, reassessment due, reassessment sent), all UTC.
WALKS = {
    # 03:00 EDT on Oct 30; the clocks go back on Nov 1: due 02:00 EST, sent 09:00 EST.
    "november-dst-quiet-hours": (
        dt.datetime(2026, 10, 30, 7, tzinfo=Z),
        dt.datetime(2026, 11, 2, 7, tzinfo=Z), dt.datetime(2026, 11, 2, 14, tzinfo=Z),
        dt.datetime(2026, 11, 29, 7, tzinfo=Z), dt.datetime(2026, 11, 29, 14, tzinfo=Z),
    ),
    # 03:00 EST on Mar 6; the clocks go forward on Mar 8: due 04:00 EDT, sent 09:00 EDT.
    "march-dst-quiet-hours": (
        dt.datetime(2026, 3, 6, 8, tzinfo=Z),
        dt.datetime(2026, 3, 9, 8, tzinfo=Z), dt.datetime(2026, 3, 9, 13, tzinfo=Z),
        dt.datetime(2026, 4, 5, 8, tzinfo=Z), dt.datetime(2026, 4, 5, 13, tzinfo=Z),
    ),
    # 03:00 EDT in June, no change: due 03:00, sent 09:00 the same morning.
    "summer-3am": (
        dt.datetime(2026, 6, 1, 7, tzinfo=Z),
        dt.datetime(2026, 6, 4, 7, tzinfo=Z), dt.datetime(2026, 6, 4, 13, tzinfo=Z),
        dt.datetime(2026, 7, 1, 7, tzinfo=Z), dt.datetime(2026, 7, 1, 13, tzinfo=Z),
    ),
    # 21:00 EDT: due after the window closed (20:00), sent 09:00 the next morning.
    "summer-evening": (
        dt.datetime(2026, 6, 1, 1, tzinfo=Z),
        dt.datetime(2026, 6, 4, 1, tzinfo=Z), dt.datetime(2026, 6, 4, 13, tzinfo=Z),
        dt.datetime(2026, 7, 1, 1, tzinfo=Z), dt.datetime(2026, 7, 1, 13, tzinfo=Z),
    ),
    # 11:00 EDT: due inside the window, sent at once.
    "summer-daytime": (
        dt.datetime(2026, 6, 1, 15, tzinfo=Z),
        dt.datetime(2026, 6, 4, 15, tzinfo=Z), dt.datetime(2026, 6, 4, 15, tzinfo=Z),
        dt.datetime(2026, 7, 1, 15, tzinfo=Z), dt.datetime(2026, 7, 1, 15, tzinfo=Z),
    ),
}  # fmt: skip


def beat(at: dt.datetime, capture) -> None:
    """Run what beat runs every minute (both sweeps) at AT, delivery tasks included."""
    with time_machine.travel(at, tick=False), capture(execute=True):
        followups_sweep()
        messages_sweep()


def reply(patient, body: str, at: dt.datetime):
    with time_machine.travel(at, tick=False):
        return inbound_sms_receive(provider_message_id=f"SM{next(SIDS):032d}", from_number=str(patient.mobile_phone),
                                   body=body)[0]  # fmt: skip


def walk_one(procedure, kind, due, opens, answer, sms_outbox, capture):
    """Walk one follow-up from its due time to its answer; return it."""
    follow_up = procedure.follow_ups.get(kind=kind)
    assert (follow_up.status, follow_up.due_at) == ("scheduled", due)
    beat(due - dt.timedelta(minutes=1), capture)
    assert procedure.follow_ups.get(kind=kind).status == "scheduled"
    beat(due, capture)
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.sent_at) == ("sent", due)
    message = Message.objects.get(source_key=follow_up.source_key)
    assert message.next_attempt_at == opens
    if opens > due:
        assert message.status == "queued"
        beat(opens - dt.timedelta(minutes=1), capture)
        assert Message.objects.get(pk=message.pk).status == "queued"
        assert sms_outbox == []
        beat(opens, capture)
    message.refresh_from_db()
    assert (message.status, message.sent_at) == ("sent", opens)
    assert len(sms_outbox) == 1
    inbound = reply(procedure.patient, str(answer), opens + dt.timedelta(hours=3))
    assert (inbound.handled_by, inbound.needs_review) == ("tpi.replies.handle", False)
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.answer_pain_score) == ("answered", answer)
    assert follow_up.answered_at == opens + dt.timedelta(hours=3)
    return follow_up, sms_outbox.pop()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("walk", list(WALKS))
def test_signing_to_check_in_to_reassessment(walk, language, sms_outbox, django_capture_on_commit_callbacks):
    performed, check_in_due, check_in_sent, reassessment_due, reassessment_sent = WALKS[walk]
    patient = PatientFactory(time_zone="America/New_York", preferred_language=language)
    with time_machine.travel(performed + dt.timedelta(minutes=30), tick=False):
        procedure = signed_procedure(performed_at=performed, patient=patient, pain_before=8, pain_after=3)

    check_in, first = walk_one(
        procedure, "check_in", check_in_due, check_in_sent, 4, sms_outbox, django_capture_on_commit_callbacks
    )
    reassessment, second = walk_one(
        procedure, "reassessment", reassessment_due, reassessment_sent, 2, sms_outbox,
        django_capture_on_commit_callbacks,
    )  # fmt: skip

    assert [first.body, second.body] == [BODIES[language]["check_in"], BODIES[language]["reassessment"]]
    for sms in (first, second):
        sms_body_check(sms.body, patient)
        assert sms_length(sms.body).segments == 1
        assert sms.to == str(patient.mobile_phone)
    timeline = [(p.label, p.score, p.at) for p in procedure_pain_timeline(procedure)]
    assert timeline == [
        ("before", 8, performed),
        ("after", 3, performed),
        ("check_in", 4, check_in.answered_at),
        ("reassessment", 2, reassessment.answered_at),
    ]
    assert Message.objects.count() == 2


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("template", "context"), [
    ("check_in", {}), ("reassessment", {"offer_booking": False}), ("reassessment", {"offer_booking": True}),
])  # fmt: skip
def test_every_follow_up_sms_fits_one_segment_without_phi(language, template, context):
    patient = PatientFactory(preferred_language=language, preferred_name="Maximiliana-Esperanza")
    rendered = message_render(patient=patient, channel="sms", template=template, context=context)
    assert rendered.language == language
    sms_body_check(rendered.body, patient)
    assert sms_length(rendered.body).segments == 1
