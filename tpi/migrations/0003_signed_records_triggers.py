"""Database triggers: a signed or voided procedure, its injections, massage notes and addenda never change.

The services refuse such changes with a friendly error; these triggers make the database refuse them
too, whatever code runs. On PostgreSQL deletes of clinical rows are refused as well. SQLite gets no
delete triggers because Django empties test tables with DELETE (PostgreSQL uses TRUNCATE, which
fires no row triggers).
"""

from django.db import migrations

# Columns that are the signed clinical content (status and void fields may still move on voiding).
FROZEN_COLUMNS = [
    "patient_id",
    "provider_id",
    "appointment_id",
    "performed_at",
    "indication",
    "indication_icd10",
    "pain_before",
    "pain_after",
    "consent_obtained",
    "consent_obtained_by_id",
    "consent_obtained_at",
    "guidance",
    "complications",
    "signed_at",
    "signed_by_id",
]
VOID_COLUMNS = ["status", "voided_at", "voided_by_id", "void_reason"]
MESSAGE = "tpi: a signed or voided procedure and its records never change"


def _sqlite_changed(columns):
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _pg_changed(columns):
    return f"ROW({', '.join('NEW.' + c for c in columns)}) IS DISTINCT FROM ROW({', '.join('OLD.' + c for c in columns)})"


def _status_of(procedure_id_expr):
    return f"(SELECT status FROM tpi_procedure WHERE id = {procedure_id_expr})"


def _note_status(note_id_expr):
    return (
        "(SELECT p.status FROM tpi_procedure p JOIN tpi_massagenote m ON m.procedure_id = p.id "
        f"WHERE m.id = {note_id_expr})"
    )


SQLITE_FORWARD = [
    f"""CREATE TRIGGER tpi_procedure_frozen BEFORE UPDATE ON tpi_procedure
    WHEN OLD.status <> 'draft' AND ({_sqlite_changed(FROZEN_COLUMNS)} OR NEW.status = 'draft'
        OR (OLD.status = 'voided' AND ({_sqlite_changed(VOID_COLUMNS)})))
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_injection_insert_frozen BEFORE INSERT ON tpi_injection
    WHEN {_status_of("NEW.procedure_id")} <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_injection_update_frozen BEFORE UPDATE ON tpi_injection
    WHEN {_status_of("OLD.procedure_id")} <> 'draft' OR {_status_of("NEW.procedure_id")} <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_massagenote_insert_frozen BEFORE INSERT ON tpi_massagenote
    WHEN {_status_of("NEW.procedure_id")} <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_massagenote_update_frozen BEFORE UPDATE ON tpi_massagenote
    WHEN {_status_of("OLD.procedure_id")} <> 'draft' OR {_status_of("NEW.procedure_id")} <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_massagenote_sites_insert_frozen BEFORE INSERT ON tpi_massagenote_sites
    WHEN {_note_status("NEW.massagenote_id")} <> 'draft'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER tpi_addendum_update_frozen BEFORE UPDATE ON tpi_addendum
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in [
        "tpi_procedure_frozen",
        "tpi_injection_insert_frozen",
        "tpi_injection_update_frozen",
        "tpi_massagenote_insert_frozen",
        "tpi_massagenote_update_frozen",
        "tpi_massagenote_sites_insert_frozen",
        "tpi_addendum_update_frozen",
    ]
]

PG_FORWARD = [
    f"""CREATE FUNCTION tpi_refuse_frozen_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    f"""CREATE FUNCTION tpi_guard_child_of_procedure() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION '{MESSAGE} (clinical records are never deleted)' USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF {_status_of("NEW.procedure_id")} <> 'draft'
           OR (TG_OP = 'UPDATE' AND {_status_of("OLD.procedure_id")} <> 'draft') THEN
            RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$""",
    f"""CREATE FUNCTION tpi_guard_massage_sites() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {_note_status("CASE WHEN TG_OP = 'DELETE' THEN OLD.massagenote_id ELSE NEW.massagenote_id END")} <> 'draft' THEN
            RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$""",
    f"""CREATE TRIGGER tpi_procedure_frozen BEFORE UPDATE ON tpi_procedure FOR EACH ROW
    WHEN (OLD.status <> 'draft' AND ({_pg_changed(FROZEN_COLUMNS)} OR NEW.status = 'draft'
        OR (OLD.status = 'voided' AND {_pg_changed(VOID_COLUMNS)})))
    EXECUTE FUNCTION tpi_refuse_frozen_change()""",
    """CREATE TRIGGER tpi_procedure_no_delete BEFORE DELETE ON tpi_procedure FOR EACH ROW
    EXECUTE FUNCTION tpi_refuse_frozen_change()""",
    """CREATE TRIGGER tpi_injection_frozen BEFORE INSERT OR UPDATE OR DELETE ON tpi_injection FOR EACH ROW
    EXECUTE FUNCTION tpi_guard_child_of_procedure()""",
    """CREATE TRIGGER tpi_massagenote_frozen BEFORE INSERT OR UPDATE OR DELETE ON tpi_massagenote FOR EACH ROW
    EXECUTE FUNCTION tpi_guard_child_of_procedure()""",
    """CREATE TRIGGER tpi_massagenote_sites_frozen BEFORE INSERT OR UPDATE OR DELETE ON tpi_massagenote_sites
    FOR EACH ROW EXECUTE FUNCTION tpi_guard_massage_sites()""",
    """CREATE TRIGGER tpi_addendum_frozen BEFORE UPDATE OR DELETE ON tpi_addendum FOR EACH ROW
    EXECUTE FUNCTION tpi_refuse_frozen_change()""",
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS tpi_procedure_frozen ON tpi_procedure",
    "DROP TRIGGER IF EXISTS tpi_procedure_no_delete ON tpi_procedure",
    "DROP TRIGGER IF EXISTS tpi_injection_frozen ON tpi_injection",
    "DROP TRIGGER IF EXISTS tpi_massagenote_frozen ON tpi_massagenote",
    "DROP TRIGGER IF EXISTS tpi_massagenote_sites_frozen ON tpi_massagenote_sites",
    "DROP TRIGGER IF EXISTS tpi_addendum_frozen ON tpi_addendum",
    "DROP FUNCTION IF EXISTS tpi_refuse_frozen_change()",
    "DROP FUNCTION IF EXISTS tpi_guard_child_of_procedure()",
    "DROP FUNCTION IF EXISTS tpi_guard_massage_sites()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("tpi", "0002_trigger_point_sites")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}),
        )
    ]
