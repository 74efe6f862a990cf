from __future__ import annotations

from django import forms


class SignOffForm(forms.Form):
    value = forms.CharField(max_length=40)
    source = forms.CharField(
        max_length=500,
        help_text="The label, guideline, protocol or practice policy this value comes from.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args: object, choices: tuple[tuple[str, str], ...] = (), **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if choices:
            self.fields["value"] = forms.ChoiceField(choices=choices)
