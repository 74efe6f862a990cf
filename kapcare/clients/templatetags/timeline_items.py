"""The chart's timeline, item by item in Python: a client with years of sessions has hundreds
of entries, and a template loop with two date formats and a condition per entry was a large
part of the chart's rendering time. Every value is escaped here (html.escape) and the items are
marked safe once."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from kapcare.clients.selectors import TimelineEntry

register = template.Library()

NOTHING = "<li>Nothing yet.</li>"


@register.simple_tag
def timeline_items(entries: Sequence[TimelineEntry]) -> SafeString:
    """The <li>s of the timeline in the order given: when (a date alone for date-only entries,
    in the current time zone), what, and by whom."""
    if not entries:
        return mark_safe(NOTHING)  # noqa: S308 - a constant
    return mark_safe("".join(_item(entry) for entry in entries))  # noqa: S308 - escaped in _item


def _item(entry: TimelineEntry) -> str:
    when = localtime(entry.at).strftime("%Y-%m-%d" if entry.date_only else "%Y-%m-%d %H:%M")
    by = f' <span class="muted small">· {escape(entry.by)}</span>' if entry.by else ""
    return f'<li><span class="muted small">{when}</span><span>{escape(entry.text)}{by}</span></li>'
