import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from clinic import roles
from scheduling.booking import appointment_book
from scheduling.models import Appointment, Series
from tests.factories import staff_user
from tests.scheduling.conftest import at


@pytest.fixture
def api(clinic):
    user = clinic.frontdesk
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_appointment", "change_appointment"]))
    client = APIClient()
    client.force_authenticate(user)
    return client


def book_body(c, **overrides):
    return {
        "patient": c.patient.pk,
        "provider": c.doctor.pk,
        "room": c.room.pk,
        "appointment_type": c.tpi.pk,
        "start": "2026-11-30T10:00:00-05:00",
        **overrides,
    }


def test_book_returns_201_and_the_appointment(clinic, api):
    response = api.post("/api/appointments/", book_body(clinic), format="json")

    assert response.status_code == 201
    appointment = Appointment.objects.get()
    assert response.json()["id"] == appointment.pk
    assert response.json()["end"] == "2026-11-30T10:30:00-05:00"
    assert appointment.created_by == clinic.frontdesk


def test_book_conflict_is_409_with_the_conflicting_appointment(clinic, api):
    first = api.post("/api/appointments/", book_body(clinic), format="json").json()

    response = api.post(
        "/api/appointments/", book_body(clinic, patient=clinic.patient2.pk, start="2026-11-30T15:15:00Z"), format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["detail"] == (
        "Conflict: Morgan Lee, MD and Room 1 are already booked: TPI procedure for "
        f"{clinic.patient.display_name} with Morgan Lee, MD in Room 1, Mon 2026-11-30 10:00-10:30."
    )
    assert [c["id"] for c in body["conflicts"]] == [first["id"]]
    assert body["conflicts"][0]["start"] == "2026-11-30T10:00:00-05:00"
    assert Appointment.objects.count() == 1


def test_outside_hours_is_409_and_bad_input_is_400_naming_the_field(clinic, api):
    late = api.post("/api/appointments/", book_body(clinic, start="2026-11-30T20:00:00-05:00"), format="json")
    bad = api.post("/api/appointments/", book_body(clinic, provider=clinic.therapist.pk, start="soon"), format="json")
    role = api.post("/api/appointments/", book_body(clinic, provider=clinic.therapist.pk), format="json")
    override = api.post(
        "/api/appointments/", book_body(clinic, start="2026-11-30T20:00:00-05:00", override_hours=True), format="json"
    )

    assert (late.status_code, late.json()["code"]) == (409, "outside_working_hours")
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["start"]
    assert role.status_code == 400
    assert role.json()["errors"] == {
        "provider": [f"{clinic.therapist} (Massage therapist) may not take TPI procedure visits."]
    }
    assert override.status_code == 403
    assert Appointment.objects.count() == 0


def test_move_cancel_and_status(clinic, api):
    appointment_id = api.post("/api/appointments/", book_body(clinic), format="json").json()["id"]

    moved = api.post(f"/api/appointments/{appointment_id}/move/", {"start": "2026-11-30T11:00:00-05:00"}, format="json")
    confirmed = api.post(f"/api/appointments/{appointment_id}/status/", {"status": "confirmed"}, format="json")
    wrong = api.post(f"/api/appointments/{appointment_id}/status/", {"status": "completed"}, format="json")
    no_reason = api.post(f"/api/appointments/{appointment_id}/cancel/", {}, format="json")
    cancelled = api.post(f"/api/appointments/{appointment_id}/cancel/", {"reason": "snow storm"}, format="json")

    assert moved.status_code == 200
    assert moved.json()[0]["start"] == "2026-11-30T11:00:00-05:00"
    assert confirmed.json()["status"] == "confirmed"
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == {"status": ["A confirmed appointment cannot become completed."]}
    assert no_reason.status_code == 400
    assert list(no_reason.json()["errors"]) == ["reason"]
    assert cancelled.json()[0]["status"] == "cancelled"
    assert cancelled.json()[0]["cancellation_reason"] == "snow storm"


def test_move_conflict_is_409(clinic, api):
    a = api.post("/api/appointments/", book_body(clinic), format="json").json()["id"]
    b = api.post(
        "/api/appointments/",
        book_body(clinic, patient=clinic.patient2.pk, start="2026-11-30T12:00:00-05:00"),
        format="json",
    ).json()["id"]

    response = api.post(f"/api/appointments/{a}/move/", {"start": "2026-11-30T12:15:00-05:00"}, format="json")

    assert response.status_code == 409
    assert [c["id"] for c in response.json()["conflicts"]] == [b]


def test_reads_need_login_and_writes_need_permission(clinic):
    anonymous = APIClient()
    assert anonymous.get("/api/appointments/").status_code == 401
    reader = APIClient()
    reader.force_authenticate(staff_user(roles.PROVIDER, username="reader"))  # sees the schedule
    assert reader.get("/api/appointments/").status_code == 200
    assert reader.post("/api/appointments/", book_body(clinic), format="json").status_code == 403


def test_lists_of_types_rooms_hours_and_appointments(clinic, api, django_assert_max_num_queries):
    assert {t["code"] for t in api.get("/api/appointment-types/").json()["results"]} == {"tpi", "massage"}
    assert [r["name"] for r in api.get("/api/rooms/").json()["results"]] == ["Room 1", "Room 2"]
    hours = api.get("/api/working-hours/", {"provider": clinic.doctor.pk}).json()
    assert hours["count"] == 7
    assert hours["results"][0]["start_time"] == "08:00:00"
    for hour in range(8, 16):
        appointment_book(
            patient=clinic.patient,
            provider=clinic.doctor,
            room=clinic.room,
            appointment_type=clinic.tpi,
            start=at(2026, 12, 1, hour),
            by=None,
        )
    with django_assert_max_num_queries(3):
        day = api.get(
            "/api/appointments/", {"date_from": "2026-12-01", "date_to": "2026-12-01", "provider": clinic.doctor.pk}
        )
    assert day.json()["count"] == 8
    assert api.get("/api/appointments/", {"date_from": "2026-12-02"}).json()["count"] == 0


def test_free_slots(clinic, api, settings):
    settings.SCHEDULING_SLOT_STEP_MINUTES = 60
    response = api.get(
        "/api/free-slots/",
        {
            "appointment_type": clinic.tpi.pk,
            "provider": clinic.doctor.pk,
            "date_from": "2026-11-30",
            "date_to": "2026-11-30",
            "limit": 3,
        },
    )
    backwards = api.get(
        "/api/free-slots/", {"appointment_type": clinic.tpi.pk, "date_from": "2026-11-30", "date_to": "2026-11-29"}
    )

    assert response.status_code == 200
    assert [s["start"] for s in response.json()] == [
        "2026-11-30T08:00:00-05:00",
        "2026-11-30T09:00:00-05:00",
        "2026-11-30T10:00:00-05:00",
    ]
    assert response.json()[0]["room"] == clinic.room.pk
    assert backwards.status_code == 400
    assert backwards.json()["errors"] == {"date_to": ["Must not be before date_from."]}


def series_body(c, **overrides):
    return {
        "patient": c.patient.pk,
        "provider": c.doctor.pk,
        "room": c.room.pk,
        "appointment_type": c.tpi.pk,
        "dtstart": "2026-12-07T10:00:00-05:00",
        "rrule": "FREQ=WEEKLY;INTERVAL=4;COUNT=3",
        **overrides,
    }


def test_series_preview_then_commit_with_an_alternative(clinic, api):
    blocker = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 1, 4, 10),
        by=None,
    )

    preview = api.post("/api/series/preview/", series_body(clinic), format="json")

    assert preview.status_code == 200
    rows = preview.json()
    assert [r["status"] for r in rows] == ["free", "conflict", "free"]
    assert [c["id"] for c in rows[1]["conflicts"]] == [blocker.pk]
    assert rows[1]["conflicts"][0]["on"] == ["provider"]
    alternative = rows[1]["alternatives"][0]["start"]
    assert Appointment.objects.count() == 1

    refused = api.post("/api/series/", series_body(clinic), format="json")
    assert refused.status_code == 409
    assert refused.json()["occurrence"] == "2027-01-04T15:00:00+00:00"
    assert Series.objects.count() == 0

    choices = [{"occurrence": r["occurrence"], "start": alternative if r["status"] != "free" else None} for r in rows]
    committed = api.post("/api/series/", {**series_body(clinic), "choices": choices}, format="json")

    assert committed.status_code == 201
    assert [a["start"] for a in committed.json()["appointments"]] == [
        "2026-12-07T10:00:00-05:00",
        alternative,
        "2027-02-01T10:00:00-05:00",
    ]
    assert committed.json()["rrule"] == "FREQ=WEEKLY;INTERVAL=4;COUNT=3"


def test_series_cancel_and_move_following_through_the_api(clinic, api):
    series = api.post("/api/series/", series_body(clinic), format="json").json()
    first, second, third = (a["id"] for a in series["appointments"])

    moved = api.post(
        f"/api/appointments/{second}/move/", {"start": "2027-01-04T11:00:00-05:00", "scope": "following"}, format="json"
    )
    cancelled = api.post(
        f"/api/appointments/{third}/cancel/", {"reason": "better", "scope": "following"}, format="json"
    )

    assert [a["id"] for a in moved.json()] == [second, third]
    assert [a["start"] for a in moved.json()] == ["2027-01-04T11:00:00-05:00", "2027-02-01T11:00:00-05:00"]
    assert [a["id"] for a in cancelled.json()] == [third]
    assert Appointment.objects.get(pk=first).start == at(2026, 12, 7, 10)


def test_series_preview_bad_rule_is_400(clinic, api):
    response = api.post("/api/series/preview/", series_body(clinic, rrule="FREQ=WEEKLY"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"rrule": ["The rule must end: give COUNT or UNTIL."]}


def test_series_entered_as_every_n_weeks_k_times_or_until_a_day(clinic, api):
    body = series_body(clinic, rrule="", every_weeks=4, times=3)

    counted = api.post("/api/series/preview/", body, format="json")
    until = api.post(
        "/api/series/preview/", {**body, "every_weeks": 2, "times": None, "until": "2027-01-04"}, format="json"
    )
    committed = api.post("/api/series/", body, format="json")

    assert counted.status_code == 200, counted.json()
    assert [r["start"] for r in counted.json()] == [
        "2026-12-07T10:00:00-05:00",
        "2027-01-04T10:00:00-05:00",
        "2027-02-01T10:00:00-05:00",
    ]
    assert [r["start"] for r in until.json()] == [
        "2026-12-07T10:00:00-05:00",
        "2026-12-21T10:00:00-05:00",
        "2027-01-04T10:00:00-05:00",
    ]
    assert committed.status_code == 201, committed.json()
    assert committed.json()["rrule"] == "FREQ=WEEKLY;INTERVAL=4;COUNT=3"


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"every_weeks": 0}, {"every_weeks": ["Say how many weeks apart the visits are: a number from 1 to 52."]}),
        ({"times": None}, {"times": ["Say how many visits (e.g. 3) or give the last possible day below."]}),
        ({"until": "2027-03-01"}, {"until": ["Give the number of visits or the last day, not both."]}),
        ({"times": 99}, {"times": ["A series has from 1 to 52 visits."]}),
        ({"times": None, "until": "2026-12-01"}, {"until": ["The last day is before the first visit."]}),
        (
            {"rrule": "FREQ=WEEKLY;COUNT=2"},
            {"rrule": ["Give the repeat rule or every_weeks with times or until, not both."]},
        ),
    ],
)
def test_a_bad_series_entry_is_a_400_saying_what_to_fix(clinic, api, overrides, errors):
    body = {**series_body(clinic, rrule="", every_weeks=4, times=3), **overrides}

    response = api.post("/api/series/preview/", body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert Appointment.objects.count() == 0


def test_openapi_schema_builds(clinic, api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/series/preview/" in response.content


@pytest.mark.parametrize("endpoint", ["/api/appointments/", "/api/series/"])
def test_lists_run_constant_queries_for_3_and_30_rows(clinic, api, endpoint):
    from scheduling.series import series_commit
    from tests.factories import PatientFactory

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            series_commit(
                patient=PatientFactory(),
                provider=clinic.doctor,
                room=clinic.room,
                appointment_type=clinic.tpi,
                dtstart=at(2026, 12, 1 + i % 28, 8 + i // 28),
                rrule="FREQ=DAILY;COUNT=1",
                by=None,
            )

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    api.get(endpoint)  # the first request loads the user's model permissions (cached on the user)
    for n, offset in [(3, 0), (27, 3)]:
        add(n, offset)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(endpoint, {"page_size": 50})
        assert response.status_code == 200
        assert response.json()["count"] == offset + n
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_status_rules_and_undo_through_the_api(clinic, api, frozen):
    appointment_id = api.post("/api/appointments/", book_body(clinic), format="json").json()["id"]

    early = api.post(f"/api/appointments/{appointment_id}/status/", {"status": "no_show"}, format="json")
    frozen.move_to(at(2026, 11, 30, 10, 15))
    no_show = api.post(f"/api/appointments/{appointment_id}/status/", {"status": "no_show"}, format="json")
    undone = api.post(f"/api/appointments/{appointment_id}/undo/", {}, format="json")
    again = api.post(f"/api/appointments/{appointment_id}/undo/", {}, format="json")

    assert early.status_code == 400
    assert early.json()["errors"] == {
        "status": ["The appointment starts at 10:00 on Mon 30 Nov: it cannot be a no-show yet."]
    }
    assert no_show.json()["status"] == "no_show"
    assert (undone.status_code, undone.json()["status"]) == (200, "booked")
    assert again.status_code == 400
    assert again.json()["errors"] == {"status": ["This change is already an undo; change the status again instead."]}
    assert list(Appointment.objects.get().status_changes.values_list("to_status", "is_undo")) == [
        ("booked", False),
        ("no_show", False),
        ("booked", True),
    ]
