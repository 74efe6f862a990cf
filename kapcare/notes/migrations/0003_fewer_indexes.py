"""Foreign keys without an index of their own (see docs/development.md, "Indexes").

On SQLite, Django alters a column by making the table again, which drops its triggers: the
triggers that keep signed notes and addenda from changing are made again afterwards.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TRIGGERS = importlib.import_module("kapcare.notes.migrations.0002_signed_notes_immutable")


def triggers_again(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL alters the table in place and keeps them
    for statement in [*TRIGGERS.SQLITE_REVERSE, *TRIGGERS.SQLITE]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('notes', '0002_signed_notes_immutable'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Undoing this migration makes the tables again too: the triggers come back last.
        migrations.RunPython(migrations.RunPython.noop, triggers_again),
        migrations.AlterField(
            model_name='noteaddendum',
            name='created_by',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='noteaddendum',
            name='updated_by',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='sessionnote',
            name='created_by',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='sessionnote',
            name='updated_by',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(triggers_again, triggers_again),
    ]
