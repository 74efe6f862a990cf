"""Stock movements cannot change in the database either, not only in the application.

PostgreSQL refuses UPDATE and DELETE of any movement. SQLite refuses the UPDATEs; it keeps
DELETE because Django's test runner empties SQLite tables with DELETE (PostgreSQL's uses
TRUNCATE, which a row trigger does not see), as for the audit log and signed notes.
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION kapcare_stock_movement_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'stock movements are append-only: % refused', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER stock_movement_append_only BEFORE UPDATE OR DELETE
    ON stock_movement FOR EACH ROW EXECUTE FUNCTION kapcare_stock_movement_append_only()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS stock_movement_append_only ON stock_movement",
    "DROP FUNCTION IF EXISTS kapcare_stock_movement_append_only()",
]
SQLITE = [
    """
    CREATE TRIGGER stock_movement_append_only BEFORE UPDATE ON stock_movement
    BEGIN SELECT RAISE(ABORT, 'stock movements are append-only: UPDATE refused'); END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS stock_movement_append_only"]


def _run(schema_editor, by_vendor):
    for statement in by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)  # plpgsql uses % itself


def forwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def backwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("stock", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
