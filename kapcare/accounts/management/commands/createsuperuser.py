"""Replaces Django's `createsuperuser`, which would bypass staff roles and the audit log."""

from kapcare.accounts.management.refused import refused_command

Command = refused_command("createsuperuser")
