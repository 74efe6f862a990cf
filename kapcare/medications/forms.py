from __future__ import annotations

from django import forms

from kapcare.medications.interactions import CHOICES
from kapcare.medications.models import Medication


class MedicationForm(forms.ModelForm[Medication]):
    interaction_categories = forms.MultipleChoiceField(
        choices=CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Medication
        fields = [
            "name",
            "other_names",
            "kind",
            "antidepressant_class",
            "min_adequate_daily_dose_mg",
            "min_dose_source",
            "usual_max_daily_dose_mg",
            "interaction_categories",
            "lorazepam_equivalent_mg",
            "active",
        ]

    def _post_clean(self) -> None:
        # The service validates the model (and audits); the form only checks shape.
        pass
