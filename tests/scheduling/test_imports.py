"""scheduling.imports: future appointments, booked through the booking service, all or nothing, once."""

import datetime as dt
import io

import pytest

from clinic import roles
from clinic.imports.runner import ImportParseError
from scheduling.imports import appointments_import, appointments_read_csv
from scheduling.models import Appointment
from tests.factories import ClosureFactory, RoomFactory, staff_user
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db

HEADER = "patient_mrn,provider,room,appointment_type,start,notes"


@pytest.fixture
def admin():
    return staff_user(roles.CLINIC_ADMIN, username="onboarding")


def lines(clinic, *extra: str) -> list[str]:
    mrn, mrn2 = clinic.patient.mrn, clinic.patient2.mrn
    return [
        f"{mrn},drlee,Room 1,tpi,2026-12-01 10:00,first visit",
        f"{mrn2},{clinic.doctor.npi or 'drlee'},room 1,TPI procedure,2026-12-01T16:00:00Z,",
        *extra,
    ]


def run(admin, rows: list[str], *, commit: bool):
    text = "\n".join([HEADER, *rows]) + "\n"
    return appointments_import(rows=appointments_read_csv(io.StringIO(text)), by=admin, commit=commit)


def test_the_dry_run_lists_bookings_and_every_refusal_and_writes_nothing(clinic, frozen, admin):
    ClosureFactory(first_day=dt.date(2026, 12, 24), last_day=dt.date(2026, 12, 24), reason="Christmas Eve")
    RoomFactory(name="Storage", appointment_types=[])
    mrn = clinic.patient.mrn
    rows = lines(
        clinic,
        f"{clinic.patient2.mrn},drlee,Room 1,tpi,2026-12-01 10:15,",  # clashes with line 2 (same file)
        "00000000,drlee,Room 1,tpi,2026-12-02 10:00,",  # unknown patient
        f"{mrn},drwho,Room 9,laser,2026-12-02 10:00,",  # unknown provider, room, type
        f"{mrn},drlee,Room 1,tpi,2026-11-29 10:00,",  # past
        f"{mrn},drlee,Room 1,tpi,2026-12-24 10:00,",  # closure
        f"{mrn},drlee,Storage,tpi,2026-12-03 10:00,",  # the room cannot host the visit
        f"{mrn},drlee,Room 1,tpi,next tuesday,",  # not a time
    )

    report = run(admin, rows, commit=False)

    assert not report.committed
    assert [(r.line, r.action) for r in report.rows] == [
        (2, "create"),
        (3, "create"),
        (4, "refuse"),
        (5, "refuse"),
        (6, "refuse"),
        (7, "refuse"),
        (8, "refuse"),
        (9, "refuse"),
        (10, "refuse"),
    ]
    assert report.rows[0].label == f"{clinic.patient.display_name} (MRN {mrn}), 2026-12-01 10:00"
    reasons = [r.reasons for r in report.refused]
    assert reasons[0][0].startswith("Conflict: Morgan Lee, MD and Room 1 are already booked")
    assert reasons[1:3] == [
        ("patient_mrn: no patient has MRN '00000000' (import the patients first).",),
        (
            "provider: no active provider 'drwho' (give the username or NPI).",
            "room: no active room 'Room 9'.",
            "appointment_type: no active visit type 'laser'.",
        ),
    ]
    assert reasons[3] == ("start: 2026-11-29 10:00 is past; only future appointments are imported.",)
    assert reasons[4][0].startswith("The clinic is closed on Thu 24 Dec 2026 (Christmas Eve)")
    assert reasons[5] == ("Storage cannot host TPI procedure visits; choose a room equipped for them.",)
    assert reasons[6] == ("start: not a date and time ('next tuesday'); write it as 2026-12-07 10:30 (clinic time).",)
    assert Appointment.objects.count() == 0


def test_the_commit_books_all_or_nothing_and_a_second_run_books_nothing(clinic, frozen, admin):
    refused = run(admin, lines(clinic, f"{clinic.patient.mrn},drwho,Room 1,tpi,2026-12-02 10:00,"), commit=True)
    assert (refused.committed, Appointment.objects.count()) == (False, 0)

    first = run(admin, lines(clinic), commit=True)
    second = run(admin, lines(clinic), commit=True)

    assert (first.committed, second.committed) == (True, True)
    assert first.summary() == "2 created, 0 updated, 0 unchanged, 0 refused"
    assert [r.action for r in second.rows] == ["unchanged", "unchanged"]
    booked = list(Appointment.objects.order_by("start").values_list("patient", "start", "notes", "created_by"))
    assert booked == [
        (clinic.patient.pk, at(2026, 12, 1, 10), "first visit", admin.pk),
        (clinic.patient2.pk, at(2026, 12, 1, 11), "", admin.pk),
    ]


def test_a_file_without_the_needed_columns_is_refused_whole():
    with pytest.raises(ImportParseError, match=r"missing column\(s\): room, start; unknown column\(s\): when"):
        list(appointments_read_csv(io.StringIO("patient_mrn,provider,appointment_type,when\n")))
