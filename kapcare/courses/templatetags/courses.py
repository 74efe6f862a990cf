"""Template filters for the course pages."""

from __future__ import annotations

from django import template

from kapcare.courses.selectors import short_instrument_name

register = template.Library()


@register.filter
def instrument_short(code: str) -> str:
    """ "PHQ-9" for "phq9"."""
    return short_instrument_name(code)
