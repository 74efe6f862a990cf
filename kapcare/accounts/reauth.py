"""Fresh re-authentication: pages that let data leave the practice (exports) ask the signed-in
person for their password again unless they confirmed it within REAUTH_MINUTES.

A session left open on a shared clinic computer then cannot be used to take a copy of the
records. The confirmation is kept in the session (REAUTH_SESSION_KEY, epoch seconds) and ends
with it. Wrong passwords count towards the same sign-in lock as the sign-in page (django-axes,
one username from one address), so the confirmation page is not a way around it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.time import now
from kapcare.core.views import staff_user

REAUTH_SESSION_KEY = "kapcare_reauth_at"


def _confirmed_at(value: object) -> float | None:
    """The stored confirmation time as epoch seconds (a number, or an ISO date-time string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None
        return moment.timestamp()
    return None


def is_fresh(request: HttpRequest) -> bool:
    """Whether the signed-in user confirmed their password within REAUTH_MINUTES."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    confirmed_at = _confirmed_at(request.session.get(REAUTH_SESSION_KEY))
    if confirmed_at is None:
        return False
    age = now().timestamp() - confirmed_at
    return 0 <= age <= settings.REAUTH_MINUTES * 60


def reauthenticate_url(next_path: str) -> str:
    return f"{reverse('accounts:reauthenticate')}?{urlencode({'next': next_path})}"


def fresh_authentication_required[View: Callable[..., HttpResponseBase]](view: View) -> View:
    """A view decorator: signed-out visitors go to sign in; a signed-in person whose password
    was not confirmed within REAUTH_MINUTES goes to the confirmation page, which brings them
    back here. A POST that is not fresh is redirected too: nothing is exported."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_fresh(request):
            if request.method == "POST":
                messages.info(
                    request,
                    "Nothing was exported. Confirm your password, then start the export again.",
                )
            return HttpResponseRedirect(reauthenticate_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapped  # type: ignore[return-value]


def describe_export[View: Callable[..., HttpResponseBase]](label: str) -> Callable[[View], View]:
    """Name what a view exports, for the confirmation page ("… to download {label}").

    Apply it below fresh_authentication_required (and any other decorator) so the name is
    copied onto the view the URL resolves to."""

    def mark(view: View) -> View:
        view.reauth_purpose = label  # type: ignore[attr-defined]
        return view

    return mark


def purpose_of(next_path: str) -> str:
    """What the page at `next_path` exports, if it says so; "" otherwise."""
    if not next_path:
        return ""
    try:
        match = resolve(urlsplit(next_path).path)
    except Resolver404:
        return ""
    return str(getattr(match.func, "reauth_purpose", ""))


class ReauthenticateForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class Outcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    WRONG = "wrong_password"
    LOCKED = "locked"


def password_confirm(
    *, request: HttpRequest, actor: User, password: str, next_path: str = ""
) -> Outcome:
    """Check the signed-in person's password; on success mark the session fresh.

    Both outcomes are audited (never the password). A wrong password is counted by django-axes
    like a failed sign-in; while that username is locked from this address no password is even
    checked.
    """
    credentials = {"username": actor.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        outcome = Outcome.LOCKED
    elif actor.check_password(password):
        outcome = Outcome.CONFIRMED
    else:
        outcome = Outcome.WRONG
    detail: dict[str, str] = {"for": urlsplit(next_path).path} if next_path else {}
    with transaction.atomic():
        if outcome == Outcome.CONFIRMED:
            audit.record(
                actor=actor,
                action="account.reauthenticate",
                subject_type="staff",
                subject_public_id=actor.public_id,
                detail=detail or None,
            )
        else:
            audit.record(
                actor=actor,
                action="account.reauthenticate_failed",
                subject_type="staff",
                subject_public_id=actor.public_id,
                detail={**detail, "reason": outcome.value},
            )
    if outcome == Outcome.CONFIRMED:
        request.session[REAUTH_SESSION_KEY] = now().timestamp()
        if settings.AXES_RESET_ON_SUCCESS:
            AxesProxyHandler.reset_attempts(
                username=actor.get_username(), ip_address=getattr(request, "axes_ip_address", None)
            )
    elif outcome == Outcome.WRONG:
        AxesProxyHandler.user_login_failed(
            sender=password_confirm, credentials=credentials, request=request
        )
        if getattr(request, "axes_locked_out", False):
            outcome = Outcome.LOCKED
    # This page says itself why it refuses; axes' own lock-out page speaks of signing in.
    request.axes_locked_out = False  # type: ignore[attr-defined]
    return outcome


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@require_http_methods(["GET", "POST"])
def reauthenticate_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    next_path = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    form = ReauthenticateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            outcome = password_confirm(
                request=request,
                actor=user,
                password=form.cleaned_data["password"],
                next_path=next_path,
            )
            if outcome == Outcome.CONFIRMED:
                return HttpResponseRedirect(next_path) if next_path else redirect("home")
            if outcome == Outcome.LOCKED:
                status = 429
                form.add_error(
                    "password",
                    "Too many wrong passwords: confirming your password (and signing in) from "
                    "this address is locked for a while. Wait a few minutes and try again, or "
                    "ask your practice admin to reset your password.",
                )
            else:
                form.add_error("password", "That is not your password. Try again.")
    return render(
        request,
        "accounts/reauthenticate.html",
        {
            "form": form,
            "next": next_path,
            "purpose": purpose_of(next_path),
            "minutes": settings.REAUTH_MINUTES,
        },
        status=status,
    )
