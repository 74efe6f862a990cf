"""How the API knows who is calling: the browser's session, or a personal API token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from kapcare.accounts.models import User
from kapcare.accounts.services import api_token_authenticate


class StaffSession(SessionAuth):
    """The signed-in browser session (CSRF checked on writes)."""

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
