"""Replaces Django's `changepassword`, which would bypass staff roles and the audit log."""

from kapcare.accounts.management.refused import refused_command

Command = refused_command("changepassword")
