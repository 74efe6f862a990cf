from __future__ import annotations

from django import forms

from kapcare.core.widgets import FastSelect


class Choice(forms.Form):
    pick = forms.ChoiceField(
        choices=[("", "---"), ("a", "Alpha & <b>"), ("b", 'Beta "quoted"')],
        widget=FastSelect,
        required=False,
    )


def test_renders_like_a_select_escaped_with_the_value_selected() -> None:
    html = str(Choice({"pick": "b"})["pick"])
    assert html.startswith('<select id="id_pick" name="pick">')
    assert '<option value="a">Alpha &amp; &lt;b&gt;</option>' in html
    assert '<option value="b" selected>Beta &quot;quoted&quot;</option>' in html
    assert html.count(" selected") == 1
    assert html.endswith("</select>")


def test_the_empty_choice_is_selected_when_there_is_no_value() -> None:
    html = str(Choice()["pick"])
    assert '<option value="" selected>---</option>' in html
    assert html.count(" selected") == 1
