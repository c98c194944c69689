"""Massage notes become the therapist's own document: signed on their own, sites with a side, addenda.

A note may now be added to a signed procedure (the procedure's own columns and injections stay
frozen by 0003's triggers); the note is frozen by its own signature, or when its procedure is voided.
The triggers on massage notes and their sites are replaced here, for SQLite and PostgreSQL alike.
The plain many-to-many table of massaged sites becomes the MassagedSite model (same table), with
the side of each site: copied from the procedure's injection of that site when it has one side,
else "bilateral". Notes of procedures signed before this migration were frozen with the procedure:
they are marked signed with the procedure's signature, so nothing that was frozen thaws.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MESSAGE = "tpi: a signed or voided procedure and its records never change"
NOTE_MESSAGE = "tpi: a signed massage note (or one of a voided procedure) never changes"
LATERALITY = [("left", "Left"), ("right", "Right"), ("bilateral", "Bilateral"), ("midline", "Midline")]


def _procedure_status(procedure_id_expr):
    return f"(SELECT status FROM tpi_procedure WHERE id = {procedure_id_expr})"


def _note_frozen(note_id_expr):
    """SQL that is true when the note is signed or its procedure voided."""
    return (
        "EXISTS (SELECT 1 FROM tpi_massagenote m JOIN tpi_procedure p ON p.id = m.procedure_id "
        f"WHERE m.id = {note_id_expr} AND (m.status <> 'draft' OR p.status = 'voided'))"
    )


OLD_SQLITE = ["tpi_massagenote_insert_frozen", "tpi_massagenote_update_frozen", "tpi_massagenote_sites_insert_frozen"]
NEW_SQLITE_NAMES = [
    "tpi_massagenote_insert_frozen",
    "tpi_massagenote_update_frozen",
    "tpi_massagenote_sites_insert_frozen",
    "tpi_massagenote_sites_update_frozen",
    "tpi_massagenoteaddendum_insert_frozen",
    "tpi_massagenoteaddendum_update_frozen",
]
SQLITE_FORWARD = [
    f"""CREATE TRIGGER tpi_massagenote_insert_frozen BEFORE INSERT ON tpi_massagenote
    WHEN {_procedure_status("NEW.procedure_id")} = 'voided'
    BEGIN SELECT RAISE(ABORT, '{NOTE_MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_massagenote_update_frozen BEFORE UPDATE ON tpi_massagenote
    WHEN OLD.status <> 'draft' OR {_procedure_status("OLD.procedure_id")} = 'voided'
        OR NEW.procedure_id IS NOT OLD.procedure_id
    BEGIN SELECT RAISE(ABORT, '{NOTE_MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_massagenote_sites_insert_frozen BEFORE INSERT ON tpi_massagenote_sites
    WHEN {_note_frozen("NEW.massagenote_id")}
    BEGIN SELECT RAISE(ABORT, '{NOTE_MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_massagenote_sites_update_frozen BEFORE UPDATE ON tpi_massagenote_sites
    WHEN {_note_frozen("OLD.massagenote_id")} OR {_note_frozen("NEW.massagenote_id")}
    BEGIN SELECT RAISE(ABORT, '{NOTE_MESSAGE}'); END""",
    """CREATE TRIGGER tpi_massagenoteaddendum_insert_frozen BEFORE INSERT ON tpi_massagenoteaddendum
    WHEN (SELECT status FROM tpi_massagenote WHERE id = NEW.note_id) <> 'signed'
    BEGIN SELECT RAISE(ABORT, 'tpi: addenda go on signed massage notes only'); END""",
    f"""CREATE TRIGGER tpi_massagenoteaddendum_update_frozen BEFORE UPDATE ON tpi_massagenoteaddendum
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
OLD_SQLITE_BODIES = [
    f"""CREATE TRIGGER tpi_massagenote_insert_frozen BEFORE INSERT ON tpi_massagenote
    WHEN {_procedure_status("NEW.procedure_id")} <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_massagenote_update_frozen BEFORE UPDATE ON tpi_massagenote
    WHEN {_procedure_status("OLD.procedure_id")} <> 'draft' OR {_procedure_status("NEW.procedure_id")} <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    """CREATE TRIGGER tpi_massagenote_sites_insert_frozen BEFORE INSERT ON tpi_massagenote_sites
    WHEN (SELECT p.status FROM tpi_procedure p JOIN tpi_massagenote m ON m.procedure_id = p.id
          WHERE m.id = NEW.massagenote_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, '"""
    + MESSAGE
    + """'); END""",
]

PG_DROP_OLD = [
    "DROP TRIGGER IF EXISTS tpi_massagenote_frozen ON tpi_massagenote",
    "DROP TRIGGER IF EXISTS tpi_massagenote_sites_frozen ON tpi_massagenote_sites",
]
PG_FORWARD = [
    f"""CREATE FUNCTION tpi_guard_massage_note() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '{MESSAGE} (clinical records are never deleted)' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF (TG_OP = 'INSERT' AND {_procedure_status("NEW.procedure_id")} = 'voided')
           OR (TG_OP = 'UPDATE' AND (OLD.status <> 'draft' OR {_procedure_status("OLD.procedure_id")} = 'voided'
                                     OR NEW.procedure_id <> OLD.procedure_id)) THEN
            RAISE EXCEPTION '{NOTE_MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION tpi_guard_massage_sites() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (TG_OP <> 'INSERT' AND {_note_frozen("OLD.massagenote_id")})
           OR (TG_OP <> 'DELETE' AND {_note_frozen("NEW.massagenote_id")}) THEN
            RAISE EXCEPTION '{NOTE_MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$""",
    """CREATE FUNCTION tpi_guard_massage_addendum() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT status FROM tpi_massagenote WHERE id = NEW.note_id) <> 'signed' THEN
            RAISE EXCEPTION 'tpi: addenda go on signed massage notes only' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER tpi_massagenote_frozen BEFORE INSERT OR UPDATE OR DELETE ON tpi_massagenote FOR EACH ROW
    EXECUTE FUNCTION tpi_guard_massage_note()""",
    """CREATE TRIGGER tpi_massagenote_sites_frozen BEFORE INSERT OR UPDATE OR DELETE ON tpi_massagenote_sites
    FOR EACH ROW EXECUTE FUNCTION tpi_guard_massage_sites()""",
    """CREATE TRIGGER tpi_massagenoteaddendum_insert BEFORE INSERT ON tpi_massagenoteaddendum FOR EACH ROW
    EXECUTE FUNCTION tpi_guard_massage_addendum()""",
    """CREATE TRIGGER tpi_massagenoteaddendum_frozen BEFORE UPDATE OR DELETE ON tpi_massagenoteaddendum FOR EACH ROW
    EXECUTE FUNCTION tpi_refuse_frozen_change()""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS tpi_massagenote_frozen ON tpi_massagenote",
    "DROP TRIGGER IF EXISTS tpi_massagenote_sites_frozen ON tpi_massagenote_sites",
    "DROP TRIGGER IF EXISTS tpi_massagenoteaddendum_insert ON tpi_massagenoteaddendum",
    "DROP TRIGGER IF EXISTS tpi_massagenoteaddendum_frozen ON tpi_massagenoteaddendum",
    "DROP FUNCTION IF EXISTS tpi_guard_massage_note()",
    "DROP FUNCTION IF EXISTS tpi_guard_massage_addendum()",
]
# Going back restores 0003's rules (a note frozen with its procedure).
PG_RESTORE_OLD = [
    f"""CREATE OR REPLACE FUNCTION tpi_guard_massage_sites() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT p.status FROM tpi_procedure p JOIN tpi_massagenote m ON m.procedure_id = p.id
            WHERE m.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.massagenote_id ELSE NEW.massagenote_id END) <> 'draft' THEN
            RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$""",
    """CREATE TRIGGER tpi_massagenote_frozen BEFORE INSERT OR UPDATE OR DELETE ON tpi_massagenote FOR EACH ROW
    EXECUTE FUNCTION tpi_guard_child_of_procedure()""",
    """CREATE TRIGGER tpi_massagenote_sites_frozen BEFORE INSERT OR UPDATE OR DELETE ON tpi_massagenote_sites
    FOR EACH ROW EXECUTE FUNCTION tpi_guard_massage_sites()""",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


def _fill(apps, schema_editor):
    """Give each massaged site the side of its injection (one side) or bilateral; freeze signed ones."""
    MassagedSite = apps.get_model("tpi", "MassagedSite")
    MassageNote = apps.get_model("tpi", "MassageNote")
    Injection = apps.get_model("tpi", "Injection")
    for row in MassagedSite.objects.select_related("note"):
        sides = set(
            Injection.objects.filter(procedure_id=row.note.procedure_id, site_id=row.site_id).values_list(
                "laterality", flat=True
            )
        )
        side = sides.pop() if len(sides) == 1 else "bilateral"
        if side != row.laterality:
            MassagedSite.objects.filter(pk=row.pk).update(laterality=side)
    for note in MassageNote.objects.filter(procedure__signed_at__isnull=False).select_related("procedure"):
        MassageNote.objects.filter(pk=note.pk).update(
            status="signed", signed_at=note.procedure.signed_at, signed_by_id=note.procedure.signed_by_id
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("tpi", "0005_merge_0004_followups_delivery_0004_treatment_plans"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": [f"DROP TRIGGER IF EXISTS {n}" for n in OLD_SQLITE], "postgresql": PG_DROP_OLD}),
            _run(
                {
                    "sqlite": [f"DROP TRIGGER IF EXISTS {n}" for n in NEW_SQLITE_NAMES] + OLD_SQLITE_BODIES,
                    "postgresql": PG_BACKWARD + PG_RESTORE_OLD,
                }
            ),
        ),
        # The plain M2M table becomes a model: same table and columns, so the state changes alone.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="MassagedSite",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "note",
                            models.ForeignKey(
                                db_column="massagenote_id",
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="massaged_sites",
                                to="tpi.massagenote",
                            ),
                        ),
                        (
                            "site",
                            models.ForeignKey(
                                db_column="triggerpointsite_id",
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="tpi.triggerpointsite",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "tpi_massagenote_sites",
                        "ordering": ["note", "id"],
                        # The M2M table's own unique index already holds this on existing databases.
                        "constraints": [
                            models.UniqueConstraint(fields=("note", "site"), name="massagedsite_once_per_note")
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="massagenote",
                    name="sites",
                    field=models.ManyToManyField(
                        related_name="massage_notes", through="tpi.MassagedSite", to="tpi.triggerpointsite"
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="massagedsite",
            name="laterality",
            field=models.CharField(choices=LATERALITY, default="bilateral", max_length=9),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="injection",
            name="laterality",
            field=models.CharField(choices=LATERALITY, max_length=9),
        ),
        migrations.AddField(
            model_name="massagenote",
            name="status",
            field=models.CharField(
                choices=[("draft", "Draft"), ("signed", "Signed")], default="draft", editable=False, max_length=6
            ),
        ),
        migrations.AddField(
            model_name="massagenote",
            name="signed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="massagenote",
            name="signed_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="massagenote",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "signed"), _negated=True)
                | models.Q(("signed_at__isnull", False), ("signed_by__isnull", False)),
                name="massage_signed_has_signature",
            ),
        ),
        migrations.CreateModel(
            name="MassageNoteAddendum",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ("text", models.TextField()),
                (
                    "author",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "note",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="addenda", to="tpi.massagenote"
                    ),
                ),
            ],
            options={
                "verbose_name": "massage note addendum",
                "verbose_name_plural": "massage note addenda",
                "ordering": ["note", "created_at", "id"],
                "constraints": [
                    models.CheckConstraint(condition=~models.Q(text=""), name="massage_addendum_text_not_empty")
                ],
            },
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": [f"DROP TRIGGER IF EXISTS {n}" for n in NEW_SQLITE_NAMES], "postgresql": PG_BACKWARD}),
        ),
    ]
