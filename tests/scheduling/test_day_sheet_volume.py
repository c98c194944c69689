"""The day sheet stays a handful of indexed queries with 100,000 appointments in the table."""

import datetime as dt
import time

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from clinic.models import Patient
from clinic.patients import mrn_generate
from scheduling.models import Appointment
from tests.factories import ProviderFactory, RoomFactory
from tests.scheduling.conftest import at

# Seconds of bulk inserts: once per CI run, in the PostgreSQL pass (where the exclusion constraints hold).
pytestmark = [pytest.mark.slow, pytest.mark.server_pass]
PROVIDERS, PER_PROVIDER, PATIENTS = 10, 10_000, 200


@pytest.mark.django_db
def test_day_sheet_with_100000_appointments(clinic, client, django_assert_max_num_queries):
    # Bulk rows without overlaps (the exclusion constraints hold on PostgreSQL): every provider has its own
    # room and a 30-minute visit every 40 minutes around the clock; at any time each patient is in one visit.
    providers = [clinic.doctor] + [ProviderFactory() for _ in range(PROVIDERS - 1)]
    rooms = [RoomFactory(name=f"Volume room {i}") for i in range(PROVIDERS)]
    mrns: set[str] = set()
    while len(mrns) < PATIENTS:  # random MRNs collide now and then at this count: draw until distinct
        mrns.add(mrn_generate())
    patients = Patient.objects.bulk_create(
        [
            Patient(mrn=mrn, legal_first_name="P", legal_last_name=f"V{i}", date_of_birth=dt.date(1970, 1, 1))
            for i, mrn in enumerate(sorted(mrns))
        ]
    )
    origin = at(2026, 6, 1)
    if connection.vendor == "postgresql":
        _insert_on_postgresql(providers, rooms, patients, clinic.tpi, origin)
    else:
        _insert_with_executemany(providers, rooms, patients, clinic.tpi, origin)
    assert Appointment.objects.count() == PROVIDERS * PER_PROVIDER
    clinic.frontdesk.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_appointment", "change_appointment"])
    )
    client.force_login(clinic.frontdesk)

    began = time.monotonic()
    # 16: as tests/scheduling/test_admin.py's test_day_sheet_runs_constant_queries says.
    with django_assert_max_num_queries(16):
        response = client.get("/admin/scheduling/appointment/day-sheet/", {"date": "2026-08-01"})
    elapsed = time.monotonic() - began

    assert response.status_code == 200
    # 36 visits a day per provider (every 40 minutes for 24 hours), plus one that started the evening before.
    cards = response.content.decode().count('class="appointment status-booked"')
    assert 36 * PROVIDERS <= cards <= 37 * PROVIDERS
    assert elapsed < 5, f"day sheet took {elapsed:.2f}s"


COLUMNS = ", ".join(
    [
        "patient_id",
        "provider_id",
        "room_id",
        "appointment_type_id",
        "start",
        '"end"',
        "blocked_end",
        "status",
        "notes",
        "cancellation_reason",
    ]
)


def _insert_on_postgresql(providers, rooms, patients, appointment_type, origin) -> None:
    """Generate the rows in the server: one INSERT ... SELECT over generate_series."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO scheduling_appointment ({COLUMNS}) "  # noqa: S608  (no user input)
            "SELECT (%s::bigint[])[(j + p) %% %s + 1], (%s::bigint[])[p + 1], (%s::bigint[])[p + 1], %s, "
            "%s + j * interval '40 minutes', %s + j * interval '40 minutes' + interval '30 minutes', "
            "%s + j * interval '40 minutes' + interval '40 minutes', 'booked', '', '' "
            "FROM generate_series(0, %s) AS p, generate_series(0, %s) AS j",
            [
                [pt.pk for pt in patients],
                PATIENTS,
                [pr.pk for pr in providers],
                [r.pk for r in rooms],
                appointment_type.pk,
                origin,
                origin,
                origin,
                PROVIDERS - 1,
                PER_PROVIDER - 1,
            ],
        )


def _insert_with_executemany(providers, rooms, patients, appointment_type, origin) -> None:
    """SQLite: one prepared INSERT run 100,000 times (the ORM's bulk_create would take most of a minute)."""
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for p, provider in enumerate(providers):
        for j in range(PER_PROVIDER):
            start = origin + dt.timedelta(minutes=40 * j)
            end, blocked_end = start + dt.timedelta(minutes=30), start + dt.timedelta(minutes=40)
            patient = patients[(j + p) % PATIENTS]
            times = (adapt(start), adapt(end), adapt(blocked_end))
            rows.append((patient.pk, provider.pk, rooms[p].pk, appointment_type.pk, *times, "booked", "", ""))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO scheduling_appointment ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
            rows,
        )
