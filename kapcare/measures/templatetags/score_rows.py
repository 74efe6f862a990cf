"""The chart's score tables, row by row in Python: a client with years of questionnaires has
hundreds of rows, and a template loop with a link, a date and several conditions per row was
most of the chart's rendering time. Every value is escaped here (html.escape) and the rows are
marked safe once."""

from __future__ import annotations

import uuid
from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from kapcare.clients.models import Client
from kapcare.measures.selectors import HistoryRow, InstrumentHistory

register = template.Library()

_PLACEHOLDER = uuid.UUID(int=0)
NONE = "—"
# The status badge: remission shows alone, else response.
REMISSION = '<span class="badge status-active">remission</span>'
RESPONSE = '<span class="badge status-maintenance">response</span>'


@register.simple_tag
def score_rows(history: InstrumentHistory, client: Client) -> SafeString:
    """The <tr>s of one instrument's table, newest first (the table's columns: date with the
    link to the form, total, band, change from baseline, change from previous, status)."""
    # One reverse() for the table; each row's link differs only in the form's id.
    link = reverse("measures:administration", args=[client.public_id, _PLACEHOLDER])
    head, tail = (escape(part) for part in link.split(str(_PLACEHOLDER)))
    rows = "".join(_row(row, history, head, tail) for row in history.rows)
    return mark_safe(rows)  # noqa: S308 - every value is escaped in _row


def _row(row: HistoryRow, history: InstrumentHistory, head: str, tail: str) -> str:
    administration = row.administration
    total = administration.total
    if row.from_baseline is not None:
        baseline = f"{row.from_baseline.absolute:+d}"
        if row.from_baseline.percent is not None:
            baseline += f" ({row.from_baseline.percent}%)"
    elif administration == history.baseline:
        baseline = "baseline"
    else:
        baseline = NONE
    previous = f"{row.from_previous.absolute:+d}" if row.from_previous is not None else NONE
    status = REMISSION if row.remission else RESPONSE if row.response else ""
    status += "".join(
        f' <span class="badge flag">{escape(label)}</span>' for label in row.flag_labels
    )
    day = localtime(administration.completed_at).strftime("%Y-%m-%d")
    shown = NONE if total is None else str(total)
    star = "*" if administration.prorated else ""
    band = escape(administration.band or NONE)
    return (
        f'<tr><td><a href="{head}{administration.public_id}{tail}">{day}</a></td>'
        f"<td>{shown}{star}</td><td>{band}</td><td>{baseline}</td><td>{previous}</td>"
        f"<td>{status}</td></tr>"
    )
