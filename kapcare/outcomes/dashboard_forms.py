"""The dashboard's filter form: the period and the cohort filters, read from the query string."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q

from kapcare.accounts.models import User
from kapcare.clients.forms import StaffChoiceField
from kapcare.courses.models import Route
from kapcare.courses.protocols import PROTOCOLS
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.outcomes.dashboard import INSTRUMENTS as OUTCOME_INSTRUMENTS
from kapcare.outcomes.dashboard import NO, YES, Filters
from kapcare.outcomes.models import AgeBand
from kapcare.stock.models import Location

DEFAULT_DAYS = 365


class DashboardFilterForm(forms.Form):
    start = forms.DateField(
        label="Courses started from", required=False, widget=forms.DateInput({"type": "date"})
    )
    end = forms.DateField(label="to", required=False, widget=forms.DateInput({"type": "date"}))
    instrument = forms.ChoiceField(
        label="Outcome measure",
        required=False,
        choices=[(code, INSTRUMENTS[code].name) for code in OUTCOME_INSTRUMENTS],
    )
    protocol = forms.ChoiceField(
        required=False, choices=[("", "All protocols"), *((p.code, p.name) for p in PROTOCOLS)]
    )
    route = forms.ChoiceField(required=False, choices=[("", "All routes"), *Route.choices])
    clinician = StaffChoiceField(  # a network has hundreds of clinicians
        queryset=User.objects.filter(Q(is_therapist=True) | Q(is_prescriber=True)),
        required=False,
        empty_label="All clinicians",
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.all(),
        required=False,
        to_field_name="public_id",
        empty_label="All locations",
    )
    age_band = forms.ChoiceField(
        label="Age at start", required=False, choices=[("", "All ages"), *AgeBand.choices]
    )
    trauma_focused = forms.ChoiceField(
        label="Trauma-focused (EMDR)",
        required=False,
        choices=[("", "Either"), (YES, "Yes"), (NO, "No")],
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end = data.get("end") or self.today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS)
        if start > end:
            self.add_error("start", "The period must start on or before its end.")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> Filters:
        """The cohort the form describes (call after is_valid())."""
        data = self.cleaned_data
        clinician = data.get("clinician")
        location = data.get("location")
        return Filters(
            start=data["start"],
            end=data["end"],
            instrument=data.get("instrument") or "phq9",
            protocol=data.get("protocol") or "",
            route=data.get("route") or "",
            clinician=clinician.id if clinician else None,
            location=location.id if location else None,
            age_band=data.get("age_band") or "",
            trauma_focused=data.get("trauma_focused") or "",
        )
