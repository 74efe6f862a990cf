from __future__ import annotations

from django import forms

from kapcare.safety.models import RiskLevel


class RiskAssessmentForm(forms.Form):
    risk_level = forms.ChoiceField(
        label="Risk level found", choices=RiskLevel.choices, widget=forms.RadioSelect
    )
    actions = forms.CharField(
        label="Actions taken",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="Who was told, what was arranged (for example: crisis line given, prescriber "
        "informed, dosing postponed).",
    )
    safety_plan = forms.CharField(
        label="Safety plan",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text="The safety plan reviewed or made with the client.",
    )
