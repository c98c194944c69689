"""Every operation of the OpenAPI schema, called as an integrator would, answers as the schema says.

The schema is loaded from the app (`/api/schema/`) through Django's WSGI app; each operation is called
once with a request that succeeds (the table below: a seeded database and a clinic admin's token)
and once with one that fails (an id that names no row, or an empty body), and schemathesis checks
each response: status code documented, content type, body against the response schema, headers.
A new operation fails `test_every_operation_has_a_valid_request` until it has its row, so custom
actions cannot drift from their documentation (move/cancel/preview/warnings answered arrays while
documented as pages). The bounded fuzz of every operation is `test_schema_fuzz.py`.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import checks

from clinic import roles
from scheduling.booking import appointment_book, appointment_status_set
from tests.clinic.security.test_permission_matrix import CA, world  # noqa: F401  (the fixture)
from tests.factories import InjectionFactory, MassageNoteFactory, PatientFactory, signed_procedure, site
from tpi.plans import plan_create

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 7, 30, tzinfo=dt.UTC)  # the world is built at 07:00 UTC
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, tzinfo=dt.UTC)


class Ctx:
    """The seeded world plus fresh rows for the operations that change one."""

    def __init__(self, seeded: dict) -> None:
        self.world = seeded
        self.ids = seeded["ids"]
        self.doctor = seeded["doctor"]
        from scheduling.models import Appointment

        seed = Appointment.objects.get(pk=self.ids["appointment"])
        self.room, self.visit = seed.room, seed.appointment_type
        self.hour = 14

    def appointment(self) -> int:
        """A fresh booking on 2 December, one hour after the last (09:00 clinic time onwards)."""
        self.hour += 1
        booked = appointment_book(
            patient=PatientFactory(),
            provider=self.doctor,
            room=self.room,
            appointment_type=self.visit,
            start=at(2, self.hour),
            by=None,
        )
        return booked.pk

    def draft(self, **fields: Any) -> int:
        return InjectionFactory(procedure__provider=self.doctor, **fields).procedure.pk

    def signed(self) -> int:
        return signed_procedure(performed_at=NOW - dt.timedelta(hours=1), provider=self.doctor).pk

    def note(self) -> int:
        procedure = InjectionFactory(procedure__provider=self.doctor).procedure
        return MassageNoteFactory(
            procedure=procedure, therapist=self.world["users"][roles.MASSAGE_THERAPIST].provider
        ).pk

    def plan(self) -> int:
        return plan_create(
            patient=PatientFactory(),
            by=self.doctor.user,
            provider=self.doctor,
            appointment_type=self.visit,
            start_date=dt.date(2027, 1, 5),
            preferred_time=dt.time(10),
            interval_weeks=4,
            injections=2,
        ).pk

    def triage(self) -> int:
        """A fresh open triage item for a patient who takes text messages."""
        from clinic.messaging.triage import triage_open

        return triage_open(patient=PatientFactory(), reason="free_text").pk

    def waiting(self) -> int:
        """A fresh waiting waitlist entry."""
        from scheduling.waitlist import waitlist_entry_create

        return waitlist_entry_create(
            patient=PatientFactory(),
            appointment_type=self.visit,
            location=self.room.location,
            until=dt.date(2027, 1, 31),
            by=None,
        ).pk

    def treated_patient(self) -> int:
        """A patient with a signed procedure: their pain scores have a row."""
        from tpi.models import Procedure

        return Procedure.objects.get(pk=self.signed()).patient_id


def waitlist_body(c: Ctx) -> dict:
    return {
        "patient": PatientFactory().pk,
        "appointment_type": c.visit.pk,
        "location": c.room.location_id,
        "weekdays": [1, 3],
        "earliest_time": "09:00",
        "until": "2027-01-31",
    }


def patient_body() -> dict:
    return {
        "legal_first_name": "Jordan",
        "legal_last_name": "Rivera",
        "date_of_birth": "1978-04-12",
        "sex": "female",
        "mobile_phone": "+12025550143",
        "preferred_channel": "sms",
    }


def procedure_body(c: Ctx, *, injections: bool = True) -> dict:
    body = {
        "patient": c.ids["patient"],
        "provider": c.doctor.pk,
        "performed_at": (NOW - dt.timedelta(minutes=20)).isoformat(),
        "indication": "Myofascial neck pain",
        "pain_before": 7,
        "consent_obtained": True,
        "injections": [
            {
                "site": site("Upper trapezius").pk,
                "laterality": "left",
                "anaesthetic_agent": "lidocaine",
                "anaesthetic_concentration_percent": "1.00",
                "anaesthetic_volume_ml": "2.00",
            }
        ],
    }
    if not injections:  # a PUT without injections keeps the draft's own (they are never deleted)
        del body["injections"]
    return body


def series_body(c: Ctx) -> dict:
    return {
        "patient": c.ids["patient"],
        "provider": c.doctor.pk,
        "room": c.room.pk,
        "appointment_type": c.visit.pk,
        "dtstart": at(4, 16).isoformat(),
        "rrule": "FREQ=WEEKLY;COUNT=2",
    }


def note_body(c: Ctx) -> dict:
    therapist = c.world["users"][roles.MASSAGE_THERAPIST].provider
    return {
        "procedure": c.ids["procedure"],
        "therapist": therapist.pk,
        "performed_at": (NOW - dt.timedelta(minutes=5)).isoformat(),
        "sites": [c.ids["site"]],
        "duration_minutes": 10,
        "technique": "effleurage",
        "tolerance": "good",
    }


def undone(c: Ctx) -> int:
    pk = c.appointment()
    from scheduling.models import Appointment

    appointment_status_set(
        appointment=Appointment.objects.get(pk=pk), status="confirmed", reason="", by=c.world["users"][CA]
    )
    return pk


def copy_forward_draft(c: Ctx) -> int:
    signed = signed_procedure(performed_at=NOW - dt.timedelta(days=30), provider=c.doctor)
    return c.draft(procedure__patient=signed.patient)


Request = Callable[[Ctx], dict]
ID = "id"
# (method, schema path) -> (the expected status, a function returning the request's parts)
VALID: dict[tuple[str, str], tuple[int, Request]] = {
    ("GET", "/api/patients/"): (200, lambda c: {"query": {"page_size": 1}}),
    ("POST", "/api/patients/"): (201, lambda c: {"body": patient_body()}),
    ("GET", "/api/patients/{id}/"): (200, lambda c: {ID: c.ids["patient"]}),
    ("PUT", "/api/patients/{id}/"): (200, lambda c: {ID: c.ids["patient"], "body": patient_body()}),
    ("PATCH", "/api/patients/{id}/"): (200, lambda c: {ID: c.ids["patient"], "body": {"preferred_name": "Jo"}}),
    ("GET", "/api/patients/{id}/export/"): (200, lambda c: {ID: c.ids["patient"]}),
    ("GET", "/api/patients/{id}/pain-scores/"): (200, lambda c: {ID: c.treated_patient()}),
    ("GET", "/api/providers/"): (200, lambda c: {"query": {"is_active": "true"}}),
    ("GET", "/api/providers/{id}/"): (200, lambda c: {ID: c.ids["provider"]}),
    ("GET", "/api/appointment-types/"): (200, lambda c: {}),
    ("GET", "/api/appointment-types/{id}/"): (200, lambda c: {ID: c.ids["appointment-type"]}),
    ("GET", "/api/locations/"): (200, lambda c: {}),
    ("GET", "/api/locations/{id}/"): (200, lambda c: {ID: c.ids["location"]}),
    ("GET", "/api/rooms/"): (200, lambda c: {"query": {"page_size": 1}}),
    ("GET", "/api/rooms/{id}/"): (200, lambda c: {ID: c.ids["room"]}),
    ("GET", "/api/closures/"): (200, lambda c: {}),
    ("POST", "/api/closures/"): (
        201,
        lambda c: {
            "body": {
                "location": c.ids["location"],
                "first_day": "2027-12-31",
                "last_day": "2027-12-31",
                "reason": "NYE",
            }
        },
    ),
    ("GET", "/api/closures/{id}/"): (200, lambda c: {ID: c.ids["closure"]}),
    ("GET", "/api/working-hours/"): (200, lambda c: {"query": {"provider": c.doctor.pk}}),
    ("GET", "/api/working-hours/{id}/"): (200, lambda c: {ID: c.ids["working-hours"]}),
    ("GET", "/api/free-slots/"): (
        200,
        lambda c: {
            "query": {"appointment_type": c.visit.pk, "date_from": "2026-12-07", "date_to": "2026-12-07", "limit": 3}
        },
    ),
    ("GET", "/api/appointments/"): (200, lambda c: {"query": {"page_size": 1, "date_from": "2026-12-01"}}),
    ("POST", "/api/appointments/"): (
        201,
        lambda c: {
            "body": {
                "patient": PatientFactory().pk,
                "provider": c.doctor.pk,
                "room": c.room.pk,
                "appointment_type": c.visit.pk,
                "start": at(8, 15).isoformat(),
            }
        },
    ),
    ("GET", "/api/appointments/{id}/"): (200, lambda c: {ID: c.ids["appointment"]}),
    ("GET", "/api/appointments/{id}/ics/"): (200, lambda c: {ID: c.ids["appointment"]}),
    ("POST", "/api/appointments/{id}/move/"): (
        200,
        lambda c: {ID: c.appointment(), "body": {"start": at(9, 18).isoformat()}},
    ),
    ("POST", "/api/appointments/{id}/cancel/"): (200, lambda c: {ID: c.appointment(), "body": {"reason": "Ill"}}),
    ("POST", "/api/appointments/{id}/status/"): (200, lambda c: {ID: c.appointment(), "body": {"status": "confirmed"}}),
    ("POST", "/api/appointments/{id}/undo/"): (200, lambda c: {ID: undone(c)}),
    ("GET", "/api/series/"): (200, lambda c: {"query": {"patient": c.ids["patient"]}}),
    ("POST", "/api/series/"): (201, lambda c: {"body": series_body(c)}),
    ("GET", "/api/series/{id}/"): (200, lambda c: {ID: c.ids["series"]}),
    ("POST", "/api/series/preview/"): (200, lambda c: {"body": series_body(c)}),
    ("GET", "/api/sites/"): (200, lambda c: {"query": {"search": "trap"}}),
    ("GET", "/api/sites/{id}/"): (200, lambda c: {ID: c.ids["site"]}),
    ("GET", "/api/procedures/"): (200, lambda c: {"query": {"with_steroid": "false", "page_size": 2}}),
    ("POST", "/api/procedures/"): (201, lambda c: {"body": procedure_body(c)}),
    ("GET", "/api/procedures/{id}/"): (200, lambda c: {ID: c.signed()}),
    ("PUT", "/api/procedures/{id}/"): (200, lambda c: {ID: c.draft(), "body": procedure_body(c, injections=False)}),
    ("PATCH", "/api/procedures/{id}/"): (200, lambda c: {ID: c.draft(), "body": {"indication": "Neck pain"}}),
    ("GET", "/api/procedures/{id}/warnings/"): (
        200,
        lambda c: {ID: c.draft(procedure__patient__on_anticoagulants=True)},
    ),
    ("POST", "/api/procedures/{id}/sign/"): (200, lambda c: {ID: c.draft(), "body": {}}),
    ("POST", "/api/procedures/{id}/void/"): (200, lambda c: {ID: c.signed(), "body": {"reason": "Wrong patient"}}),
    ("POST", "/api/procedures/{id}/addenda/"): (201, lambda c: {ID: c.signed(), "body": {"text": "Mild bruising."}}),
    ("POST", "/api/procedures/{id}/copy-forward/"): (200, lambda c: {ID: copy_forward_draft(c)}),
    ("POST", "/api/procedures/{id}/apply-defaults/"): (200, lambda c: {ID: c.draft(), "body": {"needle_gauge": 27}}),
    ("GET", "/api/massage-notes/"): (200, lambda c: {"query": {"procedure": c.ids["procedure"]}}),
    ("POST", "/api/massage-notes/"): (201, lambda c: {"body": note_body(c)}),
    ("GET", "/api/massage-notes/{id}/"): (200, lambda c: {ID: c.ids["massage-note"]}),
    ("PUT", "/api/massage-notes/{id}/"): (200, lambda c: {ID: c.ids["massage-note"], "body": note_body(c)}),
    ("PATCH", "/api/massage-notes/{id}/"): (200, lambda c: {ID: c.note(), "body": {"duration_minutes": 12}}),
    ("POST", "/api/massage-notes/{id}/sign/"): (200, lambda c: {ID: c.note()}),
    ("POST", "/api/massage-notes/{id}/addenda/"): (201, lambda c: {ID: signed_note(c), "body": {"text": "Sore."}}),
    ("GET", "/api/treatment-plans/"): (200, lambda c: {"query": {"status": "active"}}),
    ("POST", "/api/treatment-plans/"): (
        201,
        lambda c: {
            "body": {
                "patient": PatientFactory().pk,
                "provider": c.doctor.pk,
                "appointment_type": c.visit.pk,
                "start_date": "2027-01-12",
                "preferred_time": "11:00",
                "interval_weeks": 4,
                "injections": 2,
            }
        },
    ),
    ("GET", "/api/treatment-plans/{id}/"): (200, lambda c: {ID: c.ids["treatment-plan"]}),
    ("PATCH", "/api/treatment-plans/{id}/"): (200, lambda c: {ID: c.plan(), "body": {"preferred_time": "11:30"}}),
    ("POST", "/api/treatment-plans/{id}/cancel/"): (200, lambda c: {ID: c.plan(), "body": {"reason": "Moved away"}}),
    ("POST", "/api/treatment-plans/{id}/book-next/"): (200, lambda c: {ID: c.plan()}),
    ("GET", "/api/plan-occurrences/"): (200, lambda c: {"query": {"plan": c.ids["treatment-plan"]}}),
    ("GET", "/api/plan-occurrences/{id}/"): (200, lambda c: {ID: c.ids["plan-occurrence"]}),
    ("GET", "/api/triage/"): (200, lambda c: {"query": {"state": "all", "page_size": 5}}),
    ("GET", "/api/triage/{id}/"): (200, lambda c: {ID: c.ids["triage"]}),
    ("POST", "/api/triage/{id}/handle/"): (200, lambda c: {ID: c.triage()}),
    ("POST", "/api/triage/{id}/answer/"): (201, lambda c: {ID: c.triage(), "body": {"text": "Please call us."}}),
    ("GET", "/api/waitlist/"): (200, lambda c: {"query": {"status": "waiting"}}),
    ("POST", "/api/waitlist/"): (201, lambda c: {"body": waitlist_body(c)}),
    ("GET", "/api/waitlist/{id}/"): (200, lambda c: {ID: c.ids["waitlist"]}),
    ("POST", "/api/waitlist/{id}/withdraw/"): (200, lambda c: {ID: c.waiting()}),
    ("GET", "/api/calendar/providers/{provider_id}/{token}.ics"): (
        200,
        lambda c: {"path": {"provider_id": c.doctor.pk, "token": c.world["feed"].token}},
    ),
}


def signed_note(c: Ctx) -> int:
    from tpi.massage import massage_note_sign
    from tpi.models import MassageNote

    note = MassageNote.objects.get(pk=c.note())
    return massage_note_sign(note=note, by=note.therapist.user).pk


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, without closing the test transaction's connection after each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def setup(world, wsgi_app, monkeypatch):  # noqa: F811
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": None})
    token = Token.objects.create(user=world["users"][CA]).key
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, headers={"Authorization": f"Token {token}"}
    )
    return schema, token, Ctx(world)


def operations(schema) -> dict[tuple[str, str], Any]:
    return {(op.method.upper(), op.path): op for op in (result.ok() for result in schema.get_all_operations())}


def call(operation, token: str, *, path: dict, query: dict | None = None, body: Any = None):
    kwargs: dict[str, Any] = {"path_parameters": path, "query": query or {}}
    if body is not None:
        kwargs["body"], kwargs["media_type"] = body, "application/json"
    case = operation.Case(**kwargs)
    response = case.call(headers={"Authorization": f"Token {token}"})
    case.validate_response(response, checks=CHECKS)
    return response


def test_every_operation_has_a_valid_request(setup):
    schema, _, _ = setup
    found = set(operations(schema))
    assert sorted(found - set(VALID)) == [], "add the new operations to VALID"
    assert sorted(set(VALID) - found) == []


@pytest.mark.slow
def test_every_operation_answers_as_documented_when_it_succeeds_and_when_it_fails(setup):
    schema, token, ctx = setup
    wrong = []
    with time_machine.travel(NOW, tick=True):
        for key, operation in sorted(operations(schema).items()):
            expected, request = VALID[key]
            parts = request(ctx)
            path = parts.get("path") or ({"id": parts[ID]} if ID in parts else {})
            try:
                response = call(operation, token, path=path, query=parts.get("query"), body=parts.get("body"))
                if response.status_code != expected:
                    wrong.append(f"{key}: {response.status_code} {response.text[:300]}")
                if "id" in path:  # the same operation on a row that does not exist: the documented 404
                    missing = call(operation, token, path={"id": 2**31}, body=parts.get("body"))
                    if missing.status_code != 404:
                        wrong.append(f"{key} (no such row): {missing.status_code}")
                elif key[0] != "GET":  # an empty body: the documented 400 naming the fields
                    empty = call(operation, token, path=path, body={})
                    if empty.status_code != 400 or empty.json()["code"] != "invalid":
                        wrong.append(f"{key} (empty body): {empty.status_code} {empty.text[:200]}")
            except (Exception, BaseExceptionGroup) as exc:  # collect every failure, then report them all
                wrong.append(f"{key}: {str(exc)[:1500]}")
    assert wrong == [], "\n\n".join(wrong)


def test_custom_actions_that_answer_arrays_are_documented_as_arrays(setup):
    schema, _, _ = setup
    for path, method in [
        ("/api/appointments/{id}/move/", "post"),
        ("/api/appointments/{id}/cancel/", "post"),
        ("/api/series/preview/", "post"),
        ("/api/procedures/{id}/warnings/", "get"),
        ("/api/free-slots/", "get"),
    ]:
        body = schema.raw_schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert body["type"] == "array", path
    for path in ["/api/appointments/", "/api/series/", "/api/procedures/"]:
        body = schema.raw_schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert body["$ref"].startswith("#/components/schemas/Paginated"), path


def test_the_error_answers_are_documented_with_their_code(setup):
    schema, _, _ = setup
    responses = schema.raw_schema["paths"]["/api/patients/"]["get"]["responses"]
    error = responses["400"]["content"]["application/json"]["schema"]
    assert error["required"] == ["detail", "code"]
    assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert (
        "401" not in schema.raw_schema["paths"]["/api/calendar/providers/{provider_id}/{token}.ics"]["get"]["responses"]
    )


def test_a_user_reads_as_id_and_name_and_is_written_as_an_id(setup):
    schema, _, _ = setup
    components = schema.raw_schema["components"]["schemas"]
    assert components["UserRef"]["required"] == ["id", "name"]
    for component, field in [
        ("ProcedureDetail", "signed_by"),
        ("ProcedureDetail", "voided_by"),
        ("ProcedureDetail", "consent_obtained_by"),
        ("Appointment", "hours_override_by"),
        ("Addendum", "author"),
        ("MassageNote", "signed_by"),
        ("MassageNoteAddendum", "author"),
        ("TreatmentPlan", "created_by"),
        ("SignAcknowledgement", "acknowledged_by"),
    ]:
        assert components[component]["properties"][field]["allOf"] == [{"$ref": "#/components/schemas/UserRef"}], (
            component,
            field,
        )
    assert components["ProcedureRequest"]["properties"]["consent_obtained_by"]["type"] == "integer"
