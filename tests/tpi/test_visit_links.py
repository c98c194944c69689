"""Document from the visit: the day sheet and appointment page offer tpi's links, prefilled (issue 10)."""

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine

from clinic import roles
from scheduling.appointment_links import appointment_links_for
from scheduling.booking import appointment_book, appointment_status_set
from tests.factories import (
    AppointmentTypeFactory,
    InjectionFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
    staff_user,
    working_week,
)
from tests.tpi.test_admin_procedures import form_data
from tpi.models import Procedure
from tpi.signing import procedure_sign
from tpi.visit_links import appointments_to_pick

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 3, 10, 11, 0, tzinfo=TZ)  # a Tuesday, 11:00 in the clinic
SHEET = "/admin/scheduling/appointment/day-sheet/?date=2026-03-10"
ADD = "/admin/tpi/procedure/add/"


@pytest.fixture(autouse=True)
def _clinic_zone(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def visit(frozen):
    """Dr Lee's TPI visit at 09:00 (checked in) and the therapist's massage at 10:00, same patient."""

    class Visit:
        doctor = working_week(ProviderFactory(user__first_name="Morgan", user__last_name="Lee"))
        other_doctor = working_week(ProviderFactory())
        therapist = working_week(ProviderFactory(role="massage_therapist", credentials="LMT"))
        room = RoomFactory(name="Room 1")
        tpi = AppointmentTypeFactory(code="tpi", name="TPI procedure")
        massage = AppointmentTypeFactory(code="massage", name="Massage", allowed_roles=["massage_therapist"])
        patient = PatientFactory()
        other_patient = PatientFactory()
        desk = staff_user(roles.FRONT_DESK)

    def book(provider, kind, hour, patient=None, day=NOW):
        start = day.replace(hour=hour, minute=0)
        return appointment_book(
            patient=patient or Visit.patient, provider=provider, room=Visit.room, appointment_type=kind,
            start=start, by=None,
        )  # fmt: skip

    Visit.book = staticmethod(book)
    with time_machine.travel(NOW - dt.timedelta(days=3), tick=False):
        Visit.injection = book(Visit.doctor, Visit.tpi, 9)
        Visit.massage_visit = book(Visit.therapist, Visit.massage, 10)
    for appointment in (Visit.injection, Visit.massage_visit):
        appointment_status_set(appointment=appointment, status="checked_in", by=None)
    return Visit


def links_on_sheet(client, user, appointment):
    client.force_login(user)
    page = client.get(SHEET).content.decode()
    card = re.search(rf'data-appointment="{appointment.pk}".*?</article>', page, re.S).group(0)
    return [
        (label, html.unescape(url)) for url, label in re.findall(r'<a class="button" href="([^"]+)">([^<]+)</a>', card)
    ]


def test_the_provider_is_offered_document_procedure_prefilled_on_their_checked_in_visit(client, visit):
    links = links_on_sheet(client, visit.doctor.user, visit.injection)

    assert links == [
        (
            "Document procedure",
            f"{ADD}?patient={visit.patient.pk}&provider={visit.doctor.pk}&appointment={visit.injection.pk}",
        )
    ]


def test_no_link_before_check_in_nor_for_other_providers_nor_the_front_desk(client, visit):
    booked = visit.book(visit.doctor, visit.tpi, 14)

    assert links_on_sheet(client, visit.doctor.user, booked) == []
    assert links_on_sheet(client, visit.other_doctor.user, visit.injection) == []
    assert links_on_sheet(client, visit.desk, visit.injection) == []
    # A therapist documents no procedure, and has no massage note to write before the procedure exists.
    assert links_on_sheet(client, visit.therapist.user, visit.massage_visit) == []


def test_once_documented_the_provider_opens_it_and_the_therapist_writes_the_massage_note(client, visit, frozen):
    injection = InjectionFactory(
        procedure__patient=visit.patient,
        procedure__provider=visit.doctor,
        procedure__appointment=visit.injection,
        procedure__performed_at=frozen - dt.timedelta(hours=1, minutes=30),
    )
    procedure = procedure_sign(procedure=injection.procedure, by=visit.doctor.user)

    assert links_on_sheet(client, visit.doctor.user, visit.injection) == [
        ("Open procedure", f"/admin/tpi/procedure/{procedure.pk}/change/")
    ]
    # The massage is its own visit: the patient's procedure of the same day is the one to follow.
    expected = [("Write massage note", f"/admin/tpi/massagenote/add/?procedure={procedure.pk}")]
    assert links_on_sheet(client, visit.therapist.user, visit.massage_visit) == expected
    assert links_on_sheet(client, visit.therapist.user, visit.injection) == expected


def test_the_massage_link_goes_once_the_note_window_closed(client, visit, frozen):
    injection = InjectionFactory(
        procedure__patient=visit.patient,
        procedure__provider=visit.doctor,
        procedure__appointment=visit.injection,
        procedure__performed_at=frozen - dt.timedelta(hours=1, minutes=30),
    )
    procedure_sign(procedure=injection.procedure, by=visit.doctor.user)

    with time_machine.travel(frozen + dt.timedelta(hours=24, minutes=1), tick=False):
        links = appointment_links_for(appointments=[visit.massage_visit], user=visit.therapist.user)

    assert links == {}


def test_a_clinic_admin_sees_both_links_on_the_appointment_page(client, visit, frozen):
    admin_user = UserFactory(is_superuser=True)
    client.force_login(admin_user)

    page = html.unescape(client.get(f"/admin/scheduling/appointment/{visit.injection.pk}/change/").content.decode())

    query = f"patient={visit.patient.pk}&provider={visit.doctor.pk}&appointment={visit.injection.pk}"
    assert f'<a class="visit-link" href="{ADD}?{query}">Document procedure</a>' in page
    massage_page = client.get(f"/admin/scheduling/appointment/{visit.massage_visit.pk}/change/").content.decode()
    assert "Document procedure" not in massage_page  # a therapist's visit documents no injection


def test_the_prefilled_add_page_offers_only_the_patients_visits_around_that_day(client, visit, frozen):
    tomorrow = visit.book(visit.doctor, visit.tpi, 15, day=NOW + dt.timedelta(days=1))
    later = visit.book(visit.doctor, visit.tpi, 15, day=NOW + dt.timedelta(days=2))
    theirs = visit.book(visit.doctor, visit.tpi, 13, patient=visit.other_patient)
    client.force_login(visit.doctor.user)
    query = f"patient={visit.patient.pk}&provider={visit.doctor.pk}&appointment={visit.injection.pk}"

    page = client.get(f"{ADD}?{query}").content.decode()

    options = re.findall(
        r'<option value="(\d*)"( selected)?>([^<]*)</option>', page.split('name="appointment"')[1].split("</select>")[0]
    )
    assert [(value, label) for value, _, label in options] == [
        ("", "---------"),
        (str(visit.injection.pk), "2026-03-10 09:00 TPI procedure with Morgan Lee, MD (Checked in)"),
        (str(visit.massage_visit.pk), f"2026-03-10 10:00 Massage with {visit.therapist} (Checked in)"),
        (str(tomorrow.pk), "2026-03-11 15:00 TPI procedure with Morgan Lee, MD (Booked)"),
    ]
    assert [value for value, selected, _ in options if selected] == [str(visit.injection.pk)]
    assert str(later.pk) not in [v for v, _, _ in options]
    assert str(theirs.pk) not in [v for v, _, _ in options]


def test_the_picker_is_empty_without_a_patient():
    assert list(appointments_to_pick(patient_id=None, around=NOW)) == []


def test_an_unreadable_prefill_is_a_400(client, visit):
    client.force_login(visit.doctor.user)

    assert client.get(f"{ADD}?appointment=abc").status_code == 400
    assert client.get(f"{ADD}?patient={visit.patient.pk}&appointment=999999").status_code == 400


def test_saving_the_prefilled_page_documents_the_visit(client, visit, frozen):
    client.force_login(visit.doctor.user)
    query = f"patient={visit.patient.pk}&provider={visit.doctor.pk}&appointment={visit.injection.pk}"
    data = {**form_data(frozen, visit.patient, visit.doctor), "appointment": visit.injection.pk}

    response = client.post(f"{ADD}?{query}", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Procedure.objects.get().appointment == visit.injection


def test_another_patients_visit_is_refused(client, visit, frozen):
    theirs = visit.book(visit.doctor, visit.tpi, 13, patient=visit.other_patient)
    client.force_login(visit.doctor.user)
    data = {**form_data(frozen, visit.patient, visit.doctor), "appointment": theirs.pk}

    response = client.post(ADD, data)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Procedure.objects.count() == 0
