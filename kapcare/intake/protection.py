"""Keeping automated submissions off the public inquiry form, without third-party services.

- A hidden field people never see (bots fill every field).
- A signed stamp of when the form was shown: a submission quicker than a person could type, or
  with a stamp that was altered or is too old, is dropped.
- A limit on submissions per caller per hour, counted in the database (the cache is per process,
  so it would not hold across web processes). The caller is a keyed hash of their address.

Dropped submissions get the same thank-you page as real ones, so a bot learns nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from kapcare.intake.models import InquiryAttempt
from kapcare.intake.rules import stamp_verdict

STAMP_SALT = "kapcare.intake.form-stamp"
CALLER_SALT = "kapcare.intake.caller"
# The field people never see; its name is one that form-filling bots are glad to fill.
HONEYPOT_FIELD = "homepage"
STAMP_FIELD = "stamp"
# A form left open longer than this is treated as stale.
STAMP_MAX_AGE = dt.timedelta(hours=24)
RATE_WINDOW = dt.timedelta(hours=1)


def issue_stamp(at: dt.datetime) -> str:
    # Whole milliseconds, rounded down, so a stamp is never later than the moment it records.
    return signing.dumps(math.floor(at.timestamp() * 1000), salt=STAMP_SALT)


def stamp_time(stamp: str) -> float | None:
    """When the form carrying this stamp was shown, or None if the stamp is not one of ours."""
    try:
        value = signing.loads(stamp, salt=STAMP_SALT)
    except signing.BadSignature:
        return None
    return value / 1000 if isinstance(value, int) and not isinstance(value, bool) else None


def spam_reason(data: Mapping[str, str], at: dt.datetime) -> str:
    """Why a submission looks automated ("honeypot", "no_stamp", "too_fast", "expired"), or ""."""
    if data.get(HONEYPOT_FIELD, "").strip():
        return "honeypot"
    rendered_at = stamp_time(data.get(STAMP_FIELD, ""))
    if rendered_at is None:
        return "no_stamp"
    verdict = stamp_verdict(
        rendered_at=rendered_at,
        submitted_at=at.timestamp(),
        min_seconds=settings.INQUIRY_MIN_SECONDS,
        max_age=STAMP_MAX_AGE,
    )
    return "" if verdict == "ok" else verdict


def caller_key(address: str | None) -> str:
    """A keyed hash (HMAC with the secret key) of the caller's address: the same address gives
    the same key, and the address cannot be read back from it."""
    return salted_hmac(CALLER_SALT, address or "unknown", algorithm="sha256").hexdigest()


def rate_limited(caller: str, at: dt.datetime) -> bool:
    """Whether this caller has used up their submissions for the past hour (0 turns it off)."""
    limit = settings.INQUIRY_RATE_LIMIT
    if limit <= 0:
        return False
    recent = InquiryAttempt.objects.filter(caller=caller, at__gt=at - RATE_WINDOW)
    return recent.count() >= limit


def note_attempt(caller: str, at: dt.datetime) -> None:
    """Count one submission against the caller, and forget submissions older than the window."""
    InquiryAttempt.objects.filter(at__lte=at - RATE_WINDOW).delete()
    InquiryAttempt.objects.create(caller=caller, at=at)
