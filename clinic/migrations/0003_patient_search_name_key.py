"""The patient search's ordered index (PostgreSQL only): upper-cased last and first name, collation "C", id.

A name search lists the patients whose last name starts with a word first, ordered by these keys
(clinic.patient_search): this btree finds that prefix as a range and returns it in list order, so
the page stops at its LIMIT however many patients share the surname. Collation "C" makes the range
exact and the order byte order under any database collation (SQLite's default already is). Added with
RunPython like 0002: the index is PostgreSQL's, SQLite needs none for its small clinics.
"""

from django.db import migrations

INDEX_NAME = "patient_search_name_key"


def _index():
    from django.db.models import F, Index
    from django.db.models.functions import Collate, Upper

    return Index(
        Collate(Upper(F("legal_last_name")), "C"),
        Collate(Upper(F("legal_first_name")), "C"),
        F("id"),
        name=INDEX_NAME,
    )


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("clinic", "Patient"), _index())


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("clinic", "Patient"), _index())


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_patient_name_trigram"),
    ]

    operations = [
        migrations.RunPython(add_index, remove_index),
    ]
