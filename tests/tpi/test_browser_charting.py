"""A real browser, counting its own actions: a three-site note documented and signed in at most 15
interactions from the checked-in visit on the day sheet, then the therapist's massage note (issue 10)."""

import datetime as dt
from decimal import Decimal
from importlib import import_module

import pytest
from django.utils import timezone

from scheduling.booking import appointment_book, appointment_status_set
from scheduling.clock import local_datetime
from tests.factories import (
    AppointmentTypeFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    site,
    working_week,
)
from tests.scheduling.test_browser_booking import PASSWORD, open_page  # noqa: F401  (the browser fixture)
from tests.tpi.test_browser_visit import _shot
from tpi.models import Injection, MassageNote, Procedure, StockLot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAX_INTERACTIONS = 15


class CountedPage:
    """The page, with every click, fill, select, check and key press counted as one interaction.

    Waiting, reading and asserting do not count: they are what the person sees, not what they do.
    """

    def __init__(self, page):
        self.page = page
        self.actions: list[str] = []

    def _count(self, kind: str, selector: str) -> None:
        self.actions.append(f"{kind} {selector}")

    def click(self, selector: str) -> None:
        self._count("click", selector)
        self.page.click(selector)

    def fill(self, selector: str, value: str) -> None:
        self._count("fill", selector)
        self.page.fill(selector, value)

    def select(self, selector: str, value: str) -> None:
        self._count("select", selector)
        self.page.select_option(selector, value)

    def check(self, selector: str) -> None:
        self._count("check", selector)
        self.page.check(selector)

    def press(self, selector: str, key: str) -> None:
        self._count(f"press {key}", selector)
        self.page.press(selector, key)


def _sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


def _region(side: str, name: str, view: str = "back") -> str:
    return f".bm-{view} .bm-region[data-name='{name}'][data-side='{side}']"


@pytest.fixture
def checked_in_visit(transactional_db, settings):
    settings.TIME_ZONE = "America/New_York"
    doctor = working_week(
        ProviderFactory(user__username="drlee", user__first_name="Morgan", user__last_name="Lee"),
        start=dt.time(0),
        end=dt.time(23, 30),
    )
    ProviderFactory(
        user__username="pasi", user__first_name="Pasi", user__last_name="Virtanen", role="massage_therapist"
    )
    patient = PatientFactory(legal_first_name="Jordan", legal_last_name="Quillfeather", preferred_name="")
    for name, _ in import_module("tpi.migrations.0002_trigger_point_sites").SITES:
        site(name)  # the whole catalogue, whichever transactional test flushed it before
    today = timezone.localdate()
    StockLot.objects.create(
        agent="lidocaine", concentration_percent=Decimal("1.00"), lot_number="LIDO-7", expires_on=today
    )
    StockLot.objects.create(
        agent="lidocaine",
        concentration_percent=Decimal("1.00"),
        lot_number="LIDO-OLD",
        expires_on=today - dt.timedelta(days=1),
    )
    visit = appointment_book(
        patient=patient,
        provider=doctor,
        room=RoomFactory(name="Room 1"),
        appointment_type=AppointmentTypeFactory(code="tpi", name="TPI procedure"),
        start=local_datetime(today, dt.time(0)),  # earlier today: the visit is under way
        by=None,
    )
    appointment_status_set(appointment=visit, status="checked_in", by=None)
    return visit


def test_a_three_site_note_is_documented_and_signed_in_at_most_15_interactions_then_massaged(
    checked_in_visit,
    live_server,
    open_page,  # noqa: F811
):
    visit = checked_in_visit
    page = open_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, live_server.url, "drlee")
    page.goto(f"{live_server.url}/admin/scheduling/appointment/day-sheet/?date={timezone.localdate():%Y-%m-%d}")
    counted = CountedPage(page)

    counted.click(f"[data-appointment='{visit.pk}'] a:has-text('Document procedure')")
    page.wait_for_selector(".body-map .bm-region[data-site]")
    counted.fill("#id_indication", "Myofascial pain, neck and shoulder girdle")
    counted.fill("#id_pain_before", "7")
    counted.fill("#id_pain_after", "3")
    counted.check("#id_consent_obtained")
    # The stock quick pick fills agent, strength and lot of the defaults row; one volume for every site.
    assert page.locator("button.stock-default").all_inner_texts() == [
        "Lidocaine 1% · lot LIDO-7"
    ]  # not the expired lot
    counted.click("button.stock-default")
    counted.fill("[name=defaults-anaesthetic_volume_ml]", "1.5")
    # Three sites on the body map: one on the left, one on the right, one on both sides (two clicks).
    counted.click(_region("left", "Upper trapezius"))
    counted.click(_region("right", "Levator scapulae"))
    counted.click(_region("left", "Rhomboids"))
    counted.click(_region("right", "Rhomboids"))
    assert page.locator("#injections-2 [name=injections-2-laterality]").input_value() == "bilateral"
    # The steroid goes with the anaesthetic on one site only.
    counted.select("[name=injections-0-steroid_agent]", "triamcinolone")
    counted.fill("[name=injections-0-steroid_dose_mg]", "10")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # no horizontal scroll
    _shot(page, "charting-draft-1366")
    counted.click("input[name=_sign]")
    page.wait_for_selector(".messagelist .success")

    assert len(counted.actions) <= MAX_INTERACTIONS, counted.actions
    procedure = Procedure.objects.get(appointment=visit)
    assert procedure.status == Procedure.Status.SIGNED
    rows = [
        (
            i.site.name,
            i.laterality,
            i.anaesthetic_agent,
            i.anaesthetic_concentration_percent,
            i.lot_number,
            i.anaesthetic_volume_ml,
            i.steroid_agent,
            i.steroid_dose_mg,
        )
        for i in procedure.injections.order_by("id")
    ]
    assert rows == [
        (
            "Upper trapezius",
            "left",
            "lidocaine",
            Decimal("1.00"),
            "LIDO-7",
            Decimal("1.50"),
            "triamcinolone",
            Decimal("10.00"),
        ),
        ("Levator scapulae", "right", "lidocaine", Decimal("1.00"), "LIDO-7", Decimal("1.50"), "", None),
        ("Rhomboids", "bilateral", "lidocaine", Decimal("1.00"), "LIDO-7", Decimal("1.50"), "", None),
    ]
    assert procedure.cpt_code == "20553"
    # The signed note shows the figure with the four injected sides marked, and no Save buttons.
    assert page.locator(".field-body_map .bm-marked").count() == 4
    assert page.locator("input[name=_continue], input[name=_addanother], input[name=_sign]").count() == 0
    assert page.locator("input[name=_save]").input_value() == "Add addendum"
    _shot(page, "charting-signed-1366")

    # The therapist writes the massage note on the signed procedure.
    therapist_page = page.context.browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    _sign_in(therapist_page, live_server.url, "pasi")
    therapist_page.goto(f"{live_server.url}/admin/tpi/procedure/{procedure.pk}/change/")
    assert therapist_page.locator(".field-body_map .bm-marked").count() == 4
    assert "triamcinolone" not in therapist_page.content().lower()
    therapist_page.click("a:has-text('Write massage note')")
    therapist_page.wait_for_selector("#id_duration_minutes")
    therapist_page.fill("#id_duration_minutes", "10")
    therapist_page.select_option("#id_technique", "effleurage")
    therapist_page.select_option("#id_tolerance", "good")
    _shot(therapist_page, "charting-massage-note-1366")
    therapist_page.click("input[name=_sign]")
    therapist_page.wait_for_selector(".messagelist .success")

    note = MassageNote.objects.get(procedure=procedure)
    assert note.status == MassageNote.Status.SIGNED
    assert note.therapist.user.username == "pasi"
    assert sorted((s.site.name, s.laterality) for s in note.massaged_sites.all()) == [
        ("Levator scapulae", "right"),
        ("Rhomboids", "bilateral"),
        ("Upper trapezius", "left"),
    ]
    procedure.refresh_from_db()
    assert procedure.status == Procedure.Status.SIGNED


def test_the_draft_page_fits_both_widths_and_the_map_works_by_keyboard(
    checked_in_visit,
    live_server,
    open_page,  # noqa: F811
):
    visit = checked_in_visit
    page = open_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, live_server.url, "drlee")
    page.goto(f"{live_server.url}/admin/scheduling/appointment/day-sheet/?date={timezone.localdate():%Y-%m-%d}")
    page.click(f"[data-appointment='{visit.pk}'] a:has-text('Document procedure')")
    page.wait_for_selector(".body-map .bm-region[data-site]")
    url = page.url
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.wait_for_selector(".body-map .bm-region[data-site]")
        region = page.locator(_region("right", "Deltoid", view="front"))
        region.focus()
        page.keyboard.press("Enter")
        page.locator(_region("left", "Vastus lateralis", view="front")).focus()
        page.keyboard.press(" ")
        page.locator(_region("left", "Deltoid", view="front")).focus()
        page.keyboard.press("Enter")  # the other side of a listed site: bilateral
        page.click("#injections-0 .injection-details summary")  # open the folded details of a row

        assert page.locator("#injections-0 [name=injections-0-site]").input_value() == str(
            Injection._meta.get_field("site").related_model.objects.get(name="Deltoid").pk
        )
        assert page.locator("[name=injections-0-laterality]").input_value() == "bilateral"
        assert page.locator("[name=injections-1-laterality]").input_value() == "left"
        assert region.get_attribute("aria-pressed") == "true"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        _shot(page, f"charting-draft-rows-{width}")
