"""Stock forms. They check the shape of the input only; the services hold every rule (the API
shares them) and the pages show their errors on the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from kapcare.accounts.models import User
from kapcare.clients.forms import DateInput, StaffChoiceField
from kapcare.core.forms import add_service_errors
from kapcare.measures.forms import DateTimeInput
from kapcare.stock import selectors
from kapcare.stock.models import Drug, Kind, Location, Lot

# The kinds a page records by hand (an administration comes from its dose record, a transfer
# has its own form).
FORM_KINDS = (Kind.RECEIVED, Kind.WASTED, Kind.RETURNED, Kind.ADJUSTED)
ADD, REMOVE = "add", "remove"


class LotChoiceField(forms.ModelChoiceField[Lot]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Lot.objects.all(), to_field_name="public_id", **kwargs)

    def label_from_instance(self, obj: Lot) -> str:
        return f"{obj} · {obj.product}, {obj.form} · expires {obj.expires_on:%Y-%m-%d}"


class LocationChoiceField(forms.ModelChoiceField[Location]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Location.objects.filter(active=True), to_field_name="public_id", **kwargs)


def witnesses(user: User) -> Any:
    """Who may witness a waste for `user`: the other active prescribers and nurses."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_prescriber=True) | Q(is_nurse=True))
        .exclude(pk=user.pk)
    )


class MovementForm(forms.Form):
    lot = LotChoiceField()
    location = LocationChoiceField()
    direction = forms.ChoiceField(
        label="Adjustment",
        choices=((ADD, "Add to the stock"), (REMOVE, "Take off the stock")),
        widget=forms.RadioSelect,
    )
    quantity_mg = forms.DecimalField(
        label="Quantity (mg)", max_digits=10, decimal_places=2, help_text="In mg of the drug."
    )
    moved_at = forms.DateTimeField(
        label="When", required=False, widget=DateTimeInput(), help_text="Leave empty for now."
    )
    witness = StaffChoiceField(User.objects.none(), required=False)
    reason = forms.CharField(
        max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, kind: str, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind != Kind.ADJUSTED:
            del self.fields["direction"]
        witness = self.fields["witness"]
        witness.queryset = witnesses(user)  # type: ignore[attr-defined]
        if kind == Kind.WASTED:
            witness.label = "Witness"
            witness.help_text = "The prescriber or nurse who saw the stock destroyed."
        else:
            witness.label = "Witness (if any)"
        reason = self.fields["reason"]
        if kind == Kind.ADJUSTED:
            reason.help_text = "Why the stock is adjusted (a count, a correction of an entry)."
        elif kind == Kind.RETURNED:
            reason.help_text = "To whom and why (expired, recalled, surplus)."
        else:
            reason.label = "Note"

    def signed_quantity(self) -> Any:
        """The quantity as the service takes it: an adjustment is signed by its direction."""
        quantity = self.cleaned_data["quantity_mg"]
        if self.kind == Kind.ADJUSTED and self.cleaned_data.get("direction") == REMOVE:
            return -quantity
        return quantity


class TransferForm(forms.Form):
    lot = LotChoiceField()
    location = LocationChoiceField(label="From")
    to_location = LocationChoiceField(label="To")
    quantity_mg = forms.DecimalField(label="Quantity (mg)", max_digits=10, decimal_places=2)
    moved_at = forms.DateTimeField(
        label="When", required=False, widget=DateTimeInput(), help_text="Leave empty for now."
    )
    reason = forms.CharField(label="Note", max_length=300, required=False)


class LotForm(forms.Form):
    drug = forms.ChoiceField(choices=Drug.choices)
    product = forms.CharField(max_length=120, help_text="e.g. Ketamine HCl injection")
    form = forms.CharField(
        label="Form and strength",
        max_length=120,
        help_text='e.g. "100 mg/mL, 10 mL vial" or "28 mg nasal spray device"',
    )
    lot_number = forms.CharField(max_length=60)
    expires_on = forms.DateField(widget=DateInput())


class LocationForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="e.g. Main safe, Room 2 cabinet")


class ReconciliationForm(forms.Form):
    """The period of the report, as ?from=&to= (days in the practice's time zone, both in)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label="From", widget=DateInput())
        self.fields["to"] = forms.DateField(label="To", widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("from"), data.get("to")
        if first and last:
            try:
                data["period"] = selectors.period(first, last)
            except ValidationError as error:
                add_service_errors(self, error)
        return data
