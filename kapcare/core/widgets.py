"""Form widgets where Django's defaults are too slow for a busy page."""

from __future__ import annotations

from html import escape
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class FastSelect(forms.Select):
    """A plain <select> whose options are built in Python, not one template per option.

    The screening page shows the medication catalogue (about 80 drugs) in three forms; rendering
    each option through a template took about 100 ms of the page's time, and the staff lists of a
    network of clinics hold well over a thousand people."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = {str(v) for v in self.format_value(value)}
        options = []
        for choice, label in self.choices:
            key = str(choice)
            mark = " selected" if key in selected else ""
            options.append(f'<option value="{escape(key)}"{mark}>{escape(str(label))}</option>')
        body = mark_safe("".join(options))  # noqa: S308 - every value and label is escaped above
        return format_html("<select{}>{}</select>", flatatt(final_attrs), body)
