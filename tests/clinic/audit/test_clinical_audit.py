"""Writes and reads of clinical records from tpi, scheduling and messaging land in the audit trail."""

import datetime as dt

import pytest
import time_machine
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from rest_framework.test import APIClient

from clinic import roles
from clinic.audit.export import patient_record_export
from clinic.audit.models import AccessLog
from clinic.messaging.models import ConsentEvent
from clinic.models import Patient
from clinic.patients import patient_create, patient_update
from scheduling.booking import appointment_book
from tests.factories import (
    AppointmentTypeFactory,
    InjectionFactory,
    MassageNoteFactory,
    PatientFactory,
    RoomFactory,
    staff_user,
    working_week,
)
from tpi.models import Procedure

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def entries_for(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "id"))


def test_sign_and_void_are_recorded_as_status_changes_with_their_actor(frozen):
    procedure = InjectionFactory().procedure
    owner = procedure.provider.user
    api = api_for(owner)

    assert api.post(f"/api/procedures/{procedure.pk}/sign/").status_code == 200
    assert api.post(f"/api/procedures/{procedure.pk}/void/", {"reason": "wrong patient"}).status_code == 200

    sign, void = entries_for(procedure)[-2:]
    assert (sign.action, sign.actor, sign.changes_dict["status"]) == (
        LogEntry.Action.UPDATE,
        owner,
        ["draft", "signed"],
    )
    assert sign.changes_dict["signed_by"][1] == str(owner.pk)
    assert (void.actor, void.changes_dict["status"]) == (owner, ["signed", "voided"])
    assert void.changes_dict["void_reason"] == ["", "wrong patient"]


def test_clinical_records_are_write_audited(frozen):
    note = MassageNoteFactory(procedure=InjectionFactory().procedure)
    procedure = note.procedure
    for obj in (procedure, procedure.injections.get(), note):
        assert entries_for(obj)[0].action == LogEntry.Action.CREATE, obj

    doctor = working_week(procedure.provider)
    appointment = appointment_book(
        patient=procedure.patient,
        provider=doctor,
        room=RoomFactory(),
        appointment_type=AppointmentTypeFactory(),
        start=NOW.replace(hour=14) + dt.timedelta(days=1),
        by=None,
    )
    assert entries_for(appointment)[0].action == LogEntry.Action.CREATE


def test_chart_reads_are_recorded_from_the_admin_and_the_api(frozen, client):
    note = MassageNoteFactory(procedure=InjectionFactory().procedure)
    procedure, patient = note.procedure, note.procedure.patient
    owner = procedure.provider.user
    client.force_login(owner)
    api = api_for(owner)

    assert client.get(f"/admin/tpi/procedure/{procedure.pk}/change/").status_code == 200
    assert client.get(f"/admin/clinic/patient/{patient.pk}/change/").status_code == 200
    assert api.get(f"/api/procedures/{procedure.pk}/").status_code == 200
    assert api.get(f"/api/patients/{patient.pk}/").status_code == 200
    assert api.get(f"/api/massage-notes/{note.pk}/").status_code == 200
    assert api.get("/api/procedures/").status_code == 200  # lists are not chart reads

    reads = list(AccessLog.objects.order_by("id").values_list("user", "patient", "content_type", "object_id", "path"))
    ct = ContentType.objects.get_for_model
    assert reads == [
        (owner.pk, patient.pk, ct(Procedure).pk, str(procedure.pk), f"/admin/tpi/procedure/{procedure.pk}/change/"),
        (owner.pk, patient.pk, ct(Patient).pk, str(patient.pk), f"/admin/clinic/patient/{patient.pk}/change/"),
        (owner.pk, patient.pk, ct(Procedure).pk, str(procedure.pk), f"/api/procedures/{procedure.pk}/"),
        (owner.pk, patient.pk, ct(Patient).pk, str(patient.pk), f"/api/patients/{patient.pk}/"),
        (owner.pk, patient.pk, ct(type(note)).pk, str(note.pk), f"/api/massage-notes/{note.pk}/"),
    ]


def test_a_refused_read_is_not_recorded_as_a_read(frozen):
    procedure = InjectionFactory().procedure
    other = staff_user(roles.FRONT_DESK)
    assert api_for(other).get(f"/api/procedures/{procedure.pk}/").status_code == 403
    assert AccessLog.objects.count() == 0


def test_the_export_holds_every_apps_sections(frozen):
    note = MassageNoteFactory(procedure=InjectionFactory().procedure)
    patient = note.procedure.patient
    record = patient_record_export(user=staff_user(roles.CLINIC_ADMIN), patient=patient)

    sections = record["sections"]
    assert {
        "procedures",
        "massage_notes",
        "addenda",
        "follow_ups",
        "treatment_plans",
        "appointments",
        "messages",
        "consent_events",
    } <= set(sections)
    assert [p["id"] for p in sections["procedures"]] == [note.procedure.pk]
    assert len(sections["procedures"][0]["injections"]) == 1
    assert sections["massage_notes"][0]["sites"] == sorted(s.pk for s in note.sites.all())
    assert sections["appointments"] == []
    assert sections["treatment_plans"] == []
    assert AccessLog.objects.get().action == AccessLog.Action.EXPORT


def test_consent_given_at_registration_and_changed_later_leaves_consent_events(frozen):
    desk = staff_user(roles.FRONT_DESK)
    patient = patient_create(
        by=desk,
        legal_first_name="Ann",
        legal_last_name="Lee",
        date_of_birth=dt.date(1970, 1, 2),
        mobile_phone="+12025550143",
        sms_consent=True,
        sms_consent_method=Patient.ConsentMethod.WRITTEN,
    )
    patient = patient_update(patient=patient, by=desk, sms_consent=False, email="ann@example.com")
    patient = patient_update(patient=patient, by=desk, consent_source="form", email_consent=True)

    events = list(ConsentEvent.objects.order_by("id").values_list("channel", "granted", "source", "by", "at"))
    assert events == [
        ("sms", True, "staff", desk.pk, NOW),
        ("sms", False, "staff", desk.pk, NOW),
        ("email", True, "form", desk.pk, NOW),
    ]
    patient.refresh_from_db()
    assert (patient.sms_consent, patient.sms_consent_at, patient.email_consent, patient.email_consent_method) == (
        False,
        None,
        True,
        Patient.ConsentMethod.WEB_FORM,
    )


def test_consent_changed_through_the_api_is_an_event_by_the_user(frozen):
    desk = staff_user(roles.FRONT_DESK)
    patient = PatientFactory(sms_consent=True)
    response = api_for(desk).patch(f"/api/patients/{patient.pk}/", {"sms_consent": False}, format="json")
    assert response.status_code == 200
    event = ConsentEvent.objects.get()
    assert (event.channel, event.granted, event.source, event.by) == ("sms", False, "staff", desk)
