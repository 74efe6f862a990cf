"""Who may work on inquiries: the front desk and practice admins. Anyone else is told the pages
do not exist (404), as for a client outside their care team."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from kapcare.accounts.models import User


def can_work_on_inquiries(user: object) -> bool:
    return (
        isinstance(user, User) and user.is_active and (user.is_front_desk or user.is_practice_admin)
    )


def intake_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_work_on_inquiries(request.user):
            raise Http404("Not found.")
        return view(request, *args, **kwargs)

    return wrapped
