"""The clock rule, seen by staff: every admin page and every __str__ shows clinic time, never UTC.

The clock stands at 2026-11-30 02:30 UTC, which is Sunday 29 November 21:30 in New York: the UTC
date and the clinic date differ. Every instant below is chosen so its UTC rendering (date or time)
cannot appear on a page for any other reason.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from clinic import roles
from clinic.clock import patient_datetime, patient_phone, staff_date, staff_datetime
from scheduling.booking import appointment_book
from scheduling.models import TimeOff
from tests.factories import (
    AppointmentTypeFactory,
    InjectionFactory,
    MassageNoteFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    signed_procedure,
    staff_user,
    working_week,
)
from tpi.plans import plan_create
from tpi.signing import addendum_add

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC)  # Sun 29 Nov 21:30 in the clinic


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY)


# The instants staff read, in clinic time, and their UTC renderings that must never show.
APPOINTMENT = local(2026, 11, 30, 21, 35)  # 2026-12-01 02:35 UTC
PERFORMED = local(2026, 11, 20, 22, 10)  # 2026-11-21 03:10 UTC
MASSAGE = local(2026, 11, 29, 21, 20)  # 2026-11-30 02:20 UTC
TIME_OFF = local(2026, 12, 2, 20, 5)  # 2026-12-03 01:05 UTC
ADDENDUM_AT = local(2026, 11, 29, 20, 40)  # 2026-11-30 01:40 UTC
UTC_FORMS = [
    "02:35",
    "2:35 a.m.",
    "03:10",
    "3:10 a.m.",
    "02:20",
    "2:20 a.m.",
    "01:05",
    "1:05 a.m.",
    "01:40",
    "1:40 a.m.",
    "2026-11-21",  # the UTC date of the procedure (performed on the 20th in the clinic)
    "Nov. 21, 2026",
    "2026-12-03",  # the UTC date of the time off
    "Dec. 3, 2026",
]


@pytest.fixture(autouse=True)
def _clinic_zone(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def world():
    """Records whose instants fall on another UTC date than their clinic date, and a clinic admin."""
    with time_machine.travel(PERFORMED + dt.timedelta(minutes=5), tick=False):
        doctor = working_week(ProviderFactory(), start=dt.time(6), end=dt.time(23, 30))
        patient = PatientFactory(mobile_phone="+12025550178")
        signed = signed_procedure(performed_at=PERFORMED, provider=doctor, patient=patient)
    with time_machine.travel(ADDENDUM_AT, tick=False):
        addendum_add(procedure=signed, author=doctor.user, text="Patient called: less pain.")
    with time_machine.travel(NOW, tick=False):
        room, visit = RoomFactory(), AppointmentTypeFactory()
        appointment = appointment_book(
            patient=patient, provider=doctor, room=room, appointment_type=visit, start=APPOINTMENT, by=None
        )
        TimeOff.objects.create(provider=doctor, start=TIME_OFF, end=TIME_OFF + dt.timedelta(hours=2), reason="")
        # A draft on the same site nine days later: its sign warnings name the earlier injection's date.
        draft = InjectionFactory(
            procedure__patient=patient, procedure__provider=doctor, procedure__performed_at=local(2026, 11, 29, 21)
        ).procedure
        note = MassageNoteFactory(procedure=draft, performed_at=MASSAGE)
        plan = plan_create(
            patient=patient,
            by=doctor.user,
            provider=doctor,
            appointment_type=visit,
            start_date=dt.date(2026, 12, 7),
            preferred_time=dt.time(21, 35),
            interval_weeks=4,
            injections=2,
        )
    return {
        "admin": staff_user(roles.CLINIC_ADMIN),
        "appointment": appointment,
        "signed": signed,
        "draft": draft,
        "note": note,
        "plan": plan,
    }


def _admin_urls() -> list[str]:
    """Return every admin URL: each model's list and add page and each object's own pages."""
    urls = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        for pattern in model_admin.get_urls():
            name = pattern.name
            # POST-only actions (a status move, copy forward) show no page of their own.
            if not name or name.endswith(("_delete", "_status", "_history", "_copy_forward")):
                continue
            needs_id = "<" in str(pattern.pattern) and not name.endswith("_autocomplete")
            if not needs_id:
                urls.append(reverse(f"admin:{name}"))
                continue
            for pk in model._default_manager.values_list("pk", flat=True)[:5]:
                urls.append(reverse(f"admin:{name}", args=[pk]))
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?all=")
    urls.append(reverse("admin:scheduling_appointment_daysheet") + "?date=2026-11-30")
    urls.append(reverse("admin:scheduling_appointment_daysheet") + "?date=2026-11-30&view=room")
    return urls


@time_machine.travel(NOW, tick=False)
def test_every_admin_page_shows_clinic_time_and_never_utc(client, world):
    client.force_login(world["admin"])
    leaks, pages = [], {}
    for url in _admin_urls():
        response = client.get(url)
        if response.status_code == 403:  # pages nobody may open (adding a message by hand, ...)
            continue
        assert response.status_code in (200, 302), url
        body = response.content.decode()
        pages[url] = body
        leaks += [f"{url}: {form}" for form in UTC_FORMS if form in body]
    assert leaks == []
    # One style for staff (clinic/formats/en): 2026-11-30 21:35, never Django's "Nov. 30, 2026, 9:35 p.m.".
    month = r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
    django_style = re.compile(month + r"|\d [ap]\.m\.")
    assert [url for url, body in pages.items() if django_style.search(body)] == []
    appointment = pages[reverse("admin:scheduling_appointment_change", args=[world["appointment"].pk])]
    assert "2026-11-30 21:35" in appointment
    assert "21:35" in pages[reverse("admin:scheduling_appointment_daysheet") + "?date=2026-11-30"]
    procedures = pages[reverse("admin:tpi_procedure_changelist")]
    assert f"TPI 2026-11-20 {world['signed'].patient}" in procedures
    draft = pages[reverse("admin:tpi_procedure_change", args=[world["draft"].pk])]
    assert "Upper trapezius was injected on 2026-11-20, fewer than" in draft
    occurrences = pages[reverse("admin:tpi_planoccurrence_changelist")]
    assert "2026-12-07" in occurrences


@time_machine.travel(NOW, tick=False)
def test_every_str_shows_clinic_time_and_never_utc(world):
    leaks, checked = [], 0
    for model in apps.get_models():
        if model._meta.app_label not in {"clinic", "scheduling", "tpi", "messaging", "audit", "accounts"}:
            continue
        for obj in model._default_manager.all()[:50]:
            text = str(obj)
            checked += 1
            leaks += [f"{model.__name__}: {text}" for form in UTC_FORMS if form in text]
    assert leaks == []
    assert checked > 20
    assert str(world["appointment"]) == "TPI procedure 2026-11-30 21:35"
    assert str(world["signed"]) == f"TPI 2026-11-20 {world['signed'].patient} (signed)"
    assert str(world["note"]) == "Massage 2026-11-29 21:20 (10 min)"
    assert str(world["signed"].addenda.get()) == "Addendum 2026-11-29 20:40"
    assert str(TimeOff.objects.get()) == f"{world['appointment'].provider} off 2026-12-02 20:05"


def test_staff_helpers_use_the_clinic_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    assert staff_datetime(NOW) == "2026-11-29 21:30"
    assert staff_date(NOW) == "2026-11-29"
    assert staff_date(dt.date(2026, 12, 25)) == "2026-12-25"
    assert staff_datetime(None, empty="not answered") == "not answered"


def test_patient_helpers_write_the_patients_zone_as_people_write_it():
    christmas = dt.datetime(2026, 12, 25, 21, 30, tzinfo=dt.UTC)
    assert patient_datetime(christmas, time_zone="America/New_York", language="en") == "Fri 25 Dec, 4:30 PM"
    assert patient_datetime(christmas, time_zone="America/Los_Angeles", language="en") == "Fri 25 Dec, 1:30 PM"
    assert patient_datetime(christmas, time_zone="Europe/Madrid", language="es") == "vie 25/12, 22:30"
    assert patient_datetime(NOW, time_zone="America/New_York", language="en") == "Sun 29 Nov, 9:30 PM"
    assert patient_phone("+15555550100") == "(555) 555-0100"
    assert patient_phone("+15555550100", patient_number="+34600123456") == "+1 555-555-0100"


@pytest.mark.parametrize(
    "number", ["+12025550143", "+15555550100", "+34600123456", "+447911123456", "+5511912345678", "+8613812345678",
               "+12", "+999123456789", "+0123456789", "(202) 555-0143", "+44 7911 123456"],
)  # fmt: skip
def test_the_clinic_number_is_written_the_same_for_a_patient_number_read_as_text_or_parsed(number):
    from phonenumber_field.phonenumber import to_python

    parsed = to_python(number, region="US")  # as the field loads a stored number
    for clinic_number in ("+15555550100", "+34910000000"):
        assert patient_phone(clinic_number, patient_number=number) == patient_phone(
            clinic_number, patient_number=parsed
        )


@time_machine.travel(NOW, tick=False)
def test_api_text_fields_read_clinic_time_and_datetimes_keep_their_offset(world):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world["admin"])

    appointment = api.get(f"/api/appointments/{world['appointment'].pk}/").json()
    listed = api.get("/api/appointments/", {"date_from": "2026-11-30", "date_to": "2026-11-30"}).json()["results"]
    plan = api.get(f"/api/treatment-plans/{world['plan'].pk}/").json()

    assert (appointment["summary"], appointment["start"]) == (
        "TPI procedure 2026-11-30 21:35",  # what staff read: clinic time, never the UTC date (1 December)
        "2026-11-30T21:35:00-05:00",  # what machines read: ISO 8601 with the offset
    )
    assert [a["id"] for a in listed] == [world["appointment"].pk]  # the clinic's 30 November, not UTC's
    assert [o["target_date"] for o in plan["occurrences"]] == ["2026-12-07", "2027-01-04"]
    leaks = [form for form in UTC_FORMS if form in str(appointment) + str(plan)]
    assert leaks == []
