"""A signed-in browser for view and API tests."""

from __future__ import annotations

from django.test import Client as HttpClient

from kapcare.accounts.models import User
from kapcare.accounts.reauth import REAUTH_SESSION_KEY
from kapcare.core.time import now


def signed_in(user: User, address: str = "127.0.0.1") -> HttpClient:
    """A test client signed in as `user`, calling from `address`."""
    http = HttpClient(REMOTE_ADDR=address)
    http.force_login(user)
    return http


def reauthenticated(http: HttpClient) -> HttpClient:
    """The signed-in test client `http`, marked as having just confirmed its password, so pages
    behind `fresh_authentication_required` open without the confirmation page."""
    session = http.session
    session[REAUTH_SESSION_KEY] = now().timestamp()
    session.save()
    return http
