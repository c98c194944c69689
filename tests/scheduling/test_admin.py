import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from scheduling.booking import appointment_book
from scheduling.models import Appointment
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.conftest import at

BOOK = "/admin/scheduling/appointment/book/"
SHEET = "/admin/scheduling/appointment/day-sheet/"


@pytest.fixture
def desk(clinic, client):
    """The front-desk user, logged in, with the scheduling and patient permissions the desk needs."""
    user = clinic.frontdesk
    codenames = ["view_appointment", "add_appointment", "change_appointment", "view_patient"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def form_data(c, **overrides):
    return {
        "patient": c.patient.pk,
        "provider": c.doctor.pk,
        "room": c.room.pk,
        "appointment_type": c.tpi.pk,
        "start": "2026-11-30T10:00",
        "notes": "",
        **overrides,
    }


def test_booking_form_books_and_goes_to_the_day_sheet(clinic, desk):
    response = desk.post(BOOK, form_data(clinic, notes="right rhomboid"))

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    # The day sheet of the room's location, on its local day.
    assert response["Location"] == f"{SHEET}?date=2026-11-30&location={clinic.room.location_id}"
    assert (appointment.start, appointment.notes, appointment.created_by) == (
        at(2026, 11, 30, 10),
        "right rhomboid",
        clinic.frontdesk,
    )


def test_booking_form_shows_the_conflict_and_suggestions(clinic, desk):
    first = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )

    response = desk.post(BOOK, form_data(clinic))

    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "Conflict: Morgan Lee, MD is already booked: TPI procedure for "
        f"{first.patient.display_name} with Morgan Lee, MD in Room 2, Mon 2026-11-30 10:00-10:30." in body
    )
    values = re.findall(r'name="suggestion" value="([^"]+)"', body)
    # Issue 9: in time order from the requested time, the nearest first (10:45 follows the blocker's
    # buffer), keeping the provider and room asked for.
    assert values[:3] == [
        f"2026-11-30T10:45|{clinic.doctor.pk}|{clinic.room.pk}",
        f"2026-11-30T11:00|{clinic.doctor.pk}|{clinic.room.pk}",
        f"2026-11-30T11:15|{clinic.doctor.pk}|{clinic.room.pk}",
    ]
    assert len(values) == 8
    assert Appointment.objects.count() == 1

    # One click on a suggestion books it.
    response = desk.post(
        BOOK, {**form_data(clinic), "suggestion": f"2026-11-30T10:45|{clinic.doctor.pk}|{clinic.room.pk}"}
    )
    assert response.status_code == 302
    assert Appointment.objects.get(patient=clinic.patient).start == at(2026, 11, 30, 10, 45)


def test_booking_form_outside_hours_and_override_only_for_clinic_admin(clinic, desk, client):
    response = desk.post(BOOK, form_data(clinic, start="2026-11-30T18:00", override_hours="on"))
    assert "The time is outside the provider&#x27;s working hours." in response.content.decode()
    assert 'name="override_hours"' not in response.content.decode()

    manager = UserFactory(username="manager")
    manager.groups.add(Group.objects.get(name="clinic admin"))
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["add_appointment", "view_appointment"]))
    client.force_login(manager)
    assert 'name="override_hours"' in client.get(BOOK).content.decode()
    response = client.post(BOOK, form_data(clinic, start="2026-11-30T18:00", override_hours="on"))

    assert response.status_code == 302
    assert Appointment.objects.get().hours_override_by == manager


def test_booking_form_names_bad_fields(clinic, desk):
    response = desk.post(BOOK, form_data(clinic, provider=clinic.therapist.pk, start="tomorrow"))

    assert response.status_code == 200
    assert response.context["form"].errors == {"start": ["Enter a valid date/time."]}
    response = desk.post(BOOK, form_data(clinic, provider=clinic.therapist.pk))
    assert response.context["form"].errors == {
        "provider": [f"{clinic.therapist} (Massage therapist) may not take TPI procedure visits."]
    }


def test_add_link_goes_to_the_booking_form_and_needs_permission(clinic, desk, client):
    assert desk.get("/admin/scheduling/appointment/add/")["Location"] == BOOK
    assert desk.get(BOOK).status_code == 200
    client.force_login(UserFactory(username="nobody"))
    assert client.get(BOOK).status_code == 403
    assert client.get(SHEET).status_code == 403


def test_patient_autocomplete_finds_patients(clinic, desk):
    PatientFactory(legal_last_name="Zanzibar")
    response = desk.get(
        "/admin/autocomplete/",
        {"app_label": "scheduling", "model_name": "appointment", "field_name": "patient", "term": "zanzi"},
    )
    assert [r["text"].split(",")[0].split()[-1] for r in response.json()["results"]] == ["Zanzibar"]


def _fill_day(clinic, count_per_provider):
    from tests.factories import ProviderFactory, RoomFactory, working_week

    providers = [clinic.doctor] + [working_week(ProviderFactory()) for _ in range(2)]
    for p_index, provider in enumerate(providers):
        room = RoomFactory(name=f"Sheet room {p_index}")
        for i in range(count_per_provider):
            appointment_book(
                patient=PatientFactory(),
                provider=provider,
                room=room,
                appointment_type=clinic.tpi,
                start=at(2026, 11, 30, 8) + i * (at(2026, 11, 30, 8, 40) - at(2026, 11, 30, 8)),
                by=None,
            )


@pytest.mark.parametrize("per_provider", [1, 12])
def test_day_sheet_runs_constant_queries(clinic, desk, django_assert_max_num_queries, per_provider):
    _fill_day(clinic, per_provider)
    # Other days' appointments must not matter either.
    appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 12, 1, 9),
        by=None,
    )
    # 16: the session (and its save), the user, permissions, the sidebar's role groups (once per request); the
    # sheet reads appointments, providers, working hours, time off, the locations to choose from and, by room,
    # the rooms and their locations' opening hours and closures.
    with django_assert_max_num_queries(16):
        response = desk.get(SHEET, {"date": "2026-11-30"})
    with django_assert_max_num_queries(16):
        rooms = desk.get(SHEET, {"date": "2026-11-30", "view": "room"})

    assert response.status_code == rooms.status_code == 200
    assert response.content.decode().count('class="appointment status-booked"') == 3 * per_provider
    assert rooms.content.decode().count('class="appointment status-booked"') == 3 * per_provider


def test_day_sheet_shows_columns_navigation_and_actions(clinic, desk):
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )

    body = desk.get(SHEET, {"date": "2026-11-30"}).content.decode()

    assert "Morgan Lee, MD" in body
    assert clinic.patient.display_name in body
    assert "10:00&ndash;10:30" in body
    assert 'href="?date=2026-11-29&amp;view=provider"' in body
    assert 'href="?date=2026-12-01&amp;view=provider"' in body
    actions = re.findall(
        rf'action="/admin/scheduling/appointment/{appointment.pk}/status/".*?name="status" value="(\w+)"', body, re.S
    )
    assert actions == ["confirmed", "checked_in", "cancelled", "no_show"]
    assert clinic.patient.display_name not in desk.get(SHEET, {"date": "2026-12-01"}).content.decode()


def test_day_sheet_actions_change_status_with_history(clinic, desk):
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )
    url = reverse("admin:scheduling_appointment_status", args=[appointment.pk])

    response = desk.post(url, {"status": "checked_in", "next": f"{SHEET}?date=2026-11-30"})
    desk.post(url, {"status": "cancelled", "reason": ""})
    refused = desk.post(url, {"status": "cancelled", "reason": ""}, follow=True)

    assert response["Location"] == f"{SHEET}?date=2026-11-30"
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"
    assert [str(m) for m in refused.context["messages"]][-1] == "Give a reason for the cancellation."
    desk.post(url, {"status": "cancelled", "reason": "felt faint"})
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == ("cancelled", "felt faint")
    assert list(appointment.status_changes.values_list("to_status", "changed_by")) == [
        ("booked", None),
        ("checked_in", clinic.frontdesk.pk),
        ("cancelled", clinic.frontdesk.pk),
    ]
    assert desk.get(url).status_code == 405


def test_day_sheet_actions_say_what_they_did_in_words_not_by_id(clinic, desk):
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )
    url = reverse("admin:scheduling_appointment_status", args=[appointment.pk])

    confirmed = desk.post(url, {"status": "confirmed", "next": f"{SHEET}?date=2026-11-30"}, follow=True)

    said = [str(m) for m in confirmed.context["messages"]]
    assert said == [f"{clinic.patient.display_name}'s TPI procedure 2026-11-30 10:00 is now confirmed."]
    assert "#" not in said[0]


def _changelist_queries(desk, clinic) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = desk.get(
            "/admin/scheduling/appointment/",
            {
                "status__exact": "booked",
                "provider__id__exact": clinic.doctor.pk,
                "appointment_type__id__exact": clinic.tpi.pk,
            },
        )
    assert response.status_code == 200
    return response.context["cl"].result_count, len(queries)


def test_changelist_filters_and_constant_queries(clinic, desk):
    _fill_day(clinic, 3)
    three_rows, few_queries = _changelist_queries(desk, clinic)
    [
        appointment_book(
            patient=PatientFactory(),
            provider=clinic.doctor,
            room=clinic.room2,
            appointment_type=clinic.tpi,
            start=at(2026, 12, day, 9),
            by=None,
        )
        for day in range(1, 28)
    ]
    thirty_rows, many_queries = _changelist_queries(desk, clinic)

    assert (three_rows, thirty_rows) == (3, 30)
    assert many_queries == few_queries


def test_move_from_the_admin_with_conflict_and_suggestion(clinic, desk):
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )
    other = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 14),
        by=None,
    )
    url = f"/admin/scheduling/appointment/{appointment.pk}/move/"
    assert 'value="2026-11-30T10:00"' in desk.get(url).content.decode()
    move = {"start": "2026-11-30T14:15", "provider": clinic.doctor.pk, "room": clinic.room.pk}

    refused = desk.post(url, move)

    body = refused.content.decode()
    assert (
        "Conflict: Morgan Lee, MD is already booked: TPI procedure for "
        f"{other.patient.display_name} with Morgan Lee, MD in Room 2, Mon 2026-11-30 14:00-14:30." in body
    )
    assert re.findall(r'name="suggestion" value="([^"]+)"', body)[:2] == [
        f"2026-11-30T14:45|{clinic.doctor.pk}|{clinic.room.pk}",
        f"2026-11-30T15:00|{clinic.doctor.pk}|{clinic.room.pk}",
    ]
    response = desk.post(url, {**move, "suggestion": f"2026-11-30T14:45|{clinic.doctor.pk}|{clinic.room.pk}"})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == at(2026, 11, 30, 14, 45)


def test_day_sheet_asks_before_check_in_cancel_and_no_show(clinic, desk):
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )
    confirm = reverse("admin:scheduling_appointment_confirm_status", args=[appointment.pk])

    body = desk.get(SHEET, {"date": "2026-11-30"}).content.decode()
    asking = re.findall(rf'<button type="submit" name="action" value="(\w+)" formaction="{confirm}"', body)
    question = desk.post(confirm, {"status": "no_show", "next": f"{SHEET}?date=2026-11-30"})

    assert asking == ["checked_in", "cancelled", "no_show"]
    assert 'value="confirmed">Confirm</button>' in body
    text = question.content.decode()
    assert "No-show: are you sure?" in text
    assert f'action="/admin/scheduling/appointment/{appointment.pk}/status/"' in text
    assert '<input type="hidden" name="status" value="no_show">' in text
    appointment.refresh_from_db()
    assert appointment.status == "booked"  # asking changes nothing
    bogus = desk.post(confirm, {"status": "bogus"}, follow=True)
    assert [str(m) for m in bogus.context["messages"]][-1] == "Choose an action on the day sheet."
    assert desk.get(confirm).status_code == 405


def test_day_sheet_refuses_early_no_show_in_words_and_offers_undo_to_its_author(clinic, desk, frozen):
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )
    status = reverse("admin:scheduling_appointment_status", args=[appointment.pk])
    undo = reverse("admin:scheduling_appointment_undo_status", args=[appointment.pk])

    early = desk.post(status, {"status": "no_show"}, follow=True)
    desk.post(status, {"status": "checked_in"})
    sheet = desk.get(SHEET, {"date": "2026-11-30"}).content.decode()

    assert [str(m) for m in early.context["messages"]][-1] == (
        "The appointment starts at 10:00 on Mon 30 Nov: it cannot be a no-show yet."
    )
    assert f'action="{undo}"' in sheet
    undone = desk.post(undo, {"next": f"{SHEET}?date=2026-11-30"}, follow=True)
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert [str(m) for m in undone.context["messages"]][-1] == "Undone: the appointment is booked again."
    assert f'action="{undo}"' not in desk.get(SHEET, {"date": "2026-11-30"}).content.decode()

    desk.post(status, {"status": "confirmed"})
    frozen.shift(6 * 60)
    assert f'action="{undo}"' not in desk.get(SHEET, {"date": "2026-11-30"}).content.decode()
    late = desk.post(undo, {}, follow=True)
    assert [str(m) for m in late.context["messages"]][-1] == "Status changes can be undone for 5 minutes only."


def test_day_sheet_hides_undo_from_a_colleague(clinic, desk, client):
    appointment = appointment_book(
        patient=clinic.patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )
    desk.post(reverse("admin:scheduling_appointment_status", args=[appointment.pk]), {"status": "confirmed"})
    colleague = UserFactory(username="colleague", is_staff=True)
    colleague.user_permissions.add(*Permission.objects.filter(codename__in=["view_appointment", "change_appointment"]))
    client.force_login(colleague)

    body = client.get(SHEET, {"date": "2026-11-30"}).content.decode()

    assert "/status/undo/" not in body
    assert 'class="appointment status-confirmed"' in body


def test_day_sheet_shows_phone_and_alerts_to_the_desk_and_alerts_only_to_a_massage_therapist(clinic, desk, client):
    from clinic import roles
    from tests.factories import staff_user

    patient = PatientFactory(
        mobile_phone="+12025550178",
        allergies="penicillin",
        local_anaesthetic_allergy=True,
        on_anticoagulants=True,
        anticoagulant_details="warfarin",
    )
    appointment_book(
        patient=patient,
        provider=clinic.doctor,
        room=clinic.room,
        appointment_type=clinic.tpi,
        start=at(2026, 11, 30, 10),
        by=None,
    )
    alerts = [
        '<li class="alert alert-allergy">Local anaesthetic allergy</li>',
        '<li class="alert alert-allergy">Allergies: penicillin</li>',
        '<li class="alert alert-anticoagulant">Anticoagulant: warfarin</li>',
    ]

    body = desk.get(SHEET, {"date": "2026-11-30"}).content.decode()
    therapist = staff_user(roles.MASSAGE_THERAPIST, username="lmt")
    therapist.user_permissions.add(*Permission.objects.filter(codename="view_appointment"))
    client.force_login(therapist)
    theirs = client.get(SHEET, {"date": "2026-11-30"}).content.decode()

    assert '<div class="phone"><a href="tel:+12025550178">(202) 555-0178</a></div>' in body
    assert all(alert in body for alert in alerts)
    assert "555-0178" not in theirs
    assert all(alert in theirs for alert in alerts)


def test_day_sheet_shows_free_gaps_of_at_least_a_slot_step_within_working_hours(clinic, desk):
    from scheduling.models import TimeOff, WorkingHours

    # Monday: 08:00-12:00 and 13:00-17:00 (lunch is not free), off 15:00-16:00.
    WorkingHours.objects.filter(provider=clinic.doctor, weekday=0).update(end_time="12:00")
    WorkingHours.objects.create(provider=clinic.doctor, weekday=0, start_time="13:00", end_time="17:00")
    TimeOff.objects.create(provider=clinic.doctor, start=at(2026, 11, 30, 15), end=at(2026, 11, 30, 16))
    for hour, minute in [(10, 0), (10, 50)]:  # 10:00-10:30 blocked to 10:40; 10:40-10:50 is under a step
        appointment_book(
            patient=clinic.patient,
            provider=clinic.doctor,
            room=clinic.room,
            appointment_type=clinic.tpi,
            start=at(2026, 11, 30, hour, minute),
            by=None,
        )

    body = desk.get(SHEET, {"date": "2026-11-30"}).content.decode()
    column = body.split(f'data-column="{clinic.doctor.pk}"')[1].split("</section>")[0]

    assert re.findall(r'class="gap"[^>]*>(Free [^<]*)', column) == [
        "Free 08:00&ndash;10:00 (120 min) ",
        "Free 11:30&ndash;12:00 (30 min) ",
        "Free 13:00&ndash;15:00 (120 min) ",
        "Free 16:00&ndash;17:00 (60 min) ",
    ]
    assert (
        f'href="/admin/scheduling/appointment/book/?provider={clinic.doctor.pk}&amp;start=2026-11-30T08:00"' in column
    )
    assert desk.get(f"{BOOK}?provider={clinic.doctor.pk}&start=2026-11-30T08:00").status_code == 200
    rooms = desk.get(SHEET, {"date": "2026-11-30", "view": "room"}).content.decode()
    room_column = rooms.split(f'data-column="{clinic.room.pk}"')[1].split("</section>")[0]
    # Room 1 could be booked 08:00-17:00 (someone works then; no opening hours limit it) and is busy 10:00-11:30.
    assert re.findall(r'class="gap"[^>]*>(Free [^<]*)', room_column) == [
        "Free 08:00&ndash;10:00 (120 min) ",
        "Free 11:30&ndash;17:00 (330 min) ",
    ]
    assert f'href="/admin/scheduling/appointment/book/?room={clinic.room.pk}&amp;start=2026-11-30T11:30"' in room_column


def test_week_view_shows_one_providers_monday_to_sunday_in_clinic_time(clinic, desk, django_assert_max_num_queries):
    for start, provider in [
        (at(2026, 12, 2, 9), clinic.doctor),  # Wednesday
        (at(2026, 12, 6, 16, 30), clinic.doctor),  # Sunday 16:30 = Sunday 21:30 UTC
        (at(2026, 12, 7, 9), clinic.doctor),  # next Monday: another week
        (at(2026, 12, 3, 9), clinic.therapist),  # another provider
    ]:
        appointment_book(
            patient=clinic.patient,
            provider=provider,
            room=clinic.room,
            appointment_type=clinic.massage if provider == clinic.therapist else clinic.tpi,
            start=start,
            by=None,
        )
    week = reverse("admin:scheduling_appointment_week")

    sheet = desk.get(SHEET, {"date": "2026-12-02"}).content.decode()
    with django_assert_max_num_queries(11):  # 11: the locations to choose from, too
        response = desk.get(week, {"provider": clinic.doctor.pk, "date": "2026-12-02"})
    body = response.content.decode()

    assert f'href="{week}?provider={clinic.doctor.pk}&amp;date=2026-12-02"' in sheet
    days = re.findall(r'<section class="week-day" data-day="([^"]+)">(.*?)</section>', body, re.S)
    assert [d for d, _ in days] == [
        "Mon 30 Nov",
        "Tue 01 Dec",
        "Wed 02 Dec",
        "Thu 03 Dec",
        "Fri 04 Dec",
        "Sat 05 Dec",
        "Sun 06 Dec",
    ]
    assert [re.findall(r'class="time">([^<]+)<', html) for _, html in days] == [
        [],
        [],
        ["09:00&ndash;09:30"],
        [],
        [],
        [],
        ["16:30&ndash;17:00"],
    ]
    assert f'href="?provider={clinic.doctor.pk}&amp;date=2026-12-07"' in body
    assert desk.get(week, {"provider": "x"}).status_code == 400
    assert desk.get(week, {"provider": clinic.doctor.pk, "date": "2026-13-45"}).status_code == 400
    assert desk.get(week, {"provider": 999999}).status_code == 404
    assert desk.get(week).context["provider"] == clinic.doctor  # no provider asked: the first active one
