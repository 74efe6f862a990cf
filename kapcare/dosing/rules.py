"""Dosing-session rules as pure functions over plain values: dose arithmetic, esketamine devices,
the maximum dose per route, the pre-dose check, the vitals flowsheet (due times, their status,
alerts), sedation and dissociation, the discharge check, and the REMS monitoring form's deadline.

No ORM, no settings, no clock: every threshold arrives as an argument (the practice's signed-off
values of kapcare.dosing.parameters, gathered into `DosingParameters` there) and `now` / `today`
are passed in. Times are added and compared in UTC (kapcare.courses.rules.utc), so a daylight-
saving change never shortens an observation. Every result carries a reason a person can read and
the source of its rule (clinical-facts sections; practice settings say so).

Comparisons follow the wording of their source: the esketamine blood-pressure hold is "> 140/90"
(and "> 150 systolic if age > 65"), so exactly 140/90 passes; the EU esketamine start is "age
≥ 65". Rounding is ROUND_HALF_UP throughout (0.125 → 0.13), the way a person rounds by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from kapcare.courses.rules import utc
from kapcare.medications.interactions import BY_CODE as INTERACTIONS

# ---------------------------------------------------------------------------------------------
# Routes

SUBLINGUAL = "sublingual"
ORAL = "oral"
INTRAMUSCULAR = "intramuscular"
INTRAVENOUS = "intravenous"
INTRANASAL = "intranasal"  # esketamine nasal spray
ROUTES = (SUBLINGUAL, ORAL, INTRAMUSCULAR, INTRAVENOUS, INTRANASAL)
RACEMIC_ROUTES = (SUBLINGUAL, ORAL, INTRAMUSCULAR, INTRAVENOUS)
# Routes whose order is in mg/kg, so the day's weight is needed (clinical-facts §2b, §2c).
WEIGHT_BASED = frozenset({INTRAVENOUS, INTRAMUSCULAR})

ESKETAMINE = "esketamine"
RACEMIC = "racemic"


def family(route: str) -> str:
    """Esketamine (the nasal spray, label rules) or racemic ketamine (every other route,
    off-label: practice settings)."""
    if route not in ROUTES:
        raise ValueError(f"route: unknown route {route!r}; one of {', '.join(ROUTES)}")
    return ESKETAMINE if route == INTRANASAL else RACEMIC


# ---------------------------------------------------------------------------------------------
# Parameters (the values arrive from kapcare.dosing.parameters.dosing_parameters)


@dataclass(frozen=True)
class Fasting:
    food_minutes: int
    liquid_minutes: int


@dataclass(frozen=True)
class BpHold:
    """Hold the dose when systolic > `systolic` or diastolic > `diastolic`; above age
    `older_than` (strictly: the trials' "age > 65") the systolic limit is `older_systolic`."""

    systolic: int
    diastolic: int
    older_than: int
    older_systolic: int

    def limits(self, age: int) -> tuple[int, int]:
        return (self.older_systolic if age > self.older_than else self.systolic, self.diastolic)


@dataclass(frozen=True)
class DoseLimits:
    esketamine_max_mg: int
    iv_max_mg_per_kg: Decimal
    im_max_mg_per_kg: Decimal
    sublingual_max_mg: int
    oral_max_mg: int


@dataclass(frozen=True)
class EsketamineStart:
    first_dose_mg: int  # US label: induction day 1
    older_age: int  # EU label: "age ≥ 65" starts lower
    older_first_dose_mg: int


@dataclass(frozen=True)
class DosingParameters:
    limits: DoseLimits
    esketamine_start: EsketamineStart
    device_interval_minutes: int
    iv_infusion_minutes: int  # the order's default infusion length
    dose_step_mg: Decimal
    fasting: Mapping[str, Fasting]  # by route
    bp_hold: Mapping[str, BpHold]  # by family (esketamine, racemic)
    bp_hazard_racemic: tuple[int, int]  # systolic, diastolic
    bp_stop: tuple[int, int]
    hr_above: int
    spo2_below: int
    rr_below: int
    medicine_classes: Mapping[str, str]  # interaction category -> HOLD or PROMPT
    iv_during_every_minutes: int
    iv_after_every_minutes: int
    check_minutes: Mapping[str, int]  # the mid-session reading of the non-IV routes
    pre_dose_window_minutes: int
    grace_minutes: int
    observation_minutes: Mapping[str, int]  # by route, from the end of the dose
    cadss_resolved_at_most: int
    discharge_moaas_at_least: int
    rems_form_days: int


HOLD = "hold"
PROMPT = "prompt"


# ---------------------------------------------------------------------------------------------
# Checks, holds and overrides


@dataclass(frozen=True)
class Check:
    """One line of a checklist. A failed `blocking` check holds the dose (or the discharge)
    until it passes or a named prescriber overrides it with a reason; a failed non-blocking
    check is a prompt shown to the team. A check that is not `overridable` (a hard stop) opens
    only when it passes."""

    code: str
    title: str
    passed: bool
    reason: str
    source: str
    blocking: bool = True
    overridable: bool = True
    overridden_by: str = ""
    override_reason: str = ""

    @property
    def open(self) -> bool:
        return self.passed or not self.blocking or bool(self.overridden_by)

    @property
    def holds(self) -> bool:
        return not self.open

    @property
    def is_prompt(self) -> bool:
        return not self.passed and not self.blocking


Overrides = Mapping[str, tuple[str, str]]  # check code -> (prescriber, reason)


def with_overrides(checks: Sequence[Check], overrides: Overrides) -> list[Check]:
    """Apply prescribers' overrides: {code: (prescriber, reason)}. Only a failed, blocking,
    overridable check takes one; an override without a name or a reason is ignored (as in
    kapcare.courses.rules.with_overrides)."""
    result = []
    for item in checks:
        by, why = overrides.get(item.code, ("", ""))
        if not item.passed and item.blocking and item.overridable and by.strip() and why.strip():
            item = replace(item, overridden_by=by.strip(), override_reason=why.strip())
        result.append(item)
    return result


def may_dose(checks: Sequence[Check], overrides: Overrides | None = None) -> bool:
    """Every blocking check passes or carries a prescriber's override with a reason."""
    return all(item.open for item in with_overrides(checks, overrides or {}))


def may_discharge(checks: Sequence[Check], overrides: Overrides | None = None) -> bool:
    """The same rule for the discharge check: early discharge needs a prescriber's override."""
    return may_dose(checks, overrides)


def holds(checks: Sequence[Check]) -> list[Check]:
    return [item for item in checks if item.holds]


def prompts(checks: Sequence[Check]) -> list[Check]:
    return [item for item in checks if item.is_prompt]


# ---------------------------------------------------------------------------------------------
# Dose arithmetic

CENT = Decimal("0.01")


def _number(field: str, value: Decimal | int) -> Decimal:
    """A Decimal (or a whole number) that is finite; floats are refused (binary fractions make
    0.1 mg inexact)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"{field}: give a Decimal or a whole number, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{field}: must be a finite number")
    return number


def _positive(field: str, value: Decimal | int, unit: str) -> Decimal:
    number = _number(field, value)
    if number <= 0:
        raise ValueError(f"{field}: must be more than 0 {unit}")
    return number


def _not_negative(field: str, value: Decimal | int, unit: str) -> Decimal:
    number = _number(field, value)
    if number < 0:
        raise ValueError(f"{field}: must be 0 {unit} or more")
    return number


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    """`value` to the nearest multiple of `step`, halves rounded up (ROUND_HALF_UP), written
    with the step's decimals (36.65 with step 0.1 → 36.7; with step 0.5 → 36.5)."""
    units = (value / step).to_integral_value(rounding=ROUND_HALF_UP)
    exponent = step.normalize().as_tuple().exponent
    places = exponent if isinstance(exponent, int) and exponent < 0 else 0
    return (units * step).quantize(Decimal(1).scaleb(places))


def mg_per_kg(dose_mg: Decimal | int, weight_kg: Decimal | int) -> Decimal:
    """The dose per kilogram, rounded half-up to 2 decimals (36.7 mg / 73.4 kg → 0.50)."""
    weight = _positive("weight_kg", weight_kg, "kg")
    dose = _not_negative("dose_mg", dose_mg, "mg")
    return (dose / weight).quantize(CENT, rounding=ROUND_HALF_UP)


def dose_for(mg_per_kg: Decimal | int, weight_kg: Decimal | int, step_mg: Decimal | int) -> Decimal:
    """The weight-based dose in mg, rounded half-up to the nearest `step_mg` (what the practice
    can measure): 0.5 mg/kg times 73.4 kg = 36.7 mg; 0.5 times 73.25 = 36.625 → 36.6 (step 0.1)."""
    rate = _not_negative("mg_per_kg", mg_per_kg, "mg/kg")
    weight = _positive("weight_kg", weight_kg, "kg")
    step = _positive("step_mg", step_mg, "mg")
    return round_to_step(rate * weight, step)


@dataclass(frozen=True)
class Infusion:
    mg_per_min: Decimal
    ml_per_hour: Decimal
    volume_ml: Decimal


def infusion(
    dose_mg: Decimal | int, minutes: Decimal | int, concentration_mg_per_ml: Decimal | int
) -> Infusion:
    """Pump settings for an IV dose over `minutes` at the diluted concentration: mg/min, mL/h
    and the volume, each rounded half-up to 2 decimals (from the unrounded values)."""
    dose = _not_negative("dose_mg", dose_mg, "mg")
    length = _positive("minutes", minutes, "minutes")
    concentration = _positive("concentration_mg_per_ml", concentration_mg_per_ml, "mg/mL")
    volume = dose / concentration
    return Infusion(
        mg_per_min=(dose / length).quantize(CENT, rounding=ROUND_HALF_UP),
        ml_per_hour=(volume * 60 / length).quantize(CENT, rounding=ROUND_HALF_UP),
        volume_ml=volume.quantize(CENT, rounding=ROUND_HALF_UP),
    )


# ---------------------------------------------------------------------------------------------
# Esketamine devices and doses (clinical-facts §2a, §2d)

# One device holds 28 mg in 2 sprays (a fact of the product, Spravato label, clinical-facts §2a).
DEVICE_MG = 28

ESKETAMINE_DOSE_SOURCE = (
    "Spravato label: one device = 28 mg; 56 mg = 2 devices, 84 mg = 3; dose changes in 28 mg "
    "steps (clinical-facts §2a, §2d)"
)
FIRST_DOSE_SOURCE = (
    "US Spravato label: TRD induction day 1 is 56 mg; EU/HK label: age ≥65 starts at 28 mg "
    "(clinical-facts §2a)"
)
MAX_DOSE_SOURCES = {
    INTRANASAL: "Spravato label: 84 mg per session is the highest labelled dose "
    "(clinical-facts §2a, §2d)",
    INTRAVENOUS: "Practice setting: default 1.0 mg/kg, the highest dose studied (Fava 2018; "
    "0.5 mg/kg over 40 min is standard) (clinical-facts §2b, §2d)",
    INTRAMUSCULAR: "Practice setting, not verified: KAP IM doses (often 0.5–1.0+ mg/kg) are not "
    "verified; anaesthetic IM 6.5–13 mg/kg is the do-not-exceed reference (clinical-facts §2c, "
    "§2d)",
    SUBLINGUAL: "Practice setting: CTP lozenge method, general range 100–400 mg "
    "(clinical-facts §2c, §2d)",
    ORAL: "Practice setting: oral review (Andrade 2019), fixed doses 25–300 mg reported "
    "(clinical-facts §2c, §2d)",
}


def _mg(value: Decimal | int) -> str:
    return f"{Decimal(value).normalize():f} mg"


def esketamine_devices(dose_mg: Decimal | int) -> int:
    """How many 28 mg devices make the dose; ValueError unless it is a whole number of them."""
    dose = _number("dose_mg", dose_mg)
    if dose < DEVICE_MG or dose % DEVICE_MG != 0:
        raise ValueError(
            f"dose_mg: {_mg(dose)} is not a whole number of {DEVICE_MG} mg devices "
            f"({DEVICE_MG}, {2 * DEVICE_MG} or {3 * DEVICE_MG} mg)"
        )
    return int(dose // DEVICE_MG)


def esketamine_device_times(
    dose_mg: Decimal | int, first_at: dt.datetime, interval_minutes: int
) -> list[dt.datetime]:
    """When each device is given: the first at `first_at`, then one every `interval_minutes`
    (label: rest 5 minutes between devices). In UTC."""
    if interval_minutes <= 0:
        raise ValueError("interval_minutes: must be more than 0 minutes")
    start = utc(first_at)
    step = dt.timedelta(minutes=interval_minutes)
    return [start + index * step for index in range(esketamine_devices(dose_mg))]


def esketamine_dose_check(
    dose_mg: Decimal | int,
    *,
    first_dose: bool,
    age: int,
    max_mg: int,
    start: EsketamineStart,
) -> list[Check]:
    """The problems with an esketamine dose (an empty list: none).

    Hard stops (no override): not a whole number of devices; above the maximum per session.
    First-ever dose: US label day 1 is 56 mg, a hold a prescriber may override with a reason
    (e.g. another indication); from age 65 the EU label starts at 28 mg, shown as a note."""
    dose = _not_negative("dose_mg", dose_mg, "mg")
    problems: list[Check] = []
    if dose < DEVICE_MG or dose % DEVICE_MG != 0:
        problems.append(
            Check(
                code="esketamine_devices",
                title="Whole esketamine devices",
                passed=False,
                reason=f"{_mg(dose)} is not a whole number of {DEVICE_MG} mg devices: give "
                f"{DEVICE_MG}, {2 * DEVICE_MG} or {3 * DEVICE_MG} mg.",
                source=ESKETAMINE_DOSE_SOURCE,
                overridable=False,
            )
        )
    if dose > max_mg:
        problems.append(_max_check(INTRANASAL, False, _above_max(dose, max_mg)))
    if first_dose:
        older = age >= start.older_age
        if older and dose in (start.older_first_dose_mg, start.first_dose_mg):
            problems.append(
                Check(
                    code="esketamine_first_dose",
                    title="First esketamine dose",
                    passed=False,
                    reason=f"Age {age}: the EU label starts at "
                    f"{_mg(start.older_first_dose_mg)} from age {start.older_age}; the US label's "
                    f"day 1 is {_mg(start.first_dose_mg)}. Planned: {_mg(dose)}.",
                    source=FIRST_DOSE_SOURCE,
                    blocking=False,
                )
            )
        elif dose != start.first_dose_mg:
            allowed = _mg(start.first_dose_mg)
            if older:
                allowed += f" (or {_mg(start.older_first_dose_mg)} from age {start.older_age}, EU)"
            problems.append(
                Check(
                    code="esketamine_first_dose",
                    title="First esketamine dose",
                    passed=False,
                    reason=f"The first esketamine dose (induction day 1) is {allowed}; planned "
                    f"{_mg(dose)}. A prescriber may override with a reason.",
                    source=FIRST_DOSE_SOURCE,
                )
            )
    return problems


def _max_check(route: str, passed: bool, reason: str) -> Check:
    return Check(
        code="max_dose",
        title="Within the maximum dose",
        passed=passed,
        reason=reason,
        source=MAX_DOSE_SOURCES[route],
        overridable=False,
    )


def _above_max(dose: Decimal, maximum: int) -> str:
    return f"{_mg(dose)} is above the {_mg(maximum)} maximum per session."


def max_dose_stop(
    route: str, dose_mg: Decimal | int, mg_per_kg: Decimal | int | None, limits: DoseLimits
) -> Check:
    """A hard stop (no override) when the dose is above the route's maximum: esketamine 84 mg
    per session (label); IV and IM in mg/kg, sublingual and oral in mg (practice settings). The
    practice raises a maximum by signing off a new value, not case by case. IV and IM compare
    the charted mg/kg (2 decimals); without it the dose cannot be checked and stops."""
    family(route)
    dose = _not_negative("dose_mg", dose_mg, "mg")

    def result(passed: bool, reason: str) -> Check:
        return _max_check(route, passed, reason)

    if route in WEIGHT_BASED:
        ceiling = limits.iv_max_mg_per_kg if route == INTRAVENOUS else limits.im_max_mg_per_kg
        if mg_per_kg is None:
            return result(False, "No mg/kg: weigh the client to check the dose.")
        rate = _not_negative("mg_per_kg", mg_per_kg, "mg/kg")
        shown = f"{_mg(dose)} ({rate:f} mg/kg)"
        if rate > ceiling:
            return result(False, f"{shown} is above the {ceiling.normalize():f} mg/kg maximum.")
        return result(True, f"{shown} is within the {ceiling.normalize():f} mg/kg maximum.")
    maximum = {
        INTRANASAL: limits.esketamine_max_mg,
        SUBLINGUAL: limits.sublingual_max_mg,
        ORAL: limits.oral_max_mg,
    }[route]
    if dose > maximum:
        return result(False, _above_max(dose, maximum))
    return result(True, f"{_mg(dose)} is within the {_mg(maximum)} maximum per session.")


# ---------------------------------------------------------------------------------------------
# Pre-dose check

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable", "missing")

PRE_DOSE_SOURCES = {
    "identity": "Practice policy: identity confirmed before a controlled drug is given",
    "gates": "The course gates (kapcare.courses.rules.dosing_gates): screening, consent, REMS "
    "enrolment, preparation, baseline measures, spacing, safety flags",
    "weight": "A weight-based (mg/kg) dose needs the day's weight (clinical-facts §2b, §5.3)",
    "fasting." + ESKETAMINE: "Spravato label: no food for ≥2 h and no liquids for ≥30 min "
    "before dosing (nausea, vomiting) (clinical-facts §2a)",
    "fasting." + RACEMIC: "Practice setting: Ketalar label says give on an empty stomach, no "
    "duration; default the Spravato-style 2 h food / 30 min liquids; practices vary, e.g. 4 h "
    "nil by mouth (secondary) (clinical-facts §2b)",
    "bp." + ESKETAMINE: "Spravato label: assess BP before dosing, >140/90 as a general guide to "
    "delay (a clinical decision); phase-3 trials withheld dosing above 140/90, above 150 "
    "systolic if age >65 (clinical-facts §2a, §3)",
    "bp." + RACEMIC: "Practice setting: 140/90 is commonly attributed to Sanacora 2017 (APA "
    "consensus) but not verified (clinical-facts §2b, §8 item 1); the Spravato general guide "
    "is >140/90 (§2a)",
    "bp_hazard": "Swiss ketamine SmPC: contraindicated in uncontrolled hypertension with "
    "resting BP >180/100 mmHg (clinical-facts §2b, §3)",
    "heart_rate": "Practice setting: HR >110 is commonly attributed to Sanacora 2017, not "
    "verified (clinical-facts §2b, §8 item 1); Ketalar label: monitor HR (§2b)",
    "spo2": "Spravato label: pulse oximetry at every session (clinical-facts §2a); the "
    "threshold is a practice setting",
    "medicines": "Interactions taken on the day: clinical-facts §4; mixed evidence is a prompt, "
    "not a block (§8 item 8)",
    "pregnancy": "Spravato and Ketalar: not recommended in pregnancy (clinical-facts §3); "
    "pregnancy test where relevant (§5.3)",
    "suicide_screen": "PHQ-9 item 9 (or a positive C-SSRS): a same-day structured suicide-risk "
    "assessment, documented before the client leaves (clinical-facts §6.1); high risk needs a "
    "higher level of care (§3)",
    "escort": "Spravato label: someone drives the patient home (clinical-facts §2a); Ketalar "
    "label: released only with a responsible adult (§2b)",
    "intention": "Practice policy: the session's intention, set in preparation (KAP pathway, "
    "clinical-facts §7)",
}


@dataclass(frozen=True)
class PreDoseInputs:
    route: str
    age: int
    identity_confirmed: bool
    gates_open: bool
    gates_reason: str  # why not, when the course gates do not pass
    weight_kg_today: Decimal | None
    minutes_since_food: int | None
    minutes_since_liquid: int | None
    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    spo2: int | None
    # Interaction categories (kapcare.medications.interactions) taken today; None: not asked.
    medicines_today: tuple[str, ...] | None
    pregnancy_test: str  # negative, positive, not_applicable, missing
    phq9_item9_positive: bool | None  # None: no same-day answer
    cssrs_positive: bool | None
    suicide_reviewed_today: bool  # a clinician's same-day risk assessment is recorded
    escort_confirmed: bool
    intention_recorded: bool
    weight_based: bool | None = None  # None: by route (IV and IM are weight-based)


def pre_dose_checks(inputs: PreDoseInputs, params: DosingParameters) -> list[Check]:
    """Every pre-dose check with whether it passes and why, in the order a nurse works through
    them. Blocking checks hold the dose (a prescriber may override with a reason); the
    interaction categories and the missing suicide screen are prompts unless the practice's
    class for them is "hold"; the recorded intention is a prompt."""
    route_family = family(inputs.route)

    def check(
        code: str,
        title: str,
        passed: bool,
        reason: str,
        *,
        source: str | None = None,
        blocking: bool = True,
        overridable: bool = True,
    ) -> Check:
        return Check(
            code=code,
            title=title,
            passed=passed,
            reason=reason,
            source=source if source is not None else PRE_DOSE_SOURCES[code],
            blocking=blocking,
            overridable=overridable,
        )

    checks = [
        check(
            "identity",
            "Identity confirmed",
            inputs.identity_confirmed,
            "Confirmed." if inputs.identity_confirmed else "Identity not confirmed.",
        ),
        check(
            "gates",
            "Course gates still pass",
            inputs.gates_open,
            "All pass." if inputs.gates_open else inputs.gates_reason or "A course gate fails.",
        ),
    ]
    weight_based = (
        inputs.route in WEIGHT_BASED if inputs.weight_based is None else inputs.weight_based
    )
    if weight_based:
        weight = inputs.weight_kg_today
        weighed = weight is not None and weight > 0
        checks.append(
            check(
                "weight",
                "Weight today",
                weighed,
                f"{weight} kg." if weighed else "No weight today: the dose is in mg/kg.",
            )
        )
    checks += _fasting_checks(inputs, params.fasting[inputs.route], route_family, check)
    checks.append(_bp_check(inputs, params, route_family, check))
    if route_family == RACEMIC:
        checks.append(_bp_hazard_check(inputs, params, check))
    checks.append(
        _vital_check(
            check,
            "heart_rate",
            "Heart rate",
            "heart rate",
            inputs.heart_rate,
            "bpm",
            above=params.hr_above,
        )
    )
    checks.append(
        _vital_check(
            check,
            "spo2",
            "Oxygen saturation (SpO2)",
            "SpO2",
            inputs.spo2,
            "%",
            below=params.spo2_below,
        )
    )
    checks += _medicine_checks(inputs.medicines_today, params.medicine_classes)
    checks.append(_pregnancy_check(inputs.pregnancy_test, check))
    checks.append(_suicide_check(inputs, check))
    checks.append(
        check(
            "escort",
            "Escort home confirmed",
            inputs.escort_confirmed,
            "Confirmed."
            if inputs.escort_confirmed
            else "No one confirmed to take the client home (no driving until the next day).",
        )
    )
    checks.append(
        check(
            "intention",
            "Intention recorded",
            inputs.intention_recorded,
            "Recorded." if inputs.intention_recorded else "No intention recorded for the session.",
            blocking=False,
        )
    )
    return checks


class _CheckFactory(Protocol):
    def __call__(
        self,
        code: str,
        title: str,
        passed: bool,
        reason: str,
        *,
        source: str | None = None,
        blocking: bool = True,
        overridable: bool = True,
    ) -> Check: ...


def _fasting_checks(
    inputs: PreDoseInputs, rule: Fasting, route_family: str, check: _CheckFactory
) -> list[Check]:
    source = PRE_DOSE_SOURCES["fasting." + route_family]
    found = []
    for code, title, minutes, needed, what in (
        (
            "fasting_food",
            "No food before dosing",
            inputs.minutes_since_food,
            rule.food_minutes,
            "food",
        ),
        (
            "fasting_liquid",
            "No liquids before dosing",
            inputs.minutes_since_liquid,
            rule.liquid_minutes,
            "liquids",
        ),
    ):
        if minutes is None:
            passed, reason = False, f"Time since {what} not recorded."
        else:
            passed = minutes >= needed
            reason = f"{_duration(minutes)} since {what}; at least {_duration(needed)} needed."
        found.append(check(code, title, passed, reason, source=source))
    return found


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if hours:
        return f"{hours} h"
    return f"{rest} min"


def _bp_check(
    inputs: PreDoseInputs, params: DosingParameters, route_family: str, check: _CheckFactory
) -> Check:
    source = PRE_DOSE_SOURCES["bp." + route_family]
    if inputs.systolic is None or inputs.diastolic is None:
        return check(
            "bp",
            "Blood pressure",
            False,
            "No pre-dose blood pressure recorded.",
            source=source,
        )
    rule = params.bp_hold[route_family]
    systolic_limit, diastolic_limit = rule.limits(inputs.age)
    over = _over(inputs.systolic, inputs.diastolic, systolic_limit, diastolic_limit)
    shown = f"{inputs.systolic}/{inputs.diastolic} mmHg"
    older = f" (age {inputs.age}, over {rule.older_than})" if inputs.age > rule.older_than else ""
    if over:
        reason = f"{shown}: {over}{older}; hold unless a prescriber decides to dose."
    else:
        reason = f"{shown}: not above {systolic_limit}/{diastolic_limit}{older}."
    return check("bp", "Blood pressure", not over, reason, source=source)


def _over(systolic: int, diastolic: int, systolic_limit: int, diastolic_limit: int) -> str:
    """What is above its limit (strictly greater, as the sources word it), or ""."""
    parts = []
    if systolic > systolic_limit:
        parts.append(f"systolic above {systolic_limit}")
    if diastolic > diastolic_limit:
        parts.append(f"diastolic above {diastolic_limit}")
    return " and ".join(parts)


def _bp_hazard_check(
    inputs: PreDoseInputs, params: DosingParameters, check: _CheckFactory
) -> Check:
    systolic_limit, diastolic_limit = params.bp_hazard_racemic
    if inputs.systolic is None or inputs.diastolic is None:
        return check(
            "bp_hazard",
            "Blood pressure below the contraindication level",
            False,
            "No pre-dose blood pressure recorded.",
            overridable=False,
        )
    over = _over(inputs.systolic, inputs.diastolic, systolic_limit, diastolic_limit)
    shown = f"{inputs.systolic}/{inputs.diastolic} mmHg"
    return check(
        "bp_hazard",
        "Blood pressure below the contraindication level",
        not over,
        f"{shown}: {over}: a contraindication; do not dose (re-measure at rest)."
        if over
        else f"{shown}: not above {systolic_limit}/{diastolic_limit}.",
        overridable=False,
    )


def _vital_check(
    check: _CheckFactory,
    code: str,
    title: str,
    noun: str,
    value: int | None,
    unit: str,
    *,
    above: int | None = None,
    below: int | None = None,
) -> Check:
    if value is None:
        return check(code, title, False, f"No pre-dose {noun} recorded.")
    spaced = unit if unit == "%" else f" {unit}"
    if above is not None and value > above:
        return check(code, title, False, f"{value}{spaced}: above {above}{spaced}.")
    if below is not None and value < below:
        return check(code, title, False, f"{value}{spaced}: below {below}{spaced}.")
    limit = f"not above {above}{spaced}" if above is not None else f"not below {below}{spaced}"
    return check(code, title, True, f"{value}{spaced}: {limit}.")


def _medicine_checks(taken: tuple[str, ...] | None, classes: Mapping[str, str]) -> list[Check]:
    if taken is None:
        return [
            Check(
                code="medicines",
                title="Medicines taken today",
                passed=False,
                reason="Not asked: record what was taken today.",
                source=PRE_DOSE_SOURCES["medicines"],
            )
        ]
    unknown = [code for code in taken if code not in INTERACTIONS]
    if unknown:
        raise ValueError(f"medicines_today: unknown interaction category {unknown[0]!r}")
    if not taken:
        return [
            Check(
                code="medicines",
                title="Medicines taken today",
                passed=True,
                reason="None of the interacting medicines taken today.",
                source=PRE_DOSE_SOURCES["medicines"],
            )
        ]
    found = []
    for code in dict.fromkeys(taken):  # once each, in the order given
        category = INTERACTIONS[code]
        hold = classes.get(code, PROMPT) == HOLD
        found.append(
            Check(
                code=f"medicine.{code}",
                title=f"Taken today: {category.label}",
                passed=False,
                reason=category.effect + (" A prescriber decides before the dose." if hold else ""),
                source=f"{category.source}; class on the day: practice setting",
                blocking=hold,
            )
        )
    return found


def _pregnancy_check(result: str, check: _CheckFactory) -> Check:
    if result not in PREGNANCY_RESULTS:
        raise ValueError(
            f"pregnancy_test: unknown result {result!r}; one of {', '.join(PREGNANCY_RESULTS)}"
        )
    reasons = {
        "negative": "Negative today.",
        "not_applicable": "Not applicable.",
        "positive": "Positive: not recommended in pregnancy.",
        "missing": "No result today.",
    }
    return check(
        "pregnancy",
        "Pregnancy test",
        result in ("negative", "not_applicable"),
        reasons[result],
    )


def _suicide_check(inputs: PreDoseInputs, check: _CheckFactory) -> Check:
    positive = [
        name
        for name, value in (
            ("PHQ-9 item 9", inputs.phq9_item9_positive),
            ("C-SSRS", inputs.cssrs_positive),
        )
        if value
    ]
    if positive:
        named = " and ".join(positive)
        if inputs.suicide_reviewed_today:
            return check(
                "suicide_screen",
                "Same-day suicide screen",
                True,
                f"{named} positive; a clinician's risk assessment is recorded today.",
            )
        return check(
            "suicide_screen",
            "Same-day suicide screen",
            False,
            f"{named} positive today without a same-day clinician review: hold until a "
            "clinician records a risk assessment.",
        )
    if inputs.phq9_item9_positive is None and inputs.cssrs_positive is None:
        return check(
            "suicide_screen",
            "Same-day suicide screen",
            False,
            "No same-day suicide screen (PHQ-9 item 9 or C-SSRS) recorded.",
            blocking=False,
        )
    return check("suicide_screen", "Same-day suicide screen", True, "Negative today.")


# ---------------------------------------------------------------------------------------------
# Vitals: when they are due, whether they were taken, and alerts

VITALS_SOURCES = {
    INTRAVENOUS: "Published IV series: every 10 min during the infusion (Emory, Yale) and every "
    "15 min after (Emory) (clinical-facts §2b); observation length: practice setting",
    INTRANASAL: "Spravato label: BP before dosing, at ~40 min, then as clinically warranted; "
    "monitor ≥2 h (clinical-facts §2a)",
    INTRAMUSCULAR: "Practice setting: pre-dose, at the peak (~40 min; clinical-facts §7, §5.1) "
    "and before discharge",
    SUBLINGUAL: "Practice setting: pre-dose, at the peak (~40 min; clinical-facts §7) and "
    "before discharge",
    ORAL: "Practice setting: pre-dose, at the peak (default as sublingual, clinical-facts §7) "
    "and before discharge",
}

PRE_DOSE, DURING, AFTER, PEAK, DISCHARGE = "pre_dose", "during", "after", "peak", "discharge"


@dataclass(frozen=True)
class DueVitals:
    at: dt.datetime  # UTC
    label: str
    kind: str  # pre_dose, during, after, peak, discharge
    early_minutes: int = 0  # a reading this long before `at` (and the grace) also counts


def vitals_due(
    route: str,
    dose_at: dt.datetime,
    infusion_minutes: int,
    discharge_at: dt.datetime | None,
    params: DosingParameters,
) -> list[DueVitals]:
    """The vitals flowsheet's due times, sorted, one per moment, in UTC.

    `dose_at` is when dosing starts (the infusion starts, the first device). `infusion_minutes`
    is how long the dose takes to give: the infusion's length for IV; for the other routes the
    minutes to the last device or the lozenge's end, 0 if not known. The observation minimum
    runs from the end of the dose.

    IV: pre-dose, every 10 min during the infusion and at its end, then every 15 min until the
    observation minimum. Other routes: pre-dose, the mid-session reading (esketamine ~40 min
    after dosing, label) and before discharge. With `discharge_at`, nothing is due after it
    but the before-discharge reading (an early discharge, overridden, shortens the sheet)."""
    family(route)
    if infusion_minutes < 0:
        raise ValueError("infusion_minutes: must be 0 minutes or more")
    if route == INTRAVENOUS and infusion_minutes <= 0:
        raise ValueError("infusion_minutes: an infusion lasts more than 0 minutes")
    start = utc(dose_at)
    ends = start + dt.timedelta(minutes=infusion_minutes)
    observed_until = ends + dt.timedelta(minutes=params.observation_minutes[route])
    leaving = utc(discharge_at) if discharge_at is not None else None
    if leaving is not None and leaving < start:
        raise ValueError("discharge_at: discharge comes after the dose")

    def minutes(moment: dt.datetime) -> int:
        return int((moment - start).total_seconds() // 60)

    due: list[DueVitals] = [
        DueVitals(start, "Pre-dose", PRE_DOSE, early_minutes=params.pre_dose_window_minutes)
    ]
    if route == INTRAVENOUS:
        every = dt.timedelta(minutes=params.iv_during_every_minutes)
        moment = start + every
        while moment < ends:
            due.append(DueVitals(moment, f"{minutes(moment)} min, during infusion", DURING))
            moment += every
        due.append(DueVitals(ends, f"{minutes(ends)} min, end of infusion", DURING))
        every = dt.timedelta(minutes=params.iv_after_every_minutes)
        moment = ends + every
        while moment <= observed_until:
            due.append(DueVitals(moment, f"{minutes(moment)} min, after infusion", AFTER))
            moment += every
    else:
        peak = start + dt.timedelta(minutes=params.check_minutes[route])
        due.append(DueVitals(peak, f"{minutes(peak)} min after dosing", PEAK))
    before_leaving = leaving if leaving is not None else observed_until
    if leaving is not None:
        due = [item for item in due if item.kind == PRE_DOSE or item.at <= leaving]
    same = [item for item in due if item.at == before_leaving and item.kind != PRE_DOSE]
    if same:
        due = [
            replace(item, label=f"{item.label}; before discharge") if item in same else item
            for item in due
        ]
    elif before_leaving > start:
        due.append(DueVitals(before_leaving, "Before discharge", DISCHARGE))
    return sorted(due, key=lambda item: item.at)


DONE, DUE, MISSED, UPCOMING = "done", "due", "missed", "upcoming"


@dataclass(frozen=True)
class VitalsStatus:
    due: DueVitals
    state: str  # done, due, missed, upcoming
    reading_at: dt.datetime | None = None


def vitals_status(
    dues: Sequence[DueVitals],
    recorded_times: Iterable[dt.datetime],
    now: dt.datetime,
    grace_minutes: int,
) -> list[VitalsStatus]:
    """Each due time as done (a reading within ± `grace_minutes` of it, or in the pre-dose
    window before it), due (its window is open now), missed (its window closed without a
    reading) or upcoming. A reading counts for one due time only: each due time, earliest
    first, takes the earliest unused reading in its window."""
    if grace_minutes < 0:
        raise ValueError("grace_minutes: must be 0 minutes or more")
    grace = dt.timedelta(minutes=grace_minutes)
    now = utc(now)
    readings = sorted(utc(moment) for moment in recorded_times)
    used: set[int] = set()
    result = []
    for item in sorted(dues, key=lambda d: utc(d.at)):
        at = utc(item.at)
        opens = at - grace - dt.timedelta(minutes=item.early_minutes)
        closes = at + grace
        match = next(
            (
                index
                for index, moment in enumerate(readings)
                if index not in used and opens <= moment <= closes
            ),
            None,
        )
        if match is not None:
            used.add(match)
            result.append(VitalsStatus(item, DONE, readings[match]))
        elif now > closes:
            result.append(VitalsStatus(item, MISSED))
        elif now >= opens:
            result.append(VitalsStatus(item, DUE))
        else:
            result.append(VitalsStatus(item, UPCOMING))
    return result


@dataclass(frozen=True)
class Reading:
    at: dt.datetime | None = None
    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None

    @property
    def has_bp(self) -> bool:
        return self.systolic is not None and self.diastolic is not None


STOP, WATCH = "stop", "watch"  # stop: stop or modify dosing, a clinician assesses now

ALERT_SOURCES = {
    "bp_stop": "Practice setting: stop or modify at about 180/100, commonly attributed to "
    "Sanacora 2017, not verified (clinical-facts §2b, §8 item 1); Yip 2022 argues for treating "
    "end-organ signs rather than numbers",
    "bp_high": "Above the pre-dose hold level: Spravato label, keep monitoring until BP falls "
    "(clinical-facts §2a); racemic: practice setting (§2b)",
    "heart_rate": "Practice setting: HR >110, commonly attributed to Sanacora 2017, not "
    "verified (clinical-facts §2b, §8 item 1)",
    "spo2": "Spravato label: respiratory depression (boxed warning), pulse oximetry at every "
    "session (clinical-facts §2a); the threshold is a practice setting",
    "respiratory_rate": "Ketalar label: monitor respiratory rate (clinical-facts §2b); the "
    "threshold is a practice setting (no number in clinical-facts)",
}


@dataclass(frozen=True)
class Alert:
    code: str
    severity: str  # stop, watch
    value: str
    threshold: str
    reason: str
    source: str


def vitals_alerts(
    reading: Reading,
    baseline: Reading | None,
    params: DosingParameters,
    age: int,
    *,
    route: str,
) -> list[Alert]:
    """The alerts one reading raises, each naming the value, the threshold and the source.

    BP above the stop level (systolic or diastolic, strictly above) is a stop; above the route's
    pre-dose hold level, a watch (keep monitoring). HR above, SpO2 below and respiratory rate
    below their settings are stops. The rise from the baseline reading is named in the reason
    but raises nothing by itself (no sourced threshold)."""
    alerts: list[Alert] = []
    if reading.systolic is not None and reading.diastolic is not None:
        shown = f"{reading.systolic}/{reading.diastolic} mmHg"
        rise = ""
        if (
            baseline is not None
            and baseline.systolic is not None
            and baseline.diastolic is not None
        ):
            rise = (
                f" ({reading.systolic - baseline.systolic:+d}/"
                f"{reading.diastolic - baseline.diastolic:+d} from baseline "
                f"{baseline.systolic}/{baseline.diastolic})"
            )
        stop_systolic, stop_diastolic = params.bp_stop
        hold_systolic, hold_diastolic = params.bp_hold[family(route)].limits(age)
        stop = _over(reading.systolic, reading.diastolic, stop_systolic, stop_diastolic)
        high = _over(reading.systolic, reading.diastolic, hold_systolic, hold_diastolic)
        if stop:
            alerts.append(
                Alert(
                    "bp_stop",
                    STOP,
                    shown,
                    f">{stop_systolic}/{stop_diastolic} mmHg",
                    f"BP {shown}{rise}: {stop}: stop or modify dosing; a clinician assesses now.",
                    ALERT_SOURCES["bp_stop"],
                )
            )
        elif high:
            alerts.append(
                Alert(
                    "bp_high",
                    WATCH,
                    shown,
                    f">{hold_systolic}/{hold_diastolic} mmHg",
                    f"BP {shown}{rise}: {high}: recheck and keep monitoring.",
                    ALERT_SOURCES["bp_high"],
                )
            )
    if reading.heart_rate is not None and reading.heart_rate > params.hr_above:
        alerts.append(
            Alert(
                "heart_rate",
                STOP,
                f"{reading.heart_rate} bpm",
                f">{params.hr_above} bpm",
                f"Heart rate {reading.heart_rate} bpm: above {params.hr_above}.",
                ALERT_SOURCES["heart_rate"],
            )
        )
    if reading.spo2 is not None and reading.spo2 < params.spo2_below:
        alerts.append(
            Alert(
                "spo2",
                STOP,
                f"{reading.spo2}%",
                f"<{params.spo2_below}%",
                f"SpO2 {reading.spo2}%: below {params.spo2_below}%.",
                ALERT_SOURCES["spo2"],
            )
        )
    if reading.respiratory_rate is not None and reading.respiratory_rate < params.rr_below:
        alerts.append(
            Alert(
                "respiratory_rate",
                STOP,
                f"{reading.respiratory_rate}/min",
                f"<{params.rr_below}/min",
                f"Respiratory rate {reading.respiratory_rate}/min: below {params.rr_below}.",
                ALERT_SOURCES["respiratory_rate"],
            )
        )
    return alerts


# ---------------------------------------------------------------------------------------------
# Sedation (MOAA/S) and dissociation (CADSS) (clinical-facts §5.1, §5.2)

MOAAS_SOURCE = (
    "MOAA/S (Chernik 1990): 5 responds readily to name; Spravato program: 4 mild, ≤3 moderate "
    "or greater, 0 loss of consciousness (clinical-facts §5.2)"
)
ALERT_LEVEL, MILD, MODERATE_OR_GREATER, UNCONSCIOUS = (
    "alert",
    "mild",
    "moderate_or_greater",
    "loss_of_consciousness",
)
SEDATION_LABELS = {
    ALERT_LEVEL: "Alert (no sedation)",
    MILD: "Mild sedation",
    MODERATE_OR_GREATER: "Moderate or greater sedation",
    UNCONSCIOUS: "Loss of consciousness",
}


@dataclass(frozen=True)
class Sedation:
    score: int
    level: str
    label: str
    source: str = MOAAS_SOURCE


def moaas_level(score: int) -> Sedation:
    """The sedation level of a MOAA/S score (0–5; 5 is alert). Some papers use reversed 0–6 or
    1–6 variants: kapcare stores the 0–5 scale only."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 5:
        raise ValueError(f"score: a MOAA/S score is a whole number from 0 to 5, not {score!r}")
    if score == 5:
        level = ALERT_LEVEL
    elif score == 4:
        level = MILD
    elif score == 0:
        level = UNCONSCIOUS
    else:
        level = MODERATE_OR_GREATER
    return Sedation(score, level, SEDATION_LABELS[level])


# The CADSS versions in use (clinical-facts §5.2, §8 item 4: store the version with each score):
# code -> (label, items, highest total). Items are rated 0–4.
CADSS_VERSIONS: dict[str, tuple[str, int, int]] = {
    "cadss23": ("CADSS, 23 items (ketamine trials)", 23, 92),
    "cadss27": ("CADSS, 27 items (19 subject + 8 observer)", 27, 108),
    "cadss28": ("CADSS, 28 items (Bremner 2014 instructions)", 28, 112),
    "cadss6": ("CADSS-6 short form", 6, 24),
}
DISSOCIATION_SOURCE = (
    "Monitor until dissociation resolves (Spravato REMS, clinical-facts §2a, §5.3). The CADSS "
    "cut-off is uncertain: esketamine post-hoc analyses defined dissociation as a peak CADSS >4 "
    "(secondary source), and no cut-off discriminated well (clinical-facts §5.2)"
)


@dataclass(frozen=True)
class Dissociation:
    resolved: bool
    reason: str
    source: str = DISSOCIATION_SOURCE


def cadss_max(version: str) -> int:
    if version not in CADSS_VERSIONS:
        raise ValueError(
            f"version: unknown CADSS version {version!r}; one of {', '.join(CADSS_VERSIONS)}"
        )
    return CADSS_VERSIONS[version][2]


def dissociation_resolved(
    latest_cadss_total: int | None,
    version: str,
    params: DosingParameters,
    *,
    clinician_resolved: bool | None = None,
) -> Dissociation:
    """Whether dissociation has resolved: a clinician's explicit statement decides when there is
    one; otherwise the latest CADSS total at or below the practice's cut-off (default 4,
    uncertain)."""
    if clinician_resolved is True:
        return Dissociation(True, "A clinician recorded that dissociation has resolved.")
    if clinician_resolved is False:
        return Dissociation(False, "A clinician recorded that dissociation has not resolved.")
    if latest_cadss_total is None:
        return Dissociation(False, "No CADSS score since the dose and no clinician statement.")
    highest = cadss_max(version)
    if not 0 <= latest_cadss_total <= highest:
        raise ValueError(
            f"latest_cadss_total: a {version} total is from 0 to {highest}, "
            f"not {latest_cadss_total}"
        )
    cut_off = params.cadss_resolved_at_most
    if latest_cadss_total <= cut_off:
        return Dissociation(
            True, f"Latest CADSS ({version}) {latest_cadss_total}: at or below {cut_off}."
        )
    return Dissociation(False, f"Latest CADSS ({version}) {latest_cadss_total}: above {cut_off}.")


# ---------------------------------------------------------------------------------------------
# Discharge

DISCHARGE_SOURCES = {
    "observation." + ESKETAMINE: "Spravato label and REMS: monitor ≥2 h after every dose and "
    "until sedation, dissociation and respiratory depression resolve (clinical-facts §2a)",
    "observation." + RACEMIC: "Practice setting: no verified discharge time for racemic ketamine "
    "(clinical-facts §2b); default modelled on the Spravato 2 h (§2a)",
    "vitals": "Spravato label: leave when BP is falling and the patient is clinically stable, "
    "else keep monitoring (clinical-facts §2a); the pre-dose hold levels and vitals alerts",
    "bp_trend": "Spravato label: BP falling (clinical-facts §2a); procedural-sedation discharge: "
    "vital signs back to baseline (RCEM, §2b)",
    "sedation": "Sedation resolved is MOAA/S 5 (Spravato, J&J medical information, clinical-facts "
    "§5.1, §5.3)",
    "dissociation": DISSOCIATION_SOURCE,
    "escort": "Ketalar label: outpatients leave only with a responsible adult (clinical-facts "
    "§2b); Spravato: someone drives the patient home (§2a)",
    "no_driving": "Spravato label: no driving or machinery until the next day after a restful "
    "sleep (clinical-facts §2a); clinics commonly say 24 h (secondary, §2b, §7)",
}


@dataclass(frozen=True)
class DischargeInputs:
    route: str
    age: int
    dose_completed_at: dt.datetime  # the end of the dose (infusion end, last device, lozenge)
    now: dt.datetime
    readings: tuple[Reading, ...]  # the session's vitals, each with `at`
    baseline: Reading | None  # the pre-dose reading
    latest_moaas: int | None
    latest_cadss: int | None
    cadss_version: str
    clinician_dissociation_resolved: bool | None
    escort_present: bool
    no_driving_counselled: bool


def discharge_checks(inputs: DischargeInputs, params: DosingParameters) -> list[Check]:
    """Every discharge criterion with whether it passes and why. All are blocking: an early
    discharge (or any failed criterion) needs a prescriber's override with a reason
    (`may_discharge(checks, overrides)`)."""
    route_family = family(inputs.route)
    now = utc(inputs.now)
    ended = utc(inputs.dose_completed_at)
    if now < ended:
        raise ValueError("now: the discharge check comes after the dose")

    def check(code: str, title: str, passed: bool, reason: str, source_key: str = "") -> Check:
        return Check(
            code=code,
            title=title,
            passed=passed,
            reason=reason,
            source=DISCHARGE_SOURCES[source_key or code],
        )

    needed = params.observation_minutes[inputs.route]
    observed = int((now - ended).total_seconds() // 60)
    checks = [
        check(
            "observation",
            "Minimum observation",
            observed >= needed,
            f"Observed {_duration(observed)} since the dose ended; at least {_duration(needed)} "
            "needed.",
            "observation." + route_family,
        )
    ]
    timed = sorted(
        ((utc(r.at), r) for r in inputs.readings if r.at is not None and utc(r.at) <= now),
        key=lambda pair: pair[0],
    )
    pressures = [
        _Pressure(at, r.systolic, r.diastolic)
        for at, r in timed
        if r.systolic is not None and r.diastolic is not None
    ]
    since_dose = [p for p in pressures if p.at is not None and p.at >= ended]
    last = since_dose[-1] if since_dose else None
    latest = timed[-1][1] if timed else None
    checks.append(_discharge_vitals(last, latest, inputs, params, check))
    checks.append(_bp_trend(last, pressures, _pressure(inputs.baseline), check))
    if inputs.latest_moaas is None:
        checks.append(check("sedation", "Sedation resolved", False, "No MOAA/S since the dose."))
    else:
        sedation = moaas_level(inputs.latest_moaas)
        needed_score = params.discharge_moaas_at_least
        checks.append(
            check(
                "sedation",
                "Sedation resolved",
                sedation.score >= needed_score,
                f"MOAA/S {sedation.score} ({sedation.label.lower()}); {needed_score} needed.",
            )
        )
    dissociation = dissociation_resolved(
        inputs.latest_cadss,
        inputs.cadss_version,
        params,
        clinician_resolved=inputs.clinician_dissociation_resolved,
    )
    checks.append(
        check("dissociation", "Dissociation resolved", dissociation.resolved, dissociation.reason)
    )
    checks.append(
        check(
            "escort",
            "Responsible adult present",
            inputs.escort_present,
            "Present."
            if inputs.escort_present
            else "No responsible adult to take the client home.",
        )
    )
    checks.append(
        check(
            "no_driving",
            "No-driving counselling given",
            inputs.no_driving_counselled,
            "Given."
            if inputs.no_driving_counselled
            else "Not yet told: no driving until the next day after a restful sleep.",
        )
    )
    return checks


@dataclass(frozen=True)
class _Pressure:
    at: dt.datetime | None
    systolic: int
    diastolic: int

    def __str__(self) -> str:
        return f"{self.systolic}/{self.diastolic}"


def _pressure(reading: Reading | None) -> _Pressure | None:
    if reading is None or reading.systolic is None or reading.diastolic is None:
        return None
    return _Pressure(reading.at, reading.systolic, reading.diastolic)


class _DischargeCheckFactory(Protocol):
    def __call__(
        self, code: str, title: str, passed: bool, reason: str, source_key: str = ""
    ) -> Check: ...


def _discharge_vitals(
    last: _Pressure | None,
    latest: Reading | None,
    inputs: DischargeInputs,
    params: DosingParameters,
    check: _DischargeCheckFactory,
) -> Check:
    """The last BP since the dose under the hold level, and the latest reading raising no
    stop alert (heart rate, SpO2, respiratory rate)."""
    title = "Vitals acceptable"
    if last is None or latest is None:
        return check("vitals", title, False, "No blood pressure since the dose ended.")
    systolic_limit, diastolic_limit = params.bp_hold[family(inputs.route)].limits(inputs.age)
    over = _over(last.systolic, last.diastolic, systolic_limit, diastolic_limit)
    if over:
        return check("vitals", title, False, f"Last BP {last} mmHg: {over}; keep monitoring.")
    stops = [
        alert
        for alert in vitals_alerts(latest, inputs.baseline, params, inputs.age, route=inputs.route)
        if alert.severity == STOP
    ]
    if stops:
        return check("vitals", title, False, " ".join(alert.reason for alert in stops))
    return check(
        "vitals", title, True, f"Last BP {last} mmHg: not above {systolic_limit}/{diastolic_limit}."
    )


def _bp_trend(
    last: _Pressure | None,
    pressures: Sequence[_Pressure],
    baseline: _Pressure | None,
    check: _DischargeCheckFactory,
) -> Check:
    """Back to baseline (neither value above it), or falling: neither value above the reading
    before, and at least one lower."""
    title = "Blood pressure falling or back to baseline"
    if last is None:
        return check("bp_trend", title, False, "No blood pressure since the dose ended.")
    if (
        baseline is not None
        and last.systolic <= baseline.systolic
        and last.diastolic <= baseline.diastolic
    ):
        return check("bp_trend", title, True, f"{last}: back to baseline {baseline}.")
    earlier = [p for p in pressures if p.at is not None and last.at is not None and p.at < last.at]
    if not earlier:
        return check(
            "bp_trend", title, False, f"{last}: above baseline, and no earlier reading to compare."
        )
    previous = earlier[-1]
    falling = (
        last.systolic <= previous.systolic
        and last.diastolic <= previous.diastolic
        and (last.systolic < previous.systolic or last.diastolic < previous.diastolic)
    )
    if falling:
        return check("bp_trend", title, True, f"{last}: falling from {previous}.")
    return check(
        "bp_trend",
        title,
        False,
        f"{last}: not falling from {previous} and above baseline; keep monitoring.",
    )


# ---------------------------------------------------------------------------------------------
# The esketamine REMS Patient Monitoring Form (clinical-facts §2a)

REMS_SOURCE = (
    "Spravato REMS: complete a Patient Monitoring Form after every session and submit it "
    '"within 7 days" (clinical-facts §2a); kapcare counts calendar days, weekends and holidays '
    "included"
)
ON_TIME, REMS_DUE, OVERDUE, SUBMITTED_LATE = "on_time", "due", "overdue", "submitted_late"
REMS_LABELS = {
    ON_TIME: "Submitted on time",
    REMS_DUE: "Due",
    OVERDUE: "Overdue",
    SUBMITTED_LATE: "Submitted late",
}


def rems_deadline(session_date: dt.date, days: int = 7) -> dt.date:
    """The last day to submit the form: `days` calendar days after the session (weekends and
    holidays count; the REMS says "within 7 days", the default of the parameter
    dosing.rems_form_days). A Monday session is due by the next Monday."""
    if days < 0:
        raise ValueError("days: must be 0 days or more")
    return session_date + dt.timedelta(days=days)


@dataclass(frozen=True)
class RemsStatus:
    state: str
    label: str
    reason: str
    source: str = REMS_SOURCE


def rems_status(deadline: dt.date, submitted_on: dt.date | None, today: dt.date) -> RemsStatus:
    """Submitted on or before the deadline: on time; after it: submitted late. Not submitted:
    due until the end of the deadline day, overdue from the day after."""

    def status(state: str, reason: str) -> RemsStatus:
        return RemsStatus(state, REMS_LABELS[state], reason)

    if submitted_on is not None:
        if submitted_on <= deadline:
            return status(ON_TIME, f"Submitted {submitted_on:%b %-d}, due by {deadline:%b %-d}.")
        late = (submitted_on - deadline).days
        return status(
            SUBMITTED_LATE,
            f"Submitted {submitted_on:%b %-d}, {late} day{'s' if late != 1 else ''} after the "
            f"deadline {deadline:%b %-d}.",
        )
    left = (deadline - today).days
    if left >= 0:
        when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
        return status(REMS_DUE, f"Due by {deadline:%b %-d} ({when}).")
    return status(
        OVERDUE,
        f"Not submitted; the deadline was {deadline:%b %-d}, {-left} day"
        f"{'s' if left != -1 else ''} ago.",
    )
