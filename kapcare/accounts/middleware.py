from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from kapcare.core.time import now

LAST_SEEN_KEY = "kapcare_last_seen"
SIGNED_IN_KEY = "kapcare_signed_in_at"
# The idle clock is kept to the minute: marking every request would write the session row on
# every page. A mark up to a minute old can only end a session that much sooner, never later.
LAST_SEEN_STEP_SECONDS = 60


def session_end_reason(*, signed_in_at: float, last_seen: float | None, current: float) -> str:
    """Why a session must end now, or "" when it may go on.

    Idle: a shared clinic tablet must not stay open on a chart. Absolute: even a busy session
    ends after SESSION_MAX_HOURS, so a stolen cookie does not live for ever.
    """
    if last_seen is not None and current - last_seen > settings.SESSION_IDLE_MINUTES * 60:
        return f"after {settings.SESSION_IDLE_MINUTES} minutes without activity"
    if current - signed_in_at > settings.SESSION_MAX_HOURS * 3600:
        return f"after {settings.SESSION_MAX_HOURS} hours signed in"
    return ""


class IdleTimeoutMiddleware:
    """Signs a person out when their session has been idle too long or open too long.

    Sits after RequestContextMiddleware (so the sign-out is audited with the caller's address)
    and MessageMiddleware (so the sign-in page can say why).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            current = now().timestamp()
            session = request.session
            signed_in_at = float(session.setdefault(SIGNED_IN_KEY, current))
            last_seen = session.get(LAST_SEEN_KEY)
            reason = session_end_reason(
                signed_in_at=signed_in_at,
                last_seen=None if last_seen is None else float(last_seen),
                current=current,
            )
            if reason:
                logout(request)
                if not request.path.startswith("/api/"):
                    messages.info(
                        request, f"You were signed out {reason}. Sign in again to continue."
                    )
                    return redirect_to_login(request.get_full_path())
            elif last_seen is None or current - float(last_seen) >= LAST_SEEN_STEP_SECONDS:
                session[LAST_SEEN_KEY] = current
        return self.get_response(request)


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a signed-in user; the API answers 401 itself (JSON, not a redirect)."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
