"""Migration 0005: existing rooms move to one default location and host every existing visit type."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("scheduling", "0003_no_double_booking")]
AFTER = [("scheduling", "0006_room_location_required")]


@pytest.mark.django_db(transaction=True)
def test_existing_rooms_get_the_default_location_and_every_existing_type(settings):
    settings.TIME_ZONE = "America/Chicago"
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("scheduling", "Room").objects.create(name="Room 1")
    old.get_model("scheduling", "Room").objects.create(name="Massage room")
    for code in ("tpi", "massage"):
        old.get_model("scheduling", "AppointmentType").objects.create(code=code, name=code)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Room = new.get_model("scheduling", "Room")

    rooms = {room.name: room for room in Room.objects.select_related("location")}
    assert {room.location.name for room in rooms.values()} == {"Main location"}
    assert rooms["Room 1"].location.time_zone == "America/Chicago"
    assert {name: sorted(room.appointment_types.values_list("code", flat=True)) for name, room in rooms.items()} == {
        "Room 1": ["massage", "tpi"],
        "Massage room": ["massage", "tpi"],
    }

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the schema as the other tests expect
