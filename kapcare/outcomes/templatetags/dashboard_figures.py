"""Formatting of dashboard figures: rates as percents, intervals, and counts of a whole."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(rate: float | None) -> str:
    """0.4213 → "42.1%"; None (nothing to divide by) → "—"."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


@register.filter
def interval(bounds: tuple[float, float] | None) -> str:
    """A 95% interval as percents: "35.1–49.3%"; "—" without one."""
    if bounds is None:
        return "—"
    low, high = bounds
    return f"{low * 100:.1f}–{high * 100:.1f}%"


@register.filter
def one_decimal(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
