"""Forms of the dosing-session pages. They check the shape of what is typed at the bedside (and
turn a wall-clock time into a moment of the session); the services hold every clinical rule,
and the pages show the services' errors beside the fields they name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.timezone import localtime

from kapcare.accounts.models import User
from kapcare.clients.forms import StaffChoiceField
from kapcare.core.time import now, practice_zone
from kapcare.courses.forms import TimeInput, local_moment
from kapcare.dosing import rules
from kapcare.dosing.models import (
    DosingSession,
    Relatedness,
    Seriousness,
    Severity,
    SideEffect,
    WorkKind,
)
from kapcare.dosing.services import FUTURE_GRACE, PREGNANCY_RESULTS, REASON_MAX
from kapcare.medications.interactions import BY_CODE as INTERACTIONS
from kapcare.stock.models import Location

# The MOAA/S responses (Chernik 1990; clinical-facts §5.2). 5 is alert, 0 no response to pain.
MOAAS_RESPONSES = {
    5: "Responds readily to name spoken in normal tone",
    4: "Lethargic response to name spoken in normal tone",
    3: "Responds only after name is called loudly or repeatedly",
    2: "Responds only after mild prodding or shaking",
    1: "Does not respond to mild prodding or shaking",
    0: "Does not respond to pain",
}
CADSS_CHOICES = [(code, label) for code, (label, _items, _top) in rules.CADSS_VERSIONS.items()]
PREGNANCY_LABELS = {
    "negative": "Negative",
    "positive": "Positive",
    "not_applicable": "Not applicable",
    "missing": "No result today",
}
DISSOCIATION_CHOICES = [
    ("cadss", "Use the latest CADSS score"),
    ("yes", "Yes: a clinician judges it resolved"),
    ("no", "No: not resolved"),
]


def bedside_moment(time: dt.time, session: DosingSession, moment: dt.datetime) -> dt.datetime:
    """The moment of a wall-clock time typed at the bedside: today in the practice's zone; for a
    session that began the day before (charting after midnight), a time later than now is that
    day's. Otherwise a time later than now stays in the future, for the service to refuse."""
    zone = practice_zone()
    today = moment.astimezone(zone).date()
    when = local_moment(today, time)
    began = session.appointment.starts_at.astimezone(zone).date()
    if when > moment + FUTURE_GRACE and began < today:
        when = local_moment(today - dt.timedelta(days=1), time)
    return when


def clock_now() -> str:
    return localtime(now(), practice_zone()).strftime("%H:%M")


class SessionForm(forms.Form):
    """A form of one session: its own element ids, and `time_fields` turned into moments."""

    id_prefix = "dosing"
    time_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, session: DosingSession, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.session = session
        for name in self.time_fields:
            self.fields[name].initial = clock_now

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        moment = now()
        for name in self.time_fields:
            value = data.get(name)
            if isinstance(value, dt.time):
                try:
                    data[name] = bedside_moment(value, self.session, moment)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        return data


def time_field(label: str = "Time") -> forms.TimeField:
    """A wall-clock time, now unless changed (the page says so once, above its forms)."""
    return forms.TimeField(label=label, required=False, widget=TimeInput())


class CorrectionFields(forms.Form):
    """A charted row's correction: the row it corrects (its public id) and why (shown last)."""

    corrects = forms.UUIDField(required=False, widget=forms.HiddenInput)
    correction_reason = forms.CharField(
        label="Why it is corrected", max_length=REASON_MAX, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = [name for name in self.fields if name != "correction_reason"]
        self.order_fields([*names, "correction_reason"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("corrects") and not (data.get("correction_reason") or "").strip():
            self.add_error("correction_reason", "Say why the entry is corrected.")
        return data


def _reading(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=999, widget=forms.NumberInput()
    )


class VitalsForm(CorrectionFields, SessionForm):
    id_prefix = "vitals"
    time_fields = ("taken_at",)

    taken_at = time_field()
    systolic = _reading("Systolic")
    diastolic = _reading("Diastolic")
    heart_rate = _reading("Heart rate")
    spo2 = _reading("SpO2 %")
    respiratory_rate = _reading("Resp. rate")


class ScaleForm(CorrectionFields, SessionForm):
    """A MOAA/S or a CADSS score (the page shows them as two forms; `scale` says which)."""

    id_prefix = "scale"
    time_fields = ("taken_at",)

    scale = forms.ChoiceField(
        choices=[("moaas", "MOAA/S"), ("cadss", "CADSS")], widget=forms.HiddenInput
    )
    taken_at = time_field()
    score = forms.IntegerField(label="Score", min_value=0, max_value=999)
    version = forms.ChoiceField(
        label="CADSS version",
        required=False,
        choices=[("", "—")]
        + [(code, label) for code, (label, _i, _h) in rules.CADSS_VERSIONS.items()],
    )


class MoaasForm(ScaleForm):
    id_prefix = "moaas"

    score = forms.TypedChoiceField(  # type: ignore[assignment]
        label="MOAA/S",
        coerce=int,
        choices=[(score, f"{score}: {text}") for score, text in MOAAS_RESPONSES.items()],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scale"].initial = "moaas"
        del self.fields["version"]


class CadssForm(ScaleForm):
    id_prefix = "cadss"

    score = forms.IntegerField(label="CADSS total", min_value=0, max_value=999)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scale"].initial = "cadss"
        self.fields["version"].required = True
        self.fields["version"].choices = CADSS_CHOICES  # type: ignore[attr-defined]


class SideEffectForm(CorrectionFields, SessionForm):
    """One or more side effects at one severity (a correction names one effect)."""

    id_prefix = "effect"
    time_fields = ("taken_at",)

    taken_at = time_field()
    effects = forms.MultipleChoiceField(
        label="Side effects",
        choices=SideEffect.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one side effect."},
    )
    severity = forms.ChoiceField(
        label="Severity", choices=Severity.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(label="Note", max_length=REASON_MAX, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        effects = data.get("effects") or []
        if data.get("corrects") and len(effects) > 1:
            self.add_error("effects", "A correction replaces one entry: tick one side effect.")
        if SideEffect.OTHER in effects and not (data.get("note") or "").strip():
            self.add_error("note", "Describe the side effect.")
        return data


class WorkForm(CorrectionFields, SessionForm):
    id_prefix = "work"
    time_fields = ("taken_at",)

    taken_at = time_field()
    kind = forms.ChoiceField(label="What", choices=WorkKind.choices)
    detail = forms.CharField(
        label="Detail", max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AdverseEventForm(SessionForm):
    id_prefix = "ae"
    time_fields = ("onset_at",)

    event = forms.CharField(label="Event", max_length=200)
    onset_at = time_field("Onset")
    severity = forms.ChoiceField(label="Severity", choices=Severity.choices)
    seriousness = forms.ChoiceField(
        label="Seriousness", choices=Seriousness.choices, widget=forms.RadioSelect
    )
    related = forms.ChoiceField(label="Related to the dose", choices=Relatedness.choices)
    action = forms.CharField(label="Action taken", max_length=REASON_MAX, required=False)
    outcome = forms.CharField(label="Outcome", max_length=REASON_MAX, required=False)


# ---------------------------------------------------------------------------------------------
# The pre-dose check


class OverrideReasons:
    """A reason box per failed check a prescriber may override (`override_<code>`)."""

    def add_overrides(self, checks: Iterable[Mapping[str, Any] | rules.Check]) -> None:
        for check in checks:
            item = _as_dict(check)
            if item["passed"] or not item["blocking"] or not item["overridable"]:
                continue
            self.fields[f"override_{item['code']}"] = forms.CharField(  # type: ignore[attr-defined]
                label=f"Override “{item['title']}”: your reason",
                required=False,
                max_length=REASON_MAX,
                help_text=item["reason"],
            )

    def overrides(self) -> dict[str, str]:
        data = self.cleaned_data  # type: ignore[attr-defined]
        return {
            name.removeprefix("override_"): value.strip()
            for name, value in data.items()
            if name.startswith("override_") and value and value.strip()
        }

    def override_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("override_")]  # type: ignore[attr-defined,index]


def _as_dict(check: Mapping[str, Any] | rules.Check) -> Mapping[str, Any]:
    if isinstance(check, rules.Check):
        return {
            "code": check.code,
            "title": check.title,
            "passed": check.passed,
            "reason": check.reason,
            "blocking": check.blocking,
            "overridable": check.overridable,
        }
    return check


class PreCheckForm(OverrideReasons, SessionForm):
    id_prefix = "pre"
    time_fields = ("checked_at",)

    identity_confirmed = forms.BooleanField(label="Identity confirmed", required=False)
    escort_confirmed = forms.BooleanField(
        label="Escort home confirmed (someone takes the client home)", required=False
    )
    intention = forms.CharField(
        label="Intention for the session",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    weight_kg = forms.DecimalField(
        label="Weight today (kg)", required=False, max_digits=5, decimal_places=1
    )
    minutes_since_food = forms.IntegerField(label="Minutes since food", required=False, min_value=0)
    minutes_since_liquid = forms.IntegerField(
        label="Minutes since liquids", required=False, min_value=0
    )
    systolic = _reading("Systolic")
    diastolic = _reading("Diastolic")
    heart_rate = _reading("Heart rate")
    spo2 = _reading("SpO2 %")
    medicines_today = forms.MultipleChoiceField(
        label="Medicines taken today",
        required=False,
        choices=[(code, category.label) for code, category in INTERACTIONS.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every group taken today; leave all unticked when none was taken.",
    )
    pregnancy_test = forms.ChoiceField(
        label="Pregnancy test",
        choices=[(code, PREGNANCY_LABELS[code]) for code in PREGNANCY_RESULTS],
        widget=forms.RadioSelect,
        initial="missing",
    )
    checked_at = time_field("Time of the check")

    def __init__(self, *args: Any, failed: Sequence[Mapping[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_overrides(failed)


# ---------------------------------------------------------------------------------------------
# The dose


class DoseForm(OverrideReasons, SessionForm):
    id_prefix = "dose"
    time_fields = ("given_at",)

    location = forms.ModelChoiceField(
        label="Taken from",
        queryset=Location.objects.none(),
        to_field_name="public_id",
        empty_label="Choose the storage location",
    )
    lot = forms.ChoiceField(label="Lot")
    mg_per_kg = forms.DecimalField(
        label="Dose in mg/kg", required=False, max_digits=5, decimal_places=2, min_value=0
    )
    dose_mg = forms.DecimalField(
        label="Dose (mg)", required=False, max_digits=7, decimal_places=2, min_value=0
    )
    concentration_mg_per_ml = forms.DecimalField(
        label="Concentration (mg/mL)",
        required=False,
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    infusion_minutes = forms.IntegerField(
        label="Infusion length (minutes)", required=False, min_value=1, max_value=1440
    )
    given_at = time_field("Given at")
    therapist_present = StaffChoiceField(queryset=User.objects.none(), label="Therapist present")

    def __init__(
        self,
        *args: Any,
        route: str,
        lots: Sequence[tuple[str, str]],
        locations: Any,
        therapists: Any,
        overridable: Sequence[rules.Check] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.route = route
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]
        self.fields["lot"].choices = [("", "Choose the lot"), *lots]  # type: ignore[attr-defined]
        self.fields["therapist_present"].queryset = therapists  # type: ignore[attr-defined]
        if route == rules.INTRANASAL:
            del self.fields["mg_per_kg"]
            del self.fields["concentration_mg_per_ml"]
            self.fields["dose_mg"] = forms.TypedChoiceField(
                label="Dose",
                coerce=Decimal,
                choices=[
                    (
                        str(devices * rules.DEVICE_MG),
                        f"{devices * rules.DEVICE_MG} mg: {devices} "
                        f"device{'s' if devices > 1 else ''}",
                    )
                    for devices in (1, 2, 3)
                ],
                widget=forms.RadioSelect,
                help_text="Whole 28 mg devices (Spravato label, clinical-facts §2a).",
            )
        elif route not in rules.WEIGHT_BASED:
            del self.fields["mg_per_kg"]
        if route != rules.INTRAVENOUS:
            del self.fields["infusion_minutes"]
        self.add_overrides(overridable)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        missing = data.get("dose_mg") is None and data.get("mg_per_kg") is None
        if missing and "dose_mg" not in self.errors:
            self.add_error(
                "dose_mg",
                "Enter the dose in mg (or in mg/kg)."
                if "mg_per_kg" in self.fields
                else "Enter the dose in mg.",
            )
        return data


# ---------------------------------------------------------------------------------------------
# Discharge


class DischargeForm(OverrideReasons, SessionForm):
    id_prefix = "discharge"

    escort_present = forms.BooleanField(
        label="A responsible adult is here to take the client home", required=False
    )
    no_driving_counselled = forms.BooleanField(
        label="Told: no driving or machinery until the next day after a restful sleep",
        required=False,
    )
    dissociation = forms.ChoiceField(
        label="Dissociation resolved",
        choices=DISSOCIATION_CHOICES,
        initial="cadss",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, failed: Sequence[rules.Check] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_overrides(failed)

    def answers(self) -> dict[str, Any]:
        """The answers as the flowsheet and the service take them (unanswered: not given)."""
        data = getattr(self, "cleaned_data", None) or {}
        choice = data.get("dissociation", "cadss")
        return {
            "escort_present": bool(data.get("escort_present")),
            "no_driving_counselled": bool(data.get("no_driving_counselled")),
            "dissociation_resolved": {"yes": True, "no": False}.get(choice),
        }
