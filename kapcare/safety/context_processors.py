from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kapcare.accounts.models import User
from kapcare.safety.selectors import open_flags_for


def safety_banner(request: HttpRequest) -> dict[str, Any]:
    """Open safety flags of the person's clients, shown at the top of every page."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_active:
        return {}
    return {"open_safety_flags": open_flags_for(user)}
