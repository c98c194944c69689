import re

import pytest
from django.contrib.auth.models import Permission

from scheduling.booking import appointment_book
from scheduling.models import Appointment, Series
from tests.scheduling.conftest import at

URL = "/admin/scheduling/appointment/series/"


@pytest.fixture
def desk(clinic, client):
    codenames = ["view_appointment", "add_appointment", "change_appointment", "view_patient", "view_series"]
    clinic.frontdesk.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(clinic.frontdesk)
    return client


def plan(c, **overrides):
    return {
        "patient": c.patient.pk,
        "provider": c.doctor.pk,
        "room": c.room.pk,
        "appointment_type": c.tpi.pk,
        "dtstart": "2026-12-07T10:00",
        "rrule": "FREQ=WEEKLY;INTERVAL=4;COUNT=3",
        "notes": "",
        **overrides,
    }


def test_preview_lists_occurrences_and_writes_nothing(clinic, desk):
    blocker = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 1, 4, 10),
        by=None,
    )

    response = desk.post(URL, {**plan(clinic), "step": "preview"})

    body = response.content.decode()
    assert response.status_code == 200
    assert [row["preview"].status for row in response.context["rows"]] == ["free", "conflict", "free"]
    assert "Conflict: Morgan Lee, MD is already booked: TPI procedure for " in body
    # The conflicting occurrence defaults to its nearest alternative; the free ones to "as planned".
    checked = re.findall(r'name="choice-(\d)" value="([^"]+)" checked', body)
    assert checked == [("0", "planned"), ("1", "2027-01-04T09:15"), ("2", "planned")]
    assert list(Appointment.objects.all()) == [blocker]


def test_commit_books_the_chosen_alternative_and_skips(clinic, desk):
    appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 1, 4, 10),
        by=None,
    )

    response = desk.post(
        URL,
        {**plan(clinic), "step": "commit", "choice-0": "planned", "choice-1": "2027-01-04T11:00", "choice-2": "skip"},
    )

    series = Series.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/scheduling/series/{series.pk}/change/"
    assert list(series.appointments.order_by("start").values_list("start", flat=True)) == [
        at(2026, 12, 7, 10),
        at(2027, 1, 4, 11),
    ]


def test_choices_that_collide_with_each_other_are_refused(clinic, desk):
    response = desk.post(URL, {**plan(clinic), "step": "commit", "choice-0": "planned", "choice-1": "2026-12-07T10:15"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": ["2026-12-07 10:00 and 2026-12-07 10:15 overlap each other."]}
    assert Appointment.objects.count() == 0
    assert Series.objects.count() == 0


def test_bad_rule_is_shown_on_the_field(clinic, desk):
    response = desk.post(URL, {**plan(clinic, rrule="FREQ=WEEKLY"), "step": "preview"})
    assert response.context["form"].errors == {"rrule": ["The rule must end: give COUNT or UNTIL."]}


def test_day_sheet_cancel_this_and_following(clinic, desk):
    desk.post(
        URL, {**plan(clinic), "step": "commit", "choice-0": "planned", "choice-1": "planned", "choice-2": "planned"}
    )
    second = Appointment.objects.order_by("start")[1]

    desk.post(
        f"/admin/scheduling/appointment/{second.pk}/status/",
        {"status": "cancelled", "reason": "moving away", "scope": "following"},
    )

    assert list(Appointment.objects.order_by("start").values_list("status", flat=True)) == [
        "booked",
        "cancelled",
        "cancelled",
    ]


def test_commit_that_collides_at_commit_time_books_nothing_and_says_so(clinic, desk):
    preview = desk.post(URL, {**plan(clinic), "step": "preview"})
    assert [row["preview"].status for row in preview.context["rows"]] == ["free", "free", "free"]
    # Someone else takes the last occurrence's slot between the preview and the commit.
    late = appointment_book(
        patient=clinic.patient2,
        provider=clinic.doctor,
        room=clinic.room2,
        appointment_type=clinic.tpi,
        start=at(2027, 2, 1, 10),
        by=None,
    )

    response = desk.post(
        URL, {**plan(clinic), "step": "commit", "choice-0": "planned", "choice-1": "planned", "choice-2": "planned"}
    )

    assert response.context["form"].non_field_errors() == [
        "Nothing was booked. Occurrence 2027-02-01 10:00: Conflict: Morgan Lee, MD is already booked: "
        f"TPI procedure for {late.patient.display_name} with Morgan Lee, MD in Room 2, Mon 2027-02-01 10:00-10:30."
    ]
    assert list(Appointment.objects.all()) == [late]
    assert [row["preview"].status for row in response.context["rows"]] == ["free", "free", "conflict"]


def test_the_series_page_marks_a_closed_occurrence_and_books_its_alternative(clinic, desk):
    from tests.factories import ClosureFactory

    ClosureFactory(first_day=at(2027, 1, 4).date(), last_day=at(2027, 1, 4).date(), reason="Staff training")

    preview = desk.post(URL, {**plan(clinic), "step": "preview"})

    body = preview.content.decode()
    assert [row["preview"].status for row in preview.context["rows"]] == ["free", "closed", "free"]
    assert "Clinic closed<br>The clinic is closed on Mon 04 Jan 2027 (Staff training); choose another day." in body
    checked = re.findall(r'name="choice-(\d)" value="([^"]+)" checked', body)
    assert checked == [("0", "planned"), ("1", "2027-01-03T16:30"), ("2", "planned")]
    committed = desk.post(URL, {**plan(clinic), "step": "commit", **{f"choice-{i}": v for i, v in checked}})

    assert committed.status_code == 302
    assert [a.start for a in Appointment.objects.order_by("start")] == [
        at(2026, 12, 7, 10),
        at(2027, 1, 3, 16, 30),
        at(2027, 2, 1, 10),
    ]


def _simple(c, **overrides):
    """The series page as the front desk fills it: every N weeks, K times or until a day; no RRULE."""
    data = {**plan(c), "rrule": "", "every_weeks": "4", "times": "3", "until": "", "step": "preview"}
    return {**data, **overrides}


def test_every_n_weeks_k_times_builds_the_rule(clinic, desk):
    response = desk.post(URL, _simple(clinic))

    assert response.status_code == 200
    assert response.context["form"].cleaned_data["rrule"] == "FREQ=WEEKLY;INTERVAL=4;COUNT=3"
    assert [row["preview"].start for row in response.context["rows"]] == [
        at(2026, 12, 7, 10),
        at(2027, 1, 4, 10),
        at(2027, 2, 1, 10),
    ]


def test_every_n_weeks_until_a_day_builds_the_rule(clinic, desk):
    response = desk.post(URL, _simple(clinic, every_weeks="2", times="", until="2027-01-04"))

    assert response.context["form"].cleaned_data["rrule"] == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270104T235959"
    assert [row["preview"].start for row in response.context["rows"]] == [
        at(2026, 12, 7, 10),
        at(2026, 12, 21, 10),
        at(2027, 1, 4, 10),
    ]


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"every_weeks": "0"}, {"every_weeks": ["Say how many weeks apart the visits are: a number from 1 to 52."]}),
        ({"times": ""}, {"times": ["Say how many visits (e.g. 3) or give the last possible day below."]}),
        ({"until": "2027-03-01"}, {"until": ["Give the number of visits or the last day, not both."]}),
        ({"times": "99"}, {"times": ["A series has from 1 to 52 visits."]}),
        ({"times": "", "until": "2026-12-01"}, {"until": ["The last day is before the first visit."]}),
        (
            {"rrule": "FREQ=WEEKLY;INTERVAL"},
            {
                "rrule": [
                    "The repeat rule could not be read: write it like FREQ=WEEKLY;INTERVAL=4;COUNT=3 (every 4 weeks, "
                    "3 visits) or FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301 (every 2 weeks until 1 March)."
                ]
            },
        ),
    ],
)
def test_a_bad_entry_says_what_to_fix(clinic, desk, overrides, errors):
    response = desk.post(URL, _simple(clinic, **overrides))

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert response.context["rows"] == []
    assert Appointment.objects.count() == 0
