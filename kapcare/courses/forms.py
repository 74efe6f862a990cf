"""Course and booking forms. They check the shape of the input; the services hold the rules and
the pages show the services' errors beside the fields they name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.db.models import Q

from kapcare.accounts.models import User
from kapcare.clients.forms import DateInput, StaffChoiceField
from kapcare.core.time import practice_today, practice_zone
from kapcare.courses.models import Kind, Modality, Phase, Room, Route, State
from kapcare.courses.protocols import PROTOCOLS
from kapcare.courses.rules import Gate
from kapcare.courses.services import NEXT_PHASES


class UniqueIds:
    """Several forms share the plan page; each gets its own element ids."""

    id_prefix = "course"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(format="%H:%M", **kwargs)  # type: ignore[arg-type]


class CourseStartForm(UniqueIds, forms.Form):
    id_prefix = "start"

    protocol = forms.ChoiceField(choices=[(p.code, p.name) for p in PROTOCOLS])
    started_on = forms.DateField(widget=DateInput(), initial=practice_today)
    goals = forms.CharField(
        label="Goals and intentions", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    modalities = forms.MultipleChoiceField(
        label="Modalities planned",
        choices=Modality.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class PhaseForm(UniqueIds, forms.Form):
    id_prefix = "phase"

    phase = forms.ChoiceField(label="Move to")
    reason = forms.CharField(
        max_length=300, required=False, help_text="Needed when the course is discontinued."
    )

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phase"].choices = [  # type: ignore[attr-defined]
            (phase.value, phase.label) for phase in NEXT_PHASES.get(Phase(current), ())
        ]


class ConsentForm(UniqueIds, forms.Form):
    id_prefix = "consent"

    route = forms.ChoiceField(choices=Route.choices)
    signed_on = forms.DateField(widget=DateInput(), initial=practice_today)
    form_version = forms.CharField(
        max_length=80, help_text="The name and version of the signed consent form."
    )


class RemsForm(UniqueIds, forms.Form):
    id_prefix = "rems"

    enrolled_on = forms.DateField(widget=DateInput(), initial=practice_today)
    reference = forms.CharField(max_length=80, label="REMS patient enrolment reference")


def local_moment(day: dt.date, time: dt.time) -> dt.datetime:
    """The practice-zone moment of a date and a wall-clock time. A time that does not exist
    that day (the hour skipped when the clocks go forward) is refused rather than moved."""
    zone = practice_zone()
    moment = dt.datetime.combine(day, time, tzinfo=zone)
    back = moment.astimezone(dt.UTC).astimezone(zone)
    if (back.date(), back.time().replace(tzinfo=None)) != (day, time):
        raise forms.ValidationError(
            "This time does not exist on that day: the clocks change.", code="nonexistent_time"
        )
    return moment


def clinicians() -> Any:
    return User.objects.filter(
        Q(is_therapist=True) | Q(is_prescriber=True) | Q(is_nurse=True), is_active=True
    )


class OverrideFields:
    """A text field per failed gate for a prescriber's override reason."""

    def add_overrides(self, gates: Sequence[Gate]) -> None:
        for gate in gates:
            if not gate.passed:
                self.fields[f"override_{gate.code}"] = forms.CharField(  # type: ignore[attr-defined]
                    label=f"Override “{gate.title}”: your reason",
                    required=False,
                    max_length=1000,
                    help_text=gate.reason,
                )

    def overrides(self) -> dict[str, str]:
        data = self.cleaned_data  # type: ignore[attr-defined]
        return {
            name.removeprefix("override_"): value.strip()
            for name, value in data.items()
            if name.startswith("override_") and value and value.strip()
        }


class BookingForm(OverrideFields, UniqueIds, forms.Form):
    id_prefix = "book"

    kind = forms.ChoiceField(choices=Kind.choices)
    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(widget=TimeInput())
    minutes = forms.IntegerField(min_value=5, max_value=720, label="Length (minutes)")
    clinician = StaffChoiceField(queryset=User.objects.none(), label="Clinician")
    second_clinician = StaffChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Second clinician",
        help_text="A dosing session needs the monitoring clinician (prescriber or nurse) above "
        "and the therapist here.",
    )
    room = forms.ModelChoiceField(
        queryset=Room.objects.filter(active=True), to_field_name="public_id", required=False
    )

    def __init__(self, *args: Any, gates: Sequence[Gate] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("clinician", "second_clinician"):
            self.fields[name].queryset = clinicians()  # type: ignore[attr-defined]
        self.add_overrides(gates)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and data.get("time"):
            try:
                data["starts_at"] = local_moment(data["date"], data["time"])
            except forms.ValidationError as error:
                self.add_error("time", error)
        return data


class RescheduleForm(OverrideFields, UniqueIds, forms.Form):
    id_prefix = "move"

    date = forms.DateField(widget=DateInput())
    time = forms.TimeField(widget=TimeInput())
    minutes = forms.IntegerField(min_value=5, max_value=720, label="Length (minutes)")
    room = forms.ModelChoiceField(
        queryset=Room.objects.filter(active=True),
        to_field_name="public_id",
        required=False,
        help_text="Leave empty to keep the room.",
    )
    reason = forms.CharField(max_length=300, label="Reason for the change")

    def __init__(self, *args: Any, gates: Sequence[Gate] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_overrides(gates)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and data.get("time"):
            try:
                data["starts_at"] = local_moment(data["date"], data["time"])
            except forms.ValidationError as error:
                self.add_error("time", error)
        return data


class MarkForm(UniqueIds, forms.Form):
    id_prefix = "mark"

    state = forms.ChoiceField(
        choices=[(s.value, s.label) for s in (State.HELD, State.NO_SHOW, State.CANCELLED)]
    )
    reason = forms.CharField(max_length=300, required=False, help_text="Needed for a cancellation.")


class AcceptSlotForm(forms.Form):
    starts_at = forms.DateTimeField()


class RoomForm(forms.Form):
    name = forms.CharField(max_length=80)
    active = forms.BooleanField(required=False, initial=True, label="In use")
