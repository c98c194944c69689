"""Migration 0004: replies still waiting in the old review queue become routine triage items; reviewed ones do not."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("messaging", "0005_consent_source_import")]
AFTER = [("messaging", "0006_triage_inbox")]
AT = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_waiting_replies_move_into_the_triage_inbox():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Patient = old.get_model("clinic", "Patient")
    Inbound = old.get_model("messaging", "InboundMessage")
    patient = Patient.objects.create(mrn="M1", legal_first_name="Ana", legal_last_name="Ruiz",
                                     date_of_birth=dt.date(1980, 1, 1))  # fmt: skip
    waiting = Inbound.objects.create(provider_message_id="SM1", from_number="+12025550101", body="question",
                                     patient=patient, received_at=AT, needs_review=True)  # fmt: skip
    stranger = Inbound.objects.create(provider_message_id="SM2", from_number="+12025550999", body="who?",
                                      received_at=AT, needs_review=True)  # fmt: skip
    Inbound.objects.create(provider_message_id="SM3", from_number="+12025550101", body="thanks", patient=patient,
                           received_at=AT, needs_review=False)  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    TriageItem = executor.loader.project_state(AFTER).apps.get_model("messaging", "TriageItem")

    items = TriageItem.objects.order_by("inbound_id")
    assert list(items.values_list("inbound_id", "patient_id", "reason", "urgency", "opened_at", "handled_at")) == [
        (waiting.pk, patient.pk, "free_text", 10, AT, None),
        (stranger.pk, None, "unknown_number", 10, AT, None),
    ]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the schema as the other tests expect
