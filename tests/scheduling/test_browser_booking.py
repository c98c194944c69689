"""A real browser at the front desk: Playwright drives Debian's Chromium against the live server."""

import datetime as dt
import os
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connections
from django.utils import timezone

from clinic import roles
from scheduling.models import Appointment, Room
from tests.factories import (
    AppointmentTypeFactory,
    ClosureFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
    working_week,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def open_page(monkeypatch):
    """Return a function that opens a page in headless Chromium, called from the test body so that a
    missing Chromium FAILS the test when REQUIRE_BROWSER=1 (CI) and skips it otherwise."""
    stack = ExitStack()

    def open_() -> "Page":
        if not CHROMIUM.exists():
            if os.environ.get("REQUIRE_BROWSER") == "1":
                pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
            pytest.skip(f"{CHROMIUM} is not installed")
        from playwright.sync_api import sync_playwright

        # Playwright's sync API runs an event loop in this thread; the ORM calls made here are synchronous.
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        # While Playwright's loop runs, Django keeps this thread's connection in a context variable
        # that pytest-django never sees; close it before the browser goes, or it outlives the test database.
        stack.callback(connections.close_all)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        return page

    yield open_
    stack.close()


@pytest.fixture
def front_desk_clinic(transactional_db, settings):
    settings.TIME_ZONE = "America/New_York"
    user = UserFactory(username="desk", is_superuser=False)
    user.groups.add(Group.objects.get(name=roles.FRONT_DESK))  # the real role (scheduling/roles.py)
    doctor = working_week(ProviderFactory(user__first_name="Morgan", user__last_name="Lee"))
    return {
        "doctor": doctor,
        "room": RoomFactory(name="Room 1"),
        "type": AppointmentTypeFactory(code="tpi", name="TPI procedure"),
        "patient": PatientFactory(legal_first_name="Jordan", legal_last_name="Quillfeather", preferred_name=""),
        "other": PatientFactory(legal_first_name="Sam", legal_last_name="Okonkwo-Brightwater", preferred_name=""),
    }


def _book(page, base_url: str, clinic: dict, *, patient, start: str) -> None:
    page.goto(f"{base_url}/admin/scheduling/appointment/book/")
    page.click(".field-patient .select2-selection")
    page.fill(".select2-search__field", patient.legal_last_name[:6])
    page.click(f".select2-results__option:has-text('{patient.legal_last_name}')")
    page.select_option("#id_provider", str(clinic["doctor"].pk))
    page.select_option("#id_room", str(clinic["room"].pk))
    page.select_option("#id_appointment_type", str(clinic["type"].pk))
    page.fill("#id_start", start)
    page.click("input[name=book]")


def test_front_desk_books_sees_day_sheet_and_conflict(front_desk_clinic, live_server, open_page):
    page, clinic = open_page(), front_desk_clinic
    day = timezone.localdate() + dt.timedelta(days=7)
    start = f"{day:%Y-%m-%d}T10:00"

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "desk")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    _book(page, live_server.url, clinic, patient=clinic["patient"], start=start)

    page.wait_for_url(f"**/admin/scheduling/appointment/day-sheet/?date={day:%Y-%m-%d}&location=*")
    column = page.locator(f".daysheet-column[data-column='{clinic['doctor'].pk}']")
    card = column.locator(".appointment")
    assert card.count() == 1
    assert card.locator(".patient").inner_text() == "Jordan Quillfeather"
    assert card.locator(".time").inner_text() == "10:00\u201310:30"
    assert card.locator(".status").inner_text() == "Booked"
    appointment = Appointment.objects.get()
    assert appointment.patient == clinic["patient"]

    _book(page, live_server.url, clinic, patient=clinic["other"], start=start)

    error = page.locator(".booking-errors")
    error.wait_for()
    assert error.inner_text() == (
        f"Conflict: {clinic['doctor']} and Room 1 are already booked: TPI procedure for Jordan Quillfeather "
        f"with {clinic['doctor']} in Room 1, {day:%a %Y-%m-%d} 10:00-10:30."
    )
    assert page.locator("button[name=suggestion]").count() == 8
    assert Appointment.objects.count() == 1

    # The day sheet's action works in the browser too, on the appointment's day (check-in is refused before).
    with time_machine.travel(dt.datetime.combine(day, dt.time(9, 50), tzinfo=timezone.get_current_timezone())):
        # A week on, the session has expired: sign in again.
        page.goto(f"{live_server.url}/admin/login/?next=/admin/scheduling/appointment/day-sheet/?date={day:%Y-%m-%d}")
        page.fill("#id_username", "desk")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector(".daysheet")
        page.click(f"[data-appointment='{appointment.pk}'] button[value=checked_in]")
        page.click("#confirm-status")  # checking in asks first
        page.wait_for_selector(f"[data-appointment='{appointment.pk}'].status-checked_in")
    appointment.refresh_from_db()
    assert appointment.status == "checked_in"


def _sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", "desk")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def _suggested(page) -> list[tuple[dt.datetime, str]]:
    """Return the suggestions on the page as (local start, room name), in the order shown."""
    shown = []
    for value in page.locator("button[name=suggestion]").evaluate_all("els => els.map(e => e.value)"):
        start, _provider, room_id = value.split("|")
        shown.append((dt.datetime.fromisoformat(start), Room.objects.get(pk=room_id).name))
    return shown


def test_front_desk_tpi_suggestions_offer_only_rooms_that_can_host_it_in_time_order(
    front_desk_clinic, live_server, open_page
):
    page, clinic = open_page(), front_desk_clinic
    massage = AppointmentTypeFactory(code="massage", name="Massage", rooms=[])
    massage_room = RoomFactory(name="Massage room", appointment_types=[massage])
    day = timezone.localdate() + dt.timedelta(days=7)
    _sign_in(page, live_server.url)

    _book(
        page,
        live_server.url,
        {**clinic, "room": massage_room},
        patient=clinic["patient"],
        start=f"{day:%Y-%m-%d}T10:00",
    )

    error = page.locator(".booking-errors")
    error.wait_for()
    assert error.inner_text() == "Massage room cannot host TPI procedure visits; choose a room equipped for them."
    shown = _suggested(page)
    assert len(shown) == 8
    assert {room for _, room in shown} == {"Room 1"}
    starts = [start for start, _ in shown]
    assert starts == sorted(starts)
    assert starts[0] == dt.datetime.combine(day, dt.time(10))  # nearest first: the time asked for is free
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/shots/locations/suggestions-390.png", full_page=True)
    assert not Appointment.objects.exists()


def test_a_closure_hides_its_day_from_the_slot_finder(front_desk_clinic, live_server, open_page):
    page, clinic = open_page(), front_desk_clinic
    day = timezone.localdate() + dt.timedelta(days=7)
    ClosureFactory(first_day=day, last_day=day, reason="Staff training")
    _sign_in(page, live_server.url)

    _book(page, live_server.url, clinic, patient=clinic["patient"], start=f"{day:%Y-%m-%d}T10:00")

    error = page.locator(".booking-errors")
    error.wait_for()
    assert error.inner_text() == f"The clinic is closed on {day:%a %d %b %Y} (Staff training); choose another day."
    shown = _suggested(page)
    assert shown
    assert {start.date() for start, _ in shown} == {day + dt.timedelta(days=1)}
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path="/tmp/shots/locations/closure-1366.png", full_page=True)
    assert not Appointment.objects.exists()


def _sign_in_at(page, base_url: str, next_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", "desk")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_day_sheet_prints_the_day_only_and_stacks_columns_at_390_px(front_desk_clinic, live_server, open_page):
    from scheduling.booking import appointment_book

    page, clinic = open_page(), front_desk_clinic
    working_week(ProviderFactory(user__first_name="Ana", user__last_name="Ruiz"))
    day = timezone.localdate() + dt.timedelta(days=7)
    appointment_book(
        patient=clinic["patient"],
        provider=clinic["doctor"],
        room=clinic["room"],
        appointment_type=clinic["type"],
        start=dt.datetime.combine(day, dt.time(10), tzinfo=timezone.get_current_timezone()),
        by=None,
    )
    sheet = f"/admin/scheduling/appointment/day-sheet/?date={day:%Y-%m-%d}"
    shots = Path("/tmp/shots/daysheet")
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in_at(page, live_server.url, sheet)
    page.wait_for_selector(".daysheet")
    assert page.locator("#nav-sidebar").is_visible()
    assert page.locator(".appointment button").first.is_visible()
    page.screenshot(path=str(shots / "day-sheet-1366.png"), full_page=True)

    page.emulate_media(media="print")
    page.screenshot(path=str(shots / "day-sheet-print.png"), full_page=True)
    for hidden in ["#header", "#nav-sidebar", ".breadcrumbs", ".daysheet-nav", ".appointment button", ".book-gap"]:
        assert page.locator(hidden).count() > 0, hidden
        assert all(not element.is_visible() for element in page.locator(hidden).all()), hidden
    assert page.locator(".appointment .patient").inner_text() == "Jordan Quillfeather"
    assert page.locator(".daysheet-column").count() == 2

    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=str(shots / "day-sheet-390.png"), full_page=True)
    assert page.locator(".scroll-hint").inner_text() == (
        "2 columns below, one under the other: scroll down for each provider."
    )
    for column in page.locator(".daysheet-column").all():
        box = column.bounding_box()
        assert box is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= 390, box
