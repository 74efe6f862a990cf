"""Signed notes and addenda cannot change in the database either, not only in the application.

PostgreSQL refuses UPDATE or DELETE of a signed note and of any addendum. SQLite refuses the
UPDATEs; it keeps DELETE because Django's test runner empties SQLite tables with DELETE
(PostgreSQL's uses TRUNCATE, which a row trigger does not see), as for the audit log.
A draft stays updatable: that is how it is written and then signed.
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE FUNCTION kapcare_signed_note_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.state = 'signed' THEN
            RAISE EXCEPTION 'signed notes cannot change: % refused', TG_OP;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER notes_sessionnote_signed_immutable BEFORE UPDATE OR DELETE
    ON notes_sessionnote FOR EACH ROW EXECUTE FUNCTION kapcare_signed_note_immutable()
    """,
    """
    CREATE FUNCTION kapcare_addendum_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'addenda are append-only: % refused', TG_OP;
    END
    $$
    """,
    """
    CREATE TRIGGER notes_noteaddendum_append_only BEFORE UPDATE OR DELETE
    ON notes_noteaddendum FOR EACH ROW EXECUTE FUNCTION kapcare_addendum_append_only()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS notes_sessionnote_signed_immutable ON notes_sessionnote",
    "DROP FUNCTION IF EXISTS kapcare_signed_note_immutable()",
    "DROP TRIGGER IF EXISTS notes_noteaddendum_append_only ON notes_noteaddendum",
    "DROP FUNCTION IF EXISTS kapcare_addendum_append_only()",
]
SQLITE = [
    """
    CREATE TRIGGER notes_sessionnote_signed_immutable BEFORE UPDATE ON notes_sessionnote
    WHEN OLD.state = 'signed'
    BEGIN SELECT RAISE(ABORT, 'signed notes cannot change: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER notes_noteaddendum_append_only BEFORE UPDATE ON notes_noteaddendum
    BEGIN SELECT RAISE(ABORT, 'addenda are append-only: UPDATE refused'); END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS notes_sessionnote_signed_immutable",
    "DROP TRIGGER IF EXISTS notes_noteaddendum_append_only",
]


def _run(schema_editor, by_vendor):
    for statement in by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)  # plpgsql uses % itself


def forwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL, "sqlite": SQLITE})


def backwards(apps, schema_editor):
    _run(schema_editor, {"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):
    dependencies = [("notes", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
