"""No double booking in the database: blocked_end filled and required, btree_gist, exclusion constraints.

The exclusion constraints exist on PostgreSQL only (SQLite has no range types; there the booking
service checks under SQLite's write lock). They are added with RunPython rather than declared in
Appointment.Meta, because SQLite's schema editor would try to create them when it rebuilds the table.
"""

import datetime as dt

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

ACTIVE = ~models.Q(status__in=["cancelled", "no_show"])


def _constraints():
    from django.contrib.postgres.constraints import ExclusionConstraint
    from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators

    class TsTzRange(models.Func):
        function = "TSTZRANGE"
        output_field = DateTimeRangeField()

    blocked = TsTzRange("start", "blocked_end", RangeBoundary())
    visit = TsTzRange("start", "end", RangeBoundary())
    return [
        ExclusionConstraint(
            name="appointment_no_provider_overlap",
            expressions=[(blocked, RangeOperators.OVERLAPS), ("provider", RangeOperators.EQUAL)],
            condition=ACTIVE,
        ),
        ExclusionConstraint(
            name="appointment_no_room_overlap",
            expressions=[(blocked, RangeOperators.OVERLAPS), ("room", RangeOperators.EQUAL)],
            condition=ACTIVE,
        ),
        ExclusionConstraint(
            name="appointment_no_patient_overlap",
            expressions=[(visit, RangeOperators.OVERLAPS), ("patient", RangeOperators.EQUAL)],
            condition=ACTIVE,
        ),
    ]


def fill_blocked_end(apps, schema_editor):
    Appointment = apps.get_model("scheduling", "Appointment")
    for appointment in Appointment.objects.filter(blocked_end__isnull=True).select_related("appointment_type"):
        appointment.blocked_end = appointment.end + dt.timedelta(
            minutes=appointment.appointment_type.buffer_after_minutes
        )
        appointment.save(update_fields=["blocked_end"])


def add_exclusion_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Appointment = apps.get_model("scheduling", "Appointment")
    for constraint in _constraints():
        schema_editor.add_constraint(Appointment, constraint)


def remove_exclusion_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Appointment = apps.get_model("scheduling", "Appointment")
    for constraint in _constraints():
        schema_editor.remove_constraint(Appointment, constraint)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_booking_records"),
    ]

    operations = [
        migrations.RunPython(fill_blocked_end, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appointment",
            name="blocked_end",
            field=models.DateTimeField(editable=False),
        ),
        BtreeGistExtension(),  # a no-op on SQLite
        migrations.RunPython(add_exclusion_constraints, remove_exclusion_constraints),
    ]
