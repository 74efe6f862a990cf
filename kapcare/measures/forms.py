from __future__ import annotations

from django import forms

from kapcare.core.time import now
from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.self_report import sendable_instruments

# Up to this many options are shown as radio buttons; wider ranges (score entry) as a number box.
RADIO_LIMIT = 7


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


def answer_form(instrument: Instrument, *, correcting: bool) -> type[forms.Form]:
    """A form with one field per item of `instrument`. Every answer may be left blank: the
    instrument's missing-data rule (applied by the service) decides what a blank means."""
    fields: dict[str, forms.Field] = {}
    for item in instrument.items:
        label = item.text if instrument.text_allowed and item.text else item.label
        values = sorted(item.values)
        if len(item.options) <= RADIO_LIMIT:
            fields[item.id] = forms.TypedChoiceField(
                label=label,
                choices=[(option.value, option.label) for option in item.options],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        else:
            fields[item.id] = forms.IntegerField(
                label=label, min_value=values[0], max_value=values[-1], required=False
            )
    fields["completed_at"] = forms.DateTimeField(
        label="Completed at", widget=DateTimeInput(), initial=now
    )
    if correcting:
        fields["correction_reason"] = forms.CharField(
            label="Why is this form corrected?", max_length=300
        )
    return type(f"{instrument.code.title()}Form", (forms.Form,), fields)


class SendLinkForm(forms.Form):
    instruments = forms.MultipleChoiceField(
        label="Questionnaires", widget=forms.CheckboxSelectMultiple, choices=()
    )
    channel = forms.ChoiceField(
        label="Send by", choices=(("email", "E-mail"), ("sms", "Text message"))
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["instruments"].choices = [  # type: ignore[attr-defined]
            (code, INSTRUMENTS[code].name) for code in sendable_instruments()
        ]
