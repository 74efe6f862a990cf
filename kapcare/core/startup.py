"""Start-up guard for servers that do not run Django's system checks (gunicorn, granian)."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def refuse_unsafe_start() -> None:
    errors = [
        message
        for message in checks.run_checks(tags=[checks.Tags.security])
        if message.is_serious() and not message.is_silenced()
    ]
    if errors:
        lines = "\n".join(f"  {error.id}: {error.msg} {error.hint or ''}" for error in errors)
        raise ImproperlyConfigured(f"kapcare refuses to start:\n{lines}")
