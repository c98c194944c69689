import datetime as dt
import io
import logging

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient
from twilio.request_validator import RequestValidator

from clinic import roles
from clinic.messaging.backends import locmem
from clinic.messaging.models import InboundMessage
from clinic.messaging.outbox import message_deliver, message_queue
from clinic.models import Patient
from clinic.security.logging import PHIScrubFilter, scrub
from tests.factories import (
    AppointmentTypeFactory,
    ProviderFactory,
    RoomFactory,
    site,
    staff_user,
    working_week,
)

FIRST, LAST, PHONE, EMAIL = "Quintessa", "Vanderbilt", "+12025550187", "quintessa.v@patients.example"
NOON_NY = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)  # inside the patient's send window
PHI = [FIRST, LAST, PHONE, "2025550187", "(202) 555-0187", EMAIL, "1967-08-29", "08/29/1967", "Aug. 29, 1967"]


def add_form() -> dict:
    return {
        "legal_first_name": FIRST,
        "legal_last_name": LAST,
        "preferred_name": "",
        "date_of_birth": "1967-08-29",
        "sex": "female",
        "mobile_phone": PHONE,
        "email": EMAIL,
        "preferred_channel": "sms",
        "time_zone": "America/New_York",
        "preferred_language": "en",
        "status": "active",
        "allergies": "",
        "anticoagulant_details": "",
        "sms_consent": "on",
        "sms_consent_method": "written",
        "sms_consent_at_0": "2026-02-27",
        "sms_consent_at_1": "10:00:00",
        # tpi's read-only procedures inline on the patient page
        "procedures-TOTAL_FORMS": "0",
        "procedures-INITIAL_FORMS": "0",
    }


def everything_logged(caplog) -> str:
    """Return every message and traceback as emitted, before the scrubbing filter (code must not log PHI)."""
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def clinical_flow(patient: Patient, admin) -> None:
    """Sign a procedure, book a visit, send an SMS (locmem) and take the patient's signed reply."""
    with time_machine.travel(NOON_NY, tick=False):
        doctor = working_week(ProviderFactory())
        clinician = APIClient()
        clinician.force_authenticate(doctor.user)
        injection = {"site": site("Upper trapezius").pk, "laterality": "left", "anaesthetic_agent": "lidocaine"}
        injection |= {"anaesthetic_concentration_percent": "1.00", "anaesthetic_volume_ml": "2.00", "needle_gauge": 25}
        documented = clinician.post(
            "/api/procedures/",
            {
                "patient": patient.pk,
                "provider": doctor.pk,
                "performed_at": (NOON_NY - dt.timedelta(hours=1)).isoformat(),
                "indication": f"Trapezius pain; {FIRST} works at a desk",
                "pain_before": 7,
                "pain_after": 3,
                "consent_obtained": True,
                "consent_obtained_by": doctor.user.pk,
                "consent_obtained_at": (NOON_NY - dt.timedelta(hours=2)).isoformat(),
                "injections": [injection | {"lot_number": "LIDO-1"}],
            },
            format="json",
        )
        assert documented.status_code == 201, documented.json()
        procedure_id = documented.json()["id"]
        assert clinician.get(f"/api/procedures/{procedure_id}/").status_code == 200
        assert clinician.post(f"/api/procedures/{procedure_id}/sign/").status_code == 200
        desk = APIClient()
        desk.force_authenticate(admin)
        booked = desk.post(
            "/api/appointments/",
            {
                "patient": patient.pk,
                "provider": doctor.pk,
                "room": RoomFactory().pk,
                "appointment_type": AppointmentTypeFactory().pk,
                "start": (NOON_NY + dt.timedelta(days=1)).isoformat(),
            },
            format="json",
        )
        assert booked.status_code == 201, booked.json()
        message = message_queue(patient=patient, channel="sms", purpose="check_in", template="check_in", context={})
        message_deliver(message_id=message.pk)
        assert [m.to for m in locmem.outbox] == [PHONE]
        params = {"MessageSid": "SM" + "7" * 32, "From": PHONE, "To": "+15555550199", "Body": "4"}
        signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
            "http://testserver/webhooks/twilio/sms/", params
        )
        webhook = Client()
        reply = webhook.post("/webhooks/twilio/sms/", params, headers={"X-Twilio-Signature": signature})
        assert reply.status_code == 200
        assert InboundMessage.objects.get().patient == patient


@pytest.fixture
def _sms_locmem(settings, sms_outbox):
    settings.TWILIO_AUTH_TOKEN = "no-phi-test-token-0123456789"
    settings.TWILIO_WEBHOOK_BASE_URL = ""


@pytest.mark.django_db
@pytest.mark.urls("tests.urls")
@pytest.mark.usefixtures("_sms_locmem")
def test_a_full_flow_logs_no_name_phone_email_or_birth_date(client, caplog):
    caplog.set_level(logging.DEBUG)
    admin = staff_user(roles.CLINIC_ADMIN)
    # A failed sign-in, then a real one.
    client.post("/admin/login/", {"username": "nobody", "password": "wrong"})
    client.force_login(admin)
    # Create the patient in the admin (first a rejected form, then a valid one).
    assert client.post("/admin/clinic/patient/add/", add_form() | {"date_of_birth": "not a date"}).status_code == 200
    assert client.post("/admin/clinic/patient/add/", add_form()).status_code == 302
    patient = Patient.objects.get(legal_last_name=LAST)
    # Read it in the admin (change page and a search) and through the API; export it.
    assert client.get(f"/admin/clinic/patient/{patient.pk}/change/").status_code == 200
    assert client.get(f"/admin/clinic/patient/?q={LAST}").status_code == 200
    api = APIClient()
    api.force_authenticate(admin)
    assert api.get(f"/api/test-patients/{patient.pk}/").status_code == 200
    assert api.get(f"/api/test-patients/?search={EMAIL}").status_code == 200
    bad = api.patch(f"/api/test-patients/{patient.pk}/", {"email": f"{FIRST} at home", "mobile_phone": "call me"})
    assert bad.status_code == 400
    assert api.get(f"/api/patients/{patient.pk}/export/").status_code == 200
    nobody = APIClient()
    nobody.force_authenticate(staff_user(roles.PROVIDER))
    assert nobody.get(f"/api/patients/{patient.pk}/export/?name={LAST}").status_code == 403
    clinical_flow(patient, admin)

    logged = everything_logged(caplog)
    assert f"/api/patients/{patient.pk}/export/" in logged  # the request log did run
    for value in PHI:
        assert value not in logged, value


def test_logging_config_scrubs_on_every_handler_and_never_logs_sql():
    assert settings.LOGGING["filters"]["scrub_phi"]["()"] == "clinic.security.logging.PHIScrubFilter"
    for name, handler in settings.LOGGING["handlers"].items():
        assert "scrub_phi" in handler["filters"], name
    for handler in logging.getLogger().handlers:
        if not type(handler).__module__.startswith("_pytest"):
            assert any(isinstance(f, PHIScrubFilter) for f in handler.filters), handler
    assert logging.getLogger("django.db.backends").getEffectiveLevel() >= logging.INFO


def test_the_configured_handler_scrubs_a_careless_log_line():
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, PHIScrubFilter) for f in h.filters))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        log = logging.getLogger("clinic.careless")
        log.error("sending to %s <%s> born %s", PHONE, EMAIL, "1967-08-29")
        try:
            raise ValueError(f"bad patient {{'legal_last_name': '{LAST}', 'legal_first_name': '{FIRST}'}}")
        except ValueError:
            log.exception("failed for legal_last_name=%s", LAST)
    finally:
        handler.setStream(previous)
    output = buffer.getvalue()
    assert "sending to [redacted] <[redacted]> born [redacted]" in output
    assert "failed for legal_last_name=[redacted]" in output
    assert "ValueError" in output
    for value in PHI:
        assert value not in output, value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ann.lee+x@example.co.uk now", "mail [redacted] now"),
        ("sms +12025550143 queued", "sms [redacted] queued"),
        ("call (202) 555-0143 or 202-555-0143 or 202.555.0143", "call [redacted] or [redacted] or [redacted]"),
        ("dob 1980-05-17 and 5/17/1980", "dob [redacted] and [redacted]"),
        ("legal_first_name='Ann' sex=female", "legal_first_name=[redacted] sex=female"),
        ('{"email": "a@b.example", "mrn": "12345674"}', '{"email": [redacted], "mrn": "12345674"}'),
        ("note: Ann cried, status=ok", "note: [redacted] cried, status=ok"),
        ("GET /api/patients/42/export/ 200 12ms user=7", "GET /api/patients/42/export/ 200 12ms user=7"),
        ("message 1234 sent via provider SM123", "message 1234 sent via provider SM123"),
    ],
)
def test_scrub(text, expected):
    assert scrub(text) == expected


def test_filter_survives_a_broken_format_string():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s %s", (EMAIL,), None)
    assert PHIScrubFilter().filter(record) is True
    assert EMAIL not in record.getMessage()
