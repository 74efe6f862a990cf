"""Field rules for client records; each message names the rule it enforces."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError

from kapcare.core.time import practice_today

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
_PHONE = re.compile(r"^\+?[0-9 ().\-]{7,25}$")


def validate_birth_date(value: dt.date) -> None:
    if value > practice_today():
        raise ValidationError("A date of birth cannot be in the future.", code="future_date")
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError("A date of birth cannot be before 1900-01-01.", code="too_early")


def validate_not_future(value: dt.date) -> None:
    if value > practice_today():
        raise ValidationError("This date cannot be in the future.", code="future_date")


def validate_phone(value: str) -> None:
    digits = sum(ch.isdigit() for ch in value)
    if value and (not _PHONE.match(value) or not 7 <= digits <= 15):
        raise ValidationError(
            "Enter a phone number of 7 to 15 digits; spaces, dashes, dots, brackets and a "
            "leading + are allowed.",
            code="invalid_phone",
        )
