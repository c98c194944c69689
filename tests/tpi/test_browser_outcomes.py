"""A real browser draws the patient's pain chart: the SVG carries every pain score as a point."""

import datetime as dt
import os
from pathlib import Path

import pytest
from django.utils import timezone

from tests.factories import PatientFactory, ProviderFactory, signed_procedure
from tests.scheduling.test_browser_booking import PASSWORD, open_page  # noqa: F401  (the browser fixture)
from tpi.models import FollowUp

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shot(page, name: str) -> None:
    if folder := os.environ.get("SHOTS_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_the_patient_chart_carries_every_pain_score(transactional_db, settings, live_server, open_page):  # noqa: F811
    settings.TIME_ZONE = "America/New_York"
    doctor = ProviderFactory(user__username="drlee", user__first_name="Morgan", user__last_name="Lee")
    patient = PatientFactory(legal_first_name="Robin", legal_last_name="Quillfeather", preferred_name="")
    now = timezone.now()
    scores = []  # (before, after, 72 h, 1 month) per procedure, oldest first
    for days_ago, answers in ((80, (8, 3, 4, 7)), (40, (7, 2, 2, 3))):
        procedure = signed_procedure(
            performed_at=now - dt.timedelta(days=days_ago),
            patient=patient,
            provider=doctor,
            pain_before=answers[0],
            pain_after=answers[1],
        )
        for kind, score, after in (("check_in", answers[2], 3), ("reassessment", answers[3], 31)):
            FollowUp.objects.filter(procedure=procedure, kind=kind).update(
                status="answered",
                answer_pain_score=score,
                answered_at=procedure.performed_at + dt.timedelta(days=after),
                answer_method="sms",
            )
        scores.extend(answers)

    page = open_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "drlee")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.goto(f"{live_server.url}/admin/clinic/patient/{patient.pk}/change/")

    chart = page.locator(".pain-chart svg[role=img]")
    assert chart.count() == 1
    assert chart.bounding_box()["width"] > 300  # drawn, not collapsed
    dots = chart.locator("circle.dot")
    assert dots.count() == 8
    # pygal writes each point's value as "<date>: <score>" in a desc next to its dot.
    values = [text.rsplit(": ", 1)[1] for text in chart.locator("desc.value").all_text_contents()]
    assert sorted(int(v) for v in values) == sorted(scores)
    assert "Upper trapezius (left)" in chart.inner_html()  # each procedure's sites in the legend
    table = page.locator("table.pain-table tbody tr")
    assert table.count() == 8
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        _shot(page, f"patient-pain-{width}")
