"""Screening forms. They check shape only; the services hold every rule (pages, API and commands
share them), and the pages show the services' errors on the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms

from kapcare.clients.forms import DateInput
from kapcare.core.widgets import FastSelect
from kapcare.medications.models import Kind, Medication
from kapcare.screening import questions
from kapcare.screening.models import (
    MSM_SEVERITY_CHOICES,
    AntidepressantTrial,
    Augmentation,
    CurrentMedication,
    Decision,
    EctCourse,
    PsychotherapyCourse,
)


class MedicationChoiceField(forms.ModelChoiceField[Medication]):
    widget = FastSelect

    def __init__(self, queryset: Any, **kwargs: Any) -> None:
        super().__init__(queryset, to_field_name="public_id", required=False, **kwargs)

    def label_from_instance(self, obj: Medication) -> str:
        if obj.is_antidepressant:
            return f"{obj.name} ({obj.get_antidepressant_class_display()})"
        return obj.name


class UniqueIds:
    """Many forms share the screening page; each gets its own element ids so that every label
    points at its own field."""

    id_prefix = "screening"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class ShapeOnlyModelForm(UniqueIds, forms.ModelForm):
    def _post_clean(self) -> None:
        """The service validates the record (and audits); the form only checks the input."""


DATE_WIDGETS = {"started_on": DateInput(), "ended_on": DateInput()}


class TrialForm(ShapeOnlyModelForm):
    id_prefix = "trial"

    medication = MedicationChoiceField(
        Medication.objects.filter(kind=Kind.ANTIDEPRESSANT, active=True),
        label="Antidepressant",
    )

    class Meta:
        model = AntidepressantTrial
        fields = [
            "medication",
            "drug_text",
            "max_daily_dose_mg",
            "started_on",
            "ended_on",
            "adherence",
            "outcome",
            "note",
        ]
        widgets = DATE_WIDGETS


class AugmentationForm(ShapeOnlyModelForm):
    id_prefix = "augmentation"

    medication = MedicationChoiceField(
        Medication.objects.filter(active=True).order_by("kind", "name"), label="Agent"
    )

    class Meta:
        model = Augmentation
        fields = ["medication", "agent_text", "started_on", "ended_on", "outcome", "note"]
        widgets = DATE_WIDGETS


class EctForm(ShapeOnlyModelForm):
    id_prefix = "ect"

    class Meta:
        model = EctCourse
        fields = ["laterality", "sessions", "started_on", "ended_on", "outcome", "note"]
        widgets = DATE_WIDGETS


class PsychotherapyForm(ShapeOnlyModelForm):
    id_prefix = "psychotherapy"

    class Meta:
        model = PsychotherapyCourse
        fields = ["modality", "sessions", "started_on", "ended_on", "outcome", "note"]
        widgets = DATE_WIDGETS


HISTORY_FORMS: dict[str, type[ShapeOnlyModelForm]] = {
    "trial": TrialForm,
    "augmentation": AugmentationForm,
    "ect": EctForm,
    "psychotherapy": PsychotherapyForm,
}


class RemoveForm(UniqueIds, forms.Form):
    id_prefix = "remove"

    reason = forms.CharField(max_length=300, label="Why remove it (entered in error...)")


class EpisodeForm(UniqueIds, forms.Form):
    id_prefix = "episode"

    started_on = forms.DateField(label="Current episode began", widget=DateInput())
    severity = forms.ChoiceField(
        choices=[
            ("", "From the latest PHQ-9 or MADRS"),
            *MSM_SEVERITY_CHOICES,
        ],
        required=False,
        label="Severity for the Maudsley staging",
    )
    note = forms.CharField(max_length=500, required=False)


class CurrentMedicationForm(ShapeOnlyModelForm):
    id_prefix = "medication"

    medication = MedicationChoiceField(
        Medication.objects.filter(active=True).order_by("name"), label="Drug"
    )

    class Meta:
        model = CurrentMedication
        fields = [
            "medication",
            "drug_text",
            "dose_amount",
            "dose_unit",
            "frequency",
            "started_on",
            "note",
        ]
        widgets = {"started_on": DateInput()}


class StopMedicationForm(UniqueIds, forms.Form):
    id_prefix = "stop"

    stopped_on = forms.DateField(widget=DateInput())
    reason = forms.CharField(max_length=300)


class BloodPressureForm(UniqueIds, forms.Form):
    id_prefix = "bp"

    systolic = forms.IntegerField(label="Systolic (mmHg)")
    diastolic = forms.IntegerField(label="Diastolic (mmHg)")
    heart_rate = forms.IntegerField(label="Heart rate (/min)", required=False)
    note = forms.CharField(max_length=300, required=False, help_text="Seated, resting...")


class QuestionsForm(forms.Form):
    """One field per screening question (kapcare.screening.questions), all optional here: an
    unanswered question leaves the screen incomplete rather than refusing the save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in questions.QUESTIONS:
            field: forms.Field
            if question.kind in ("yes_no", "choice"):
                field = forms.ChoiceField(
                    choices=question.choices,
                    required=False,
                    widget=forms.RadioSelect,
                )
            elif question.kind == "date":
                field = forms.CharField(required=False, widget=DateInput())
            else:
                field = forms.CharField(
                    required=False,
                    widget=forms.NumberInput(attrs={"step": "0.1"}),
                )
            field.label = question.text + (f" ({question.unit})" if question.unit else "")
            field.help_text = question.help
            self.fields[question.code] = field

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (group, [self[q.code] for q in questions.QUESTIONS if q.group == group])
            for group in questions.GROUPS
        ]


class DecisionForm(UniqueIds, forms.Form):
    id_prefix = "decision"

    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="For 'cleared with conditions': what must hold (e.g. BP re-checked before "
        "each dose).",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reasoning")
    seen_signature = forms.CharField(widget=forms.HiddenInput)
