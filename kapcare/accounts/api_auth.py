"""How the API knows who is calling: the browser's session, or a personal API token."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from kapcare.accounts.models import User
from kapcare.accounts.services import api_token_authenticate


class StaffSession(SessionAuth):
    """The signed-in browser session (CSRF checked on writes).

    Only a signed-in request is checked: a script sending a token has no session, and must reach
    the token authenticators below rather than fail the CSRF check (which ends authentication).
    """

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if not (isinstance(user, User) and user.is_active):
            return None
        try:
            return super().__call__(request)
        except HttpError:
            raise PermissionDenied(
                "CSRF check failed: a signed-in browser sends its CSRF token (X-CSRFToken) "
                "with every write."
            ) from None

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if isinstance(user, User) and user.is_active:
            return user
        return None


class ApiTokenBearer(HttpBearer):
    """Authorization: Bearer kc_…"""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ApiTokenHeader(APIKeyHeader):
    """X-API-Key: kc_… (for tools that cannot send a bearer token)."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if not key:
            return None
        user = api_token_authenticate(key)
        if user is not None:
            request.user = user
        return user


def api_caller(request: HttpRequest) -> User:
    """The staff member an authenticated API request acts for."""
    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise AuthenticationError()
    return user
