"""Blank forms rendered once per process.

The chart carries several small forms (weight, status, questionnaires to send, a risk
assessment); Django renders every widget through a chain of templates, and these forms were a
third of the chart's rendering time. An unbound form whose fields depend only on its class and
its initial values renders to the same HTML every time, so that HTML is kept (per process, the
most recent few hundred). A bound form (shown again with its errors) is always rendered afresh.

Only for such forms: one whose choices come from the database (a staff list) must be rendered
with `{{ form }}`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()

KEPT_AT_MOST = 256
_kept: OrderedDict[Hashable, SafeString] = OrderedDict()
_lock = threading.Lock()


def form_key(form: forms.BaseForm) -> Hashable:
    """What a blank form's HTML depends on: its class, prefix and initial values."""
    initial = tuple(sorted((name, repr(value)) for name, value in form.initial.items()))
    return (type(form).__module__, type(form).__qualname__, form.prefix, initial)


@register.simple_tag
def blank_form(form: forms.BaseForm) -> SafeString:
    """The form's HTML, as `{{ form }}` renders it."""
    if form.is_bound:
        return form.render()
    key = form_key(form)
    with _lock:
        html = _kept.get(key)
        if html is not None:
            _kept.move_to_end(key)
            return html
    html = form.render()
    with _lock:
        _kept[key] = html
        while len(_kept) > KEPT_AT_MOST:
            _kept.popitem(last=False)
    return html
