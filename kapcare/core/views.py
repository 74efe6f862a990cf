from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from kapcare.accounts.models import User


def practice_admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages for practice admins only. Others get 404, as for a client outside their team."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_practice_admin):
            raise Http404("Not found.")
        return view(request, *args, **kwargs)

    return wrapped


def staff_user(request: HttpRequest) -> User:
    """The signed-in staff member (LoginRequiredMiddleware guarantees there is one)."""
    user = request.user
    if not isinstance(user, User):
        raise Http404("Not found.")
    return user


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
