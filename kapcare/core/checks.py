"""System checks for dangerous configuration (habit 7). `kapcare serve` runs them first."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured


def secret_key_problem() -> str | None:
    """Why the configured secret key is unfit for production, or None when it is fine."""
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to hand out an empty key at all
        return "KAPCARE_SECRET_KEY is not set"
    if not key or key == settings.PLACEHOLDER_SECRET_KEY:
        return "KAPCARE_SECRET_KEY is not set"
    if len(key) < 50 or len(set(key)) < 5:
        return "KAPCARE_SECRET_KEY is too short or too simple (use at least 50 random characters)"
    if "insecure" in key or "placeholder" in key or "not-for-production" in key:
        return "KAPCARE_SECRET_KEY is a placeholder"
    return None


@register("security", deploy=False)
def check_secret_key(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.DEBUG:
        return []
    problem = secret_key_problem()
    if problem is None:
        return []
    return [
        Error(
            f"{problem}; kapcare will not start without a real secret.",
            hint=(
                'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))" '
                "and set it in the environment as KAPCARE_SECRET_KEY."
            ),
            id="kapcare.E001",
        )
    ]


@register("security", deploy=False)
def check_debug_over_network(app_configs: Any, **kwargs: Any) -> list[Error]:
    local = {"127.0.0.1", "localhost", "::1"}
    if settings.DEBUG and any(host not in local for host in settings.ALLOWED_HOSTS):
        return [
            Error(
                "KAPCARE_DEBUG is on while KAPCARE_ALLOWED_HOSTS accepts non-local hosts: debug "
                "pages would show clinical data to anyone who triggers an error.",
                hint="Turn KAPCARE_DEBUG off, or serve only on 127.0.0.1.",
                id="kapcare.E002",
            )
        ]
    return []


@register("security", deploy=False)
def check_plain_http(app_configs: Any, **kwargs: Any) -> list[Warning]:
    local = {"127.0.0.1", "localhost", "::1"}
    if not settings.HTTPS and any(host not in local for host in settings.ALLOWED_HOSTS):
        return [
            Warning(
                "KAPCARE_HTTPS is off for a non-local host: session cookies would travel "
                "unencrypted.",
                hint="Terminate TLS at the reverse proxy and leave KAPCARE_HTTPS on (the default).",
                id="kapcare.W001",
            )
        ]
    return []


@register(deploy=False)
def check_time_zone(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if not settings.DEBUG and settings.TIME_ZONE == "UTC":
        return [
            Warning(
                "KAPCARE_TIME_ZONE is not set: appointments and vitals are shown in UTC.",
                hint="Set KAPCARE_TIME_ZONE to the practice's zone, e.g. America/New_York.",
                id="kapcare.W002",
            )
        ]
    return []
