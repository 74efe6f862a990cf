"""Background work for accounts, run by the worker (`kapcare worker`)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.tasks import task

from kapcare.accounts.models import ApiToken


@task()
def notify_new_api_token(token_public_id: str) -> bool:
    """Tell a staff member that a token was issued in their name: a new credential is news to
    its owner, and the only defence if someone else created it from a left-open session."""
    token = ApiToken.objects.select_related("user").filter(public_id=token_public_id).first()
    if token is None or not token.user.email:
        return False
    send_mail(
        subject="A new kapcare API token was created for your account",
        message=(
            f"Hello {token.user.get_full_name() or token.user.username},\n\n"
            f'An API token named "{token.name}" (starting {token.prefix}) was created for your '
            "account. If this was not you, revoke it on your API tokens page and tell your "
            "practice admin.\n"
        ),
        from_email=None,
        recipient_list=[token.user.email],
    )
    return True
