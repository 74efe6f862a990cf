from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.forms.models import fields_for_model

from kapcare.accounts.models import User
from kapcare.clients.forms import DateInput, StaffChoiceField
from kapcare.clients.models import Client
from kapcare.clients.selectors import assignable_staff
from kapcare.core.time import practice_zone
from kapcare.intake import rules
from kapcare.intake.models import (
    MESSAGE_LIMIT,
    NOTE_LIMIT,
    CloseReason,
    ConsultationOutcome,
    HeardFrom,
    Inquiry,
)
from kapcare.intake.services import INQUIRY_FIELDS


def _with_model_validators(fields: dict[str, Any], model: type[Any]) -> dict[str, Any]:
    """Run the model's own field rules (date of birth, phone shape, lengths) on the form too, so
    every problem shows on the first submit; the service checks again."""
    for name, field in fields.items():
        field.validators = [
            *field.validators,
            *getattr(model._meta.get_field(name), "_validators", []),
        ]
    return fields


class InquiryForm(forms.Form):
    """The public inquiry form. Works without JavaScript; the browser's own checks help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = _with_model_validators(
            fields_for_model(
                Inquiry,
                fields=INQUIRY_FIELDS,
                labels={
                    "given_name": "Given (first) name",
                    "family_name": "Family (last) name",
                    "preferred_name": "Name you would like us to use (optional)",
                    "email": "Email",
                    "phone": "Phone",
                    "preferred_channel": "How should we contact you?",
                    "date_of_birth": "Date of birth (optional)",
                    "message": "What brings you to us?",
                    "heard_from": "How did you hear of us? (optional)",
                },
                help_texts={
                    "phone": "Give an email address, a phone number, or both.",
                    "message": (
                        f"A few sentences are enough (up to {MESSAGE_LIMIT} characters). "
                        "You can tell us more at your consultation."
                    ),
                },
                widgets={
                    "given_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
                    "family_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
                    "preferred_name": forms.TextInput(attrs={"autocomplete": "nickname"}),
                    "email": forms.EmailInput(attrs={"autocomplete": "email"}),
                    "phone": forms.TextInput(
                        attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}
                    ),
                    "preferred_channel": forms.RadioSelect(),
                    "date_of_birth": DateInput(attrs={"autocomplete": "bday"}),
                    "message": forms.Textarea(attrs={"rows": 5, "maxlength": MESSAGE_LIMIT}),
                },
            ),
            Inquiry,
        )
        heard_from = fields["heard_from"]
        heard_from.choices = [("", "Prefer not to say"), *HeardFrom.choices]
        self.fields = {**fields, **self.fields}
        self.fields["consent"].label = (
            f"I agree that {settings.PRACTICE_NAME} may contact me about my inquiry, by the "
            "method I chose."
        )

    consent = forms.BooleanField(
        error_messages={
            "required": "Tick the box to agree to be contacted, so the practice can reply to you."
        }
    )
    # Never shown to people (kapcare.css hides it); named by kapcare.intake.protection.
    homepage = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    stamp = forms.CharField(required=False, widget=forms.HiddenInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        problems = rules.contact_problems(
            email=data.get("email", "") or "",
            phone=data.get("phone", "") or "",
            channel=data.get("preferred_channel", "") or "",
        )
        for name, (message, code) in problems.items():
            if name not in self.errors:
                self.add_error(name, forms.ValidationError(message, code=code))
        return data

    def inquiry_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in INQUIRY_FIELDS}


def consultation_clinicians() -> QuerySet[User]:
    return User.objects.filter(Q(is_therapist=True) | Q(is_prescriber=True), is_active=True)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


def _note(label: str = "Note", required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=NOTE_LIMIT,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ContactForm(forms.Form):
    note = _note(label="How it went")


class BookForm(forms.Form):
    consultation_date = forms.DateField(label="Date", widget=DateInput())
    consultation_time = forms.TimeField(
        label="Time", widget=TimeInput(), help_text="In the practice's time zone."
    )
    clinician = StaffChoiceField(queryset=User.objects.none(), label="With")
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clinician"].queryset = consultation_clinicians()  # type: ignore[attr-defined]

    def starts_at(self) -> dt.datetime:
        """The date and time as entered, read in the practice's time zone."""
        return dt.datetime.combine(
            self.cleaned_data["consultation_date"],
            self.cleaned_data["consultation_time"],
            tzinfo=practice_zone(),
        )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(choices=ConsultationOutcome.choices)
    note = _note()


class CloseForm(forms.Form):
    reason = forms.ChoiceField(choices=CloseReason.choices)
    note = _note(label="Note (required for Other)")


CONVERT_FIELDS = [
    "legal_given_names",
    "legal_family_name",
    "preferred_name",
    "date_of_birth",
    "sex_at_birth",
    "email",
    "phone",
    "preferred_channel",
]


class ConvertForm(forms.Form):
    """What the client record needs beyond the inquiry: confirmed legal names, date of birth and
    sex assigned at birth, and who joins the care team."""

    primary_therapist = StaffChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Not assigned yet"
    )
    prescriber = StaffChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Not assigned yet"
    )
    acknowledge_duplicate = forms.BooleanField(
        label="This is a different person from the existing record", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = _with_model_validators(
            fields_for_model(Client, fields=CONVERT_FIELDS, widgets={"date_of_birth": DateInput()}),
            Client,
        )
        self.fields = {**fields, **self.fields}
        self.fields["primary_therapist"].queryset = assignable_staff("is_therapist")  # type: ignore[attr-defined]
        self.fields["prescriber"].queryset = assignable_staff("is_prescriber")  # type: ignore[attr-defined]

    @classmethod
    def initial_from(cls, inquiry: Inquiry, fields: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = dict(fields)
        clinician = inquiry.consultation_with
        if clinician is not None and clinician.is_active:
            if clinician.is_therapist:
                initial["primary_therapist"] = clinician.public_id
            elif clinician.is_prescriber:
                initial["prescriber"] = clinician.public_id
        return initial

    def client_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CONVERT_FIELDS}
