from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from kapcare.core.context import WorkContext, working_as
from kapcare.core.middleware import client_ip
from kapcare.core.time import now

LAST_SEEN_KEY = "kapcare_last_seen"


class IdleTimeoutMiddleware:
    """Signs a person out after SESSION_IDLE_MINUTES without a request (a shared clinic tablet
    must not stay open on a chart)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            current = now().timestamp()
            last_seen = request.session.get(LAST_SEEN_KEY)
            idle_limit = settings.SESSION_IDLE_MINUTES * 60
            if last_seen is not None and current - float(last_seen) > idle_limit:
                # This runs before RequestContextMiddleware and MessageMiddleware (it has to see
                # the user before anything acts for them), so it sets the audit context of its
                # sign-out and stores its notice itself.
                api = request.path.startswith("/api/")
                channel = "api" if api else "web"
                with working_as(WorkContext(channel=channel, ip=client_ip(request))):
                    logout(request)
                if not api:
                    response = redirect_to_login(request.get_full_path())
                    notices = default_storage(request)
                    notices.add(
                        messages.INFO,
                        f"You were signed out after {settings.SESSION_IDLE_MINUTES} minutes "
                        "without activity. Sign in again to continue.",
                    )
                    notices.update(response)
                    return response
            else:
                request.session[LAST_SEEN_KEY] = current
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
