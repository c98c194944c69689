"""Existing rooms keep working: they move to one default location and may host every existing visit type."""

from django.conf import settings
from django.db import migrations


def rooms_default_location(apps, schema_editor):
    Room = apps.get_model("scheduling", "Room")
    Location = apps.get_model("scheduling", "Location")
    AppointmentType = apps.get_model("scheduling", "AppointmentType")
    rooms = list(Room.objects.filter(location__isnull=True))
    if not rooms:
        return
    location, _ = Location.objects.get_or_create(name="Main location", defaults={"time_zone": settings.TIME_ZONE})
    types = list(AppointmentType.objects.all())
    for room in rooms:
        room.location = location
        room.save(update_fields=["location"])
        room.appointment_types.add(*types)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0004_locations_rooms_closures"),
    ]

    operations = [
        migrations.RunPython(rooms_default_location, migrations.RunPython.noop),
    ]
