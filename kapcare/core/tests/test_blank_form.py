"""Blank forms are rendered once per process and shown exactly as `{{ form }}` shows them;
forms with errors are always rendered afresh."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms

from kapcare.core.templatetags import blank_form as tag


class Weight(forms.Form):
    measured_on = forms.DateField()
    unit = forms.ChoiceField(choices=[("kg", "kg"), ("lb", "lb")], initial="kg")


@pytest.fixture(autouse=True)
def empty() -> None:
    tag._kept.clear()


def test_a_blank_form_is_shown_as_django_renders_it_and_kept() -> None:
    form = Weight(initial={"measured_on": dt.date(2026, 11, 22)})
    html = tag.blank_form(form)
    assert html == str(Weight(initial={"measured_on": dt.date(2026, 11, 22)}))
    assert 'value="2026-11-22"' in html
    assert len(tag._kept) == 1
    # The same blank form again: the kept HTML, not a new rendering.
    assert tag.blank_form(Weight(initial={"measured_on": dt.date(2026, 11, 22)})) is html


def test_other_initial_values_or_prefixes_render_their_own_html() -> None:
    first = tag.blank_form(Weight(initial={"measured_on": dt.date(2026, 11, 22)}))
    second = tag.blank_form(Weight(initial={"measured_on": dt.date(2026, 11, 23)}))
    prefixed = tag.blank_form(Weight(prefix="w", initial={"measured_on": dt.date(2026, 11, 22)}))
    assert 'value="2026-11-23"' in second
    assert second != first
    assert 'name="w-measured_on"' in prefixed
    assert len(tag._kept) == 3


def test_a_bound_form_with_errors_is_rendered_afresh_and_not_kept() -> None:
    tag.blank_form(Weight())
    bound = Weight({"measured_on": "not a date", "unit": "stone"})
    html = tag.blank_form(bound)
    assert "Enter a valid date." in html
    assert "Select a valid choice." in html
    assert len(tag._kept) == 1


def test_at_most_so_many_forms_are_kept_the_oldest_go_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tag, "KEPT_AT_MOST", 2)
    days = [dt.date(2026, 1, day) for day in (1, 2, 3)]
    tag.blank_form(Weight(initial={"measured_on": days[0]}))
    tag.blank_form(Weight(initial={"measured_on": days[1]}))
    tag.blank_form(Weight(initial={"measured_on": days[0]}))  # used again: now the newest
    tag.blank_form(Weight(initial={"measured_on": days[2]}))
    kept = {tag.form_key(Weight(initial={"measured_on": day})) for day in days}
    assert set(tag._kept) == kept - {tag.form_key(Weight(initial={"measured_on": days[1]}))}
