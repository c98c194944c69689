"""The patient search's ordered index (PostgreSQL only): upper-cased last and first name, collation "C", id.

A name search lists the patients whose last name starts with a word first, ordered by these keys
(clinic.patient_search): this btree finds that prefix as a range and returns it in list order, so
the page stops at its LIMIT however many patients share the surname. Collation "C" makes the range
exact and the order byte order under any database collation (SQLite's default already is). Added with
RunPython like 0002: the index is PostgreSQL's, SQLite needs none for its small clinics.

Also a trigram index on the mobile phone: the last digits of a number ("5550178") are a contains on
the E.164 text, which read the whole table without it.
"""

from django.db import migrations

INDEX_NAME = "patient_search_name_key"


def _indexes():
    from django.contrib.postgres.indexes import GinIndex, OpClass
    from django.db.models import F, Index
    from django.db.models.functions import Collate, Upper

    return [
        Index(
            Collate(Upper(F("legal_last_name")), "C"),
            Collate(Upper(F("legal_first_name")), "C"),
            F("id"),
            name=INDEX_NAME,
        ),
        GinIndex(OpClass(F("mobile_phone"), name="gin_trgm_ops"), name="patient_mobile_phone_trgm"),
    ]


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in _indexes():
            schema_editor.add_index(apps.get_model("clinic", "Patient"), index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in _indexes():
            schema_editor.remove_index(apps.get_model("clinic", "Patient"), index)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_patient_name_trigram"),
    ]

    operations = [
        migrations.RunPython(add_indexes, remove_indexes),
    ]
