"""Sign-ins, sign-outs and failed attempts go to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from kapcare.core import audit


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with transaction.atomic():
        audit.record(
            actor=user, action="auth.login", subject_type="staff", subject_public_id=user.public_id
        )


@receiver(user_logged_out)
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    with transaction.atomic():
        audit.record(
            actor=user, action="auth.logout", subject_type="staff", subject_public_id=user.public_id
        )


@receiver(user_login_failed)
def audit_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Django has already masked the password; only the username attempted is kept.
    with transaction.atomic():
        audit.record(
            actor=None,
            action="auth.login_failed",
            subject_type="staff",
            detail={"username": str(credentials.get("username", ""))[:150]},
        )
