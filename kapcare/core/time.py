"""One place to read the clock, so rules can be handed `now` and tests can fix it."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def practice_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def practice_today() -> dt.date:
    return timezone.localdate(now(), practice_zone())
