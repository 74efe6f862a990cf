"""A signed-in browser for view and API tests."""

from __future__ import annotations

from django.test import Client as HttpClient

from kapcare.accounts.models import User


def signed_in(user: User, address: str = "127.0.0.1") -> HttpClient:
    """A test client signed in as `user`, calling from `address`."""
    http = HttpClient(REMOTE_ADDR=address)
    http.force_login(user)
    return http
