"""Audit events are append-only in the database too, not only in the application.

PostgreSQL refuses UPDATE and DELETE of any audit row. SQLite refuses UPDATE; it keeps DELETE
because Django's test runner empties SQLite tables with DELETE (PostgreSQL's uses TRUNCATE,
which a row trigger does not see).
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION kapcare_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION kapcare_audit_append_only()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
    "DROP FUNCTION IF EXISTS kapcare_audit_append_only()",
]
SQLITE = [
    """
    CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE ON core_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS core_auditevent_append_only"]


def _run(schema_editor, by_vendor):
    for statement in by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)  # plpgsql uses % itself


def forwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def backwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
