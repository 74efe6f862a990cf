from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def practice(request: HttpRequest) -> dict[str, Any]:
    return {
        "practice_name": settings.PRACTICE_NAME,
        "self_report_hours": settings.SELF_REPORT_LINK_HOURS,
        "madrs_remission_at": settings.MADRS_REMISSION_AT,
    }
