from __future__ import annotations

import decimal
from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator, fields_for_model

from kapcare.accounts.models import User, display_name
from kapcare.clients.models import CareTeamRole, Client, ClientStatus
from kapcare.clients.selectors import assignable_staff
from kapcare.clients.services import CLIENT_FIELDS
from kapcare.core.widgets import FastSelect


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)  # type: ignore[arg-type]


class StaffChoices(ModelChoiceIterator):
    """The staff list's options read as plain values, not as one User object each (a network of
    clinics has well over a thousand staff); the labels are `User.display_name`'s."""

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = self.queryset.values_list(
            "public_id", "first_name", "last_name", "username", "professional_title"
        )
        for public_id, first, last, username, title in rows:
            yield (public_id, display_name(first, last, username, title))


class StaffChoiceField(forms.ModelChoiceField):
    """Staff picked by public id, labelled with name and title. Built without one template per
    option: a network of clinics has well over a thousand staff in these lists."""

    widget = FastSelect
    iterator = StaffChoices  # labels each option itself (no label_from_instance per User)

    def __init__(self, queryset: object, **kwargs: object) -> None:
        super().__init__(queryset, to_field_name="public_id", **kwargs)  # type: ignore[arg-type]


class ClientForm(forms.Form):
    """The client's own fields, built from the model. A plain form on purpose: the service's
    full_clean is the one place every rule is checked (for pages, API and CLI alike), and the
    page shows those errors on the fields they name."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        model_fields = fields_for_model(
            Client,
            fields=CLIENT_FIELDS,
            widgets={
                "date_of_birth": DateInput(),
                "address": forms.Textarea(attrs={"rows": 3}),
                "access_needs": forms.Textarea(attrs={"rows": 3}),
            },
        )
        for name, field in model_fields.items():
            # The model's own rules (date of birth not in the future, phone shape) run on the
            # form too, so every problem shows on the first submit. The service checks again.
            field.validators = [
                *field.validators,
                *getattr(Client._meta.get_field(name), "_validators", []),
            ]
        self.fields = {**model_fields, **self.fields}

    @classmethod
    def initial_from(cls, client: Client) -> dict[str, object]:
        return {name: getattr(client, name) for name in CLIENT_FIELDS}


class ClientCreateForm(ClientForm):
    primary_therapist = StaffChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Not assigned yet"
    )
    prescriber = StaffChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Not assigned yet"
    )
    acknowledge_duplicate = forms.BooleanField(
        label="This is a different person from the existing record",
        required=False,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["primary_therapist"].queryset = assignable_staff("is_therapist")  # type: ignore[attr-defined]
        self.fields["prescriber"].queryset = assignable_staff("is_prescriber")  # type: ignore[attr-defined]


class ClientSearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Name, or date of birth as YYYY-MM-DD or MM/DD/YYYY",
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *ClientStatus.choices], required=False)
    clinician = StaffChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Any clinician"
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Anyone can hold a place on a care team (front desk as coordinator), so anyone can be
        # filtered by; clinicians come first in the list.
        self.fields["clinician"].queryset = User.objects.filter(is_active=True).order_by(  # type: ignore[attr-defined]
            "-is_therapist", "-is_prescriber", "-is_nurse", "last_name", "first_name"
        )


class CareTeamAddForm(forms.Form):
    staff = StaffChoiceField(queryset=User.objects.none(), label="Staff member")
    role = forms.ChoiceField(choices=CareTeamRole.choices, label="Place on the team")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["staff"].queryset = User.objects.filter(is_active=True)  # type: ignore[attr-defined]


KG_PER_LB = decimal.Decimal("0.45359237")


class WeightForm(forms.Form):
    measured_on = forms.DateField(label="Date", widget=DateInput())
    weight = forms.DecimalField(max_digits=6, decimal_places=1, min_value=0)
    unit = forms.ChoiceField(choices=[("kg", "kg"), ("lb", "lb")], initial="kg")
    note = forms.CharField(max_length=200, required=False)

    def weight_kg(self) -> decimal.Decimal:
        weight: decimal.Decimal = self.cleaned_data["weight"]
        if self.cleaned_data["unit"] == "lb":
            weight = weight * KG_PER_LB
        return weight.quantize(decimal.Decimal("0.1"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=ClientStatus.choices, label="New status")
    reason = forms.CharField(max_length=300, required=False, help_text="Required when discharging.")
