import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, connection, transaction

from clinic import roles
from clinic.audit.access import access_record
from clinic.audit.models import AccessLog
from tests.factories import PatientFactory, staff_user

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers exist on PostgreSQL only"),
]


@pytest.fixture
def rows():
    patient = PatientFactory()
    access = access_record(user=staff_user(roles.PROVIDER), patient=patient, obj=patient, action="view")
    return access, LogEntry.objects.get_for_object(patient).get()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_accesslog SET action = 'export' WHERE id = %(access)s",
        "DELETE FROM audit_accesslog WHERE id = %(access)s",
        "UPDATE auditlog_logentry SET changes_text = 'forged' WHERE id = %(write)s",
        "DELETE FROM auditlog_logentry WHERE id = %(write)s",
    ],
)
def test_raw_update_and_delete_on_audit_tables_fail(rows, sql):
    access, write = rows
    with (
        pytest.raises(DatabaseError, match="audit rows are append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, {"access": access.pk, "write": write.pk})
    assert AccessLog.objects.filter(pk=access.pk, action="view").exists()
    assert LogEntry.objects.filter(pk=write.pk, changes_text="").exists()


def test_orm_update_and_delete_fail_too(rows):
    access, _ = rows
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=access.pk).update(path="/forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=access.pk).delete()
    assert AccessLog.objects.filter(pk=access.pk, path="").exists()


def test_inserts_still_work(rows):
    access, _ = rows
    assert AccessLog.objects.count() == 1
    access_record(user=access.user, patient=access.patient, obj=access.patient, action="export")
    assert AccessLog.objects.count() == 2
