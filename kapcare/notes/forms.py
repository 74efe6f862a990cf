"""The note form, built from the note template of the session's kind. It checks the shape of the
input only; kapcare.notes.templates and the services hold the rules (the API shares them), and
the page shows their errors on the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms

from kapcare.notes import templates
from kapcare.notes.models import SessionNote

OTHER_MODALITIES = [
    (code, label) for code, label in templates.MODALITY_LABELS.items() if code != templates.EMDR
]


def _detail(code: str) -> str:
    return f"detail_{code}"


class NoteForm(forms.Form):
    emdr_sets = forms.IntegerField(
        label="EMDR sets",
        required=False,
        min_value=1,
        max_value=templates.EMDR_SETS_MAX,
        help_text="The number of sets of bilateral stimulation.",
    )
    emdr_targets = forms.CharField(
        label="EMDR targets",
        required=False,
        max_length=templates.MODALITY_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The memories or images processed.",
    )
    other_modalities = forms.MultipleChoiceField(
        label="Other modalities used",
        required=False,
        choices=OTHER_MODALITIES,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, template: templates.NoteTemplate, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.template = template
        for section in template.sections:
            label = section.label + (" (needed to sign)" if section.required_to_sign else "")
            self.fields[section.code] = forms.CharField(
                label=label,
                help_text=section.help,
                required=False,
                max_length=templates.SECTION_MAX,
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        for code, label in OTHER_MODALITIES:
            self.fields[_detail(code)] = forms.CharField(
                label=f"{label}: what was done",
                required=False,
                max_length=templates.MODALITY_TEXT_MAX,
                help_text="Needed for Other." if code == "other" else "",
            )

    @property
    def section_fields(self) -> list[forms.BoundField]:
        return [self[code] for code in self.template.codes]

    @property
    def detail_fields(self) -> list[forms.BoundField]:
        return [self[_detail(code)] for code, _label in OTHER_MODALITIES]

    def note_fields(self) -> dict[str, str]:
        return {code: self.cleaned_data.get(code) or "" for code in self.template.codes}

    def modalities(self) -> list[dict[str, Any]]:
        """The modalities block as the services take it. A modality counts as used when it is
        ticked or described; EMDR when its sets or targets are given."""
        data = self.cleaned_data
        used: list[dict[str, Any]] = []
        if data.get("emdr_sets") is not None or data.get("emdr_targets"):
            used.append(
                {
                    "modality": templates.EMDR,
                    "sets": data.get("emdr_sets"),
                    "targets": data.get("emdr_targets") or "",
                }
            )
        ticked = set(data.get("other_modalities") or ())
        for code, _label in OTHER_MODALITIES:
            detail = data.get(_detail(code)) or ""
            if code in ticked or detail:
                used.append({"modality": code, "detail": detail})
        return used

    # Where a service error lands: the form field that entered it (anything else goes to the
    # top of the form).
    def field_for(self, service_field: str) -> str | None:
        if service_field.startswith("fields."):
            code = service_field.removeprefix("fields.")
            return code if code in self.template.codes else None
        if service_field == f"modalities.{templates.EMDR}.sets":
            return "emdr_sets"
        if service_field == f"modalities.{templates.EMDR}.targets":
            return "emdr_targets"
        if service_field.startswith("modalities.") and service_field.endswith(".detail"):
            code = service_field.split(".")[1]
            return _detail(code) if _detail(code) in self.fields else None
        if service_field.startswith("modalities"):
            return "other_modalities"
        return None


def initial_for(note: SessionNote | None) -> dict[str, Any]:
    """The form's starting values from a stored draft."""
    if note is None:
        return {}
    initial: dict[str, Any] = dict(note.fields)
    ticked = []
    for entry in note.modalities:
        code = entry["modality"]
        if code == templates.EMDR:
            initial["emdr_sets"] = entry.get("sets")
            initial["emdr_targets"] = entry.get("targets", "")
        else:
            ticked.append(code)
            initial[_detail(code)] = entry.get("detail", "")
    initial["other_modalities"] = ticked
    return initial


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=templates.SECTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A correction or later addition. It is added with your name and the time; the "
        "signed note itself does not change.",
    )
