"""tpi's export sections: the pain scores, LOINC-coded, with time and method."""

import datetime as dt

import pytest
import time_machine

from clinic import roles
from clinic.audit.export import patient_record_export
from tests.factories import signed_procedure, staff_user
from tpi.models import FollowUp

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


def test_the_export_codes_every_pain_score_loinc_72514_3():
    with time_machine.travel(NOW, tick=False):
        procedure = signed_procedure(performed_at=NOW - dt.timedelta(days=5), pain_before=7)
        FollowUp.objects.filter(procedure=procedure, kind="check_in").update(
            status="answered", answer_pain_score=4, answered_at=NOW - dt.timedelta(days=2), answer_method="sms"
        )
        record = patient_record_export(user=staff_user(roles.CLINIC_ADMIN), patient=procedure.patient)

    scores = record["sections"]["pain_scores"]
    assert [(s["moment"], s["value"], s["method"]) for s in scores] == [
        ("before", 7, "in_clinic"),
        ("after", 3, "in_clinic"),
        ("check_in", 4, "sms"),
    ]
    assert {s["code"]["code"] for s in scores} == {"72514-3"}
    assert scores[2]["effective"] == (NOW - dt.timedelta(days=2)).isoformat()
