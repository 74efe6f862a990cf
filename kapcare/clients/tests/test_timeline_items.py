"""The chart's timeline items (built in Python for speed) show what the template loop showed:
when (a date alone for date-only entries, in the practice's time zone), what, and by whom, every
value escaped."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template
from django.utils import timezone

from kapcare.clients.selectors import TimelineEntry
from kapcare.clients.templatetags.timeline_items import timeline_items

# The loop the tag replaced, kept here as the reference rendering.
LOOP = Template(
    "{% for entry in timeline %}"
    '<li><span class="muted small">{% if entry.date_only %}{{ entry.at|date:"Y-m-d" }}'
    '{% else %}{{ entry.at|date:"Y-m-d H:i" }}{% endif %}</span><span>{{ entry.text }}'
    '{% if entry.by %} <span class="muted small">· {{ entry.by }}</span>{% endif %}</span></li>'
    "{% empty %}<li>Nothing yet.</li>{% endfor %}"
)

ENTRIES = [
    # Late evening UTC is the next morning in Auckland and the same day in New York.
    TimelineEntry(dt.datetime(2026, 3, 8, 23, 30, tzinfo=dt.UTC), "dosing", "Dose 56 mg", "Dr Ng"),
    TimelineEntry(
        dt.datetime(2026, 3, 1, 4, 59, tzinfo=dt.UTC), "weight", "Weight 70.5 kg", "", True
    ),
    TimelineEntry(
        dt.datetime(2026, 2, 1, 9, 5, tzinfo=dt.UTC),
        "status",
        'Status: Discharged (<script>alert("x")</script> & more)',
        "O'Brien <b>",
    ),
]


def test_items_match_the_template_loop_in_several_zones() -> None:
    for zone in ("America/New_York", "Pacific/Auckland", "UTC"):
        with timezone.override(zone):
            expected = LOOP.render(Context({"timeline": ENTRIES}))
            assert str(timeline_items(ENTRIES)) == expected


def test_values_are_escaped_and_dates_local() -> None:
    with timezone.override("Pacific/Auckland"):
        html = str(timeline_items(ENTRIES))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    assert "· O&#x27;Brien &lt;b&gt;</span>" in html
    assert "2026-03-09 12:30" in html  # 23:30 UTC is 12:30 the next day in Auckland (NZDT)
    assert '<span class="muted small">2026-03-01</span>' in html  # date only, no time


def test_no_entries_says_so() -> None:
    assert str(timeline_items([])) == LOOP.render(Context({"timeline": []}))
    assert str(timeline_items([])) == "<li>Nothing yet.</li>"
