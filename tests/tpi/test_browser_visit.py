"""A real browser: the provider documents a checked-in visit from the day sheet (issue 10)."""

import datetime as dt
import os
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from scheduling.booking import appointment_book, appointment_status_set
from scheduling.clock import local_datetime
from tests.factories import (
    AppointmentTypeFactory,
    InjectionFactory,
    PatientFactory,
    ProcedureFactory,
    ProviderFactory,
    RoomFactory,
    working_week,
)
from tests.scheduling.test_browser_booking import PASSWORD, open_page  # noqa: F401  (the browser fixture)
from tpi.signing import procedure_sign

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _shot(page, name: str) -> None:
    """Save a screenshot when SHOTS_DIR is set (to look at the page), at the page's current width."""
    if folder := os.environ.get("SHOTS_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_the_provider_documents_the_checked_in_visit_from_the_day_sheet(
    transactional_db,
    settings,
    live_server,
    open_page,  # noqa: F811
):
    settings.TIME_ZONE = "America/New_York"
    doctor = working_week(
        ProviderFactory(user__username="drlee", user__first_name="Morgan", user__last_name="Lee"),
        start=dt.time(0),
        end=dt.time(23, 30),
    )
    patient = PatientFactory(legal_first_name="Jordan", legal_last_name="Quillfeather", preferred_name="")
    day = timezone.localdate()
    start = local_datetime(day, dt.time(0))  # earlier today: the visit is under way or over
    visit = appointment_book(
        patient=patient,
        provider=doctor,
        room=RoomFactory(name="Room 1"),
        appointment_type=AppointmentTypeFactory(code="tpi", name="TPI procedure"),
        start=start,
        by=None,
    )
    appointment_status_set(appointment=visit, status="checked_in", by=None)
    page = open_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "drlee")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/admin/scheduling/appointment/day-sheet/?date={day:%Y-%m-%d}")
        _shot(page, f"day-sheet-{width}")
    page.click(f"[data-appointment='{visit.pk}'] a:has-text('Document procedure')")
    page.wait_for_selector("#id_appointment")

    assert page.locator("#id_appointment").input_value() == str(visit.pk)
    assert page.locator("#id_provider").input_value() == str(doctor.pk)
    assert page.locator("#id_appointment option").count() == 2  # the blank choice and this visit
    for width, height in ((390, 844), (1366, 900)):
        page.set_viewport_size({"width": width, "height": height})
        _shot(page, f"procedure-add-{width}")


def test_the_draft_page_with_copy_forward_defaults_row_and_bilateral_total(
    transactional_db,
    settings,
    live_server,
    open_page,  # noqa: F811
):
    settings.TIME_ZONE = "America/New_York"
    doctor = ProviderFactory(user__username="drlee", user__first_name="Morgan", user__last_name="Lee")
    now = timezone.now()
    previous = InjectionFactory(
        procedure__provider=doctor, procedure__performed_at=now - dt.timedelta(days=14), laterality="bilateral"
    ).procedure
    with time_machine.travel(now - dt.timedelta(days=14) + dt.timedelta(minutes=5)):
        procedure_sign(procedure=previous, by=doctor.user)
    draft = ProcedureFactory(patient=previous.patient, provider=doctor, performed_at=now - dt.timedelta(minutes=30))
    page = open_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "drlee")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    page.goto(f"{live_server.url}/admin/tpi/procedure/{draft.pk}/change/")

    page.click("form.copy-forward button")
    page.wait_for_selector(".messagelist .success")

    assert page.locator(".field-total_volume").first.inner_text() == "4.00 mL (2.00 per side x 2)"
    assert page.locator("select[name=defaults-anaesthetic_agent]").count() == 1
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        _shot(page, f"procedure-draft-{width}")
