"""Trigram indexes for patient name search (PostgreSQL only).

Name fragments are searched with icontains, which Django writes as UPPER(column) LIKE UPPER('%...%');
a GIN trigram index on UPPER(column) serves it. SQLite has no pg_trgm; there the table scan stays
(the embedded default is for small clinics). Added with RunPython, not in Patient.Meta, for the same
reason as scheduling's exclusion constraints: SQLite's schema editor would try to build them.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

NAME_COLUMNS = ("legal_first_name", "legal_last_name", "preferred_name")


def _indexes():
    from django.contrib.postgres.indexes import GinIndex, OpClass
    from django.db.models.functions import Upper

    return [
        GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=f"patient_{column}_trgm")
        for column in NAME_COLUMNS
    ]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Patient = apps.get_model("clinic", "Patient")
    for index in _indexes():
        schema_editor.add_index(Patient, index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Patient = apps.get_model("clinic", "Patient")
    for index in _indexes():
        schema_editor.remove_index(Patient, index)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),  # a no-op on SQLite
        migrations.RunPython(add_indexes, remove_indexes),
    ]
