"""The results dashboard, the consider-repeat list, the patient's pain chart and the procedure's pain line."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic import roles
from tests.factories import staff_user
from tests.tpi.outcome_setup import NOW, outcome_clinic
from tpi.models import FollowUp, Procedure

pytestmark = pytest.mark.django_db

RESULTS = "/admin/tpi/procedureoutcome/"
REPEAT = "/admin/tpi/procedureoutcome/repeat/"


@pytest.fixture
def clinic():
    cast = outcome_clinic(count=8)
    with time_machine.travel(NOW, tick=False):
        yield cast


def test_an_admin_sees_every_provider_with_rates_and_intervals(client, clinic):
    client.force_login(staff_user(roles.CLINIC_ADMIN))

    page = client.get(RESULTS, {"start": ""})  # empty dates: all time

    assert page.status_code == 200
    board = page.context["board"]
    assert [row.label for row in board.by_provider] == ["Dana Lee, MD", "Raj Patel, MD"]
    text = page.content.decode()
    assert board.overall.check_in.text() in text
    assert "95% CI" in text
    assert "By muscle" in text
    assert "Cumulative steroid over 90 days" in text


def test_a_provider_sees_their_own_and_no_provider_filter(client, clinic):
    lee = clinic["doctors"][0]
    client.force_login(lee.user)

    page = client.get(RESULTS, {"start": ""})

    assert page.status_code == 200
    assert [row.label for row in page.context["board"].by_provider] == ["Dana Lee, MD"]
    assert "provider" not in page.context["form"].fields


def test_filters_and_csv(client, clinic):
    client.force_login(staff_user(roles.CLINIC_ADMIN))

    january = client.get(RESULTS, {"start": "2026-01-01", "end": "2026-01-15"})
    assert january.context["board"].overall.procedures == 3  # Jan 5, 10, 15
    north = client.get(RESULTS, {"location": clinic["north"].pk})
    assert north.context["board"].overall.procedures == 2
    download = client.get(RESULTS, {"location": clinic["north"].pk, "format": "csv"})
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][0] == "section"
    overall = next(r for r in rows if r[:3] == ["overall", "All procedures", "responder_72h"])
    assert overall[3] == str(north.context["board"].overall.check_in.n)


def test_a_backwards_date_range_is_an_error_on_the_form_not_a_500(client, clinic):
    client.force_login(staff_user(roles.CLINIC_ADMIN))

    page = client.get(RESULTS, {"start": "2026-02-01", "end": "2026-01-01", "location": "999999"})

    assert page.status_code == 200
    assert "The end date is before the start date." in page.content.decode()
    assert page.context["board"].overall.procedures == 8  # unfiltered while the form is wrong


def test_the_dashboard_opens_on_the_last_90_days(client, clinic, settings):
    client.force_login(staff_user(roles.CLINIC_ADMIN))

    page = client.get(RESULTS)

    assert page.context["board"].filters.start == dt.date(2026, 3, 12)  # 90 days before 2026-06-10
    assert page.context["board"].overall.procedures == 0  # the seeded visits were in January and February
    assert "start=2026-03-12" in page.context["csv_query"]
    settings.TPI_OUTCOMES_DASHBOARD_DEFAULT_DAYS = 200
    assert client.get(RESULTS).context["board"].overall.procedures == 8


def test_the_front_desk_has_no_results(client, clinic):
    client.force_login(staff_user(roles.FRONT_DESK))

    assert client.get(RESULTS).status_code == 403


def test_consider_repeat_lists_worn_off_without_anything_ahead(client, clinic):
    procedures = clinic["procedures"]
    client.force_login(staff_user(roles.CLINIC_ADMIN))

    listed = [row["procedure"].pk for row in client.get(REPEAT).context["rows"]]

    expected = []
    for p in procedures:
        answer = FollowUp.objects.get(procedure=p, kind="reassessment")
        worn = answer.answer_pain_score is not None and answer.answer_pain_score * 100 >= 80 * p.pain_before
        recent = answer.answered_at and answer.answered_at >= NOW - dt.timedelta(days=90)
        later = Procedure.objects.filter(patient=p.patient, performed_at__gt=p.performed_at).exists()
        if worn and recent and not later:
            expected.append(p.pk)
    assert expected
    assert sorted(listed) == sorted(expected)


def test_consider_repeat_shows_the_latest_answers_up_to_its_cap_in_the_same_queries(
    client, clinic, monkeypatch, settings, django_assert_max_num_queries
):
    settings.TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT = 0  # every answer counts as worn off: more rows
    settings.TPI_OUTCOMES_REPEAT_LOOKBACK_DAYS = 365
    client.force_login(staff_user(roles.CLINIC_ADMIN))
    full = client.get(REPEAT)
    everyone = [row["procedure"].pk for row in full.context["rows"]]
    answered = [row["procedure"].reassessment_at for row in full.context["rows"]]
    assert len(everyone) == 5
    assert answered == sorted(answered, reverse=True)  # the latest answers first
    assert "there are more" not in full.content.decode()
    monkeypatch.setattr("tpi.admin_outcomes.REPEAT_LIST_ROWS", 1)
    with CaptureQueriesContext(connection) as one_row:
        capped = client.get(REPEAT)

    assert [row["procedure"].pk for row in capped.context["rows"]] == everyone[:1]
    assert "The latest 1 answers are shown; there are more." in capped.content.decode()
    monkeypatch.setattr("tpi.admin_outcomes.REPEAT_LIST_ROWS", 200)
    with django_assert_max_num_queries(len(one_row)):
        assert [row["procedure"].pk for row in client.get(REPEAT).context["rows"]] == everyone


def test_the_patient_page_shows_the_chart_the_table_and_the_sites(client, clinic):
    patient = clinic["patients"][0]
    client.force_login(clinic["doctors"][0].user)

    page = client.get(f"/admin/clinic/patient/{patient.pk}/change/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Pain over time" in text
    assert 'role="img"' in text
    assert "<svg" in text
    assert "Pain scores (LOINC 72514-3), oldest first" in text
    assert "Sites injected over time, by count" in text
    assert "<script" not in text.split("Pain over time", 1)[1].split("</fieldset>", 1)[0]


def test_the_procedure_page_shows_its_pain_line_next_to_its_sites(client, clinic):
    procedure = clinic["procedures"][1]
    client.force_login(procedure.provider.user)

    text = client.get(f"/admin/tpi/procedure/{procedure.pk}/change/").content.decode()

    assert 'class="procedure-outcome"' in text
    assert "Pain of this procedure: before" in text
    assert "72 h: " in text
    assert "1 month: " in text


def test_the_csv_for_people_is_named_by_the_clinics_date_not_utcs(client, clinic, settings):
    settings.TIME_ZONE = "America/New_York"

    with time_machine.travel(dt.datetime(2026, 11, 30, 2, 30, tzinfo=dt.UTC), tick=False):  # 29 Nov, 21:30 there
        client.force_login(staff_user(roles.CLINIC_ADMIN))
        download = client.get(RESULTS, {"start": "", "format": "csv"})

    assert download["Content-Disposition"] == 'attachment; filename="results-2026-11-29.csv"'
