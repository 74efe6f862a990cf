"""Sign-ins, sign-outs and failed attempts go to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from kapcare.accounts.middleware import LAST_SEEN_KEY, SIGNED_IN_KEY
from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.time import now


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        # The absolute session limit and the idle clock count from here (IdleTimeoutMiddleware).
        signed_in_at = now().timestamp()
        request.session[SIGNED_IN_KEY] = signed_in_at
        request.session[LAST_SEEN_KEY] = signed_in_at
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
    # Django has already masked the password; only the username attempted is kept. When it names
    # an account, the attempt is filed under that account so its audit page shows it.
    username = str(credentials.get("username", ""))[:150]
    account = User.objects.filter(username=username).only("public_id").first()
    with transaction.atomic():
        audit.record(
            actor=None,
            action="auth.login_failed",
            subject_type="staff",
            subject_public_id=account.public_id if account is not None else None,
            detail={"username": username},
        )
