from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kapcare.core.context import WorkContext, working_as


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or the proxy's X-Forwarded-For when one is configured."""
    proxy_count = settings.PROXY_COUNT
    if proxy_count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxy_count:
            return hops[-proxy_count]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Sets the work context (channel, caller address, request id) for the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with working_as(WorkContext(channel=channel, ip=client_ip(request))):
            return self.get_response(request)
