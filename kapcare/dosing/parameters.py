"""The dosing rules' parameters: every threshold of the pre-dose check, the dose limits, the
vitals flowsheet and alerts, the discharge check and the REMS form, with its default, unit,
plausible range, source (clinical-facts sections) and how sure that source is. Label rules
(esketamine) are read in the label; racemic ketamine (IV, IM, sublingual, oral) is off-label, so
its numbers are practice settings whose defaults name where they come from, or say that nothing
verified backs them. A practice changes a value by signing off a new version
(kapcare.parameters.services.parameter_sign_off); `dosing_parameters(values)` turns the values in
force into the `DosingParameters` the rules take.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from kapcare.dosing import rules
from kapcare.medications.interactions import CATEGORIES
from kapcare.parameters import registry
from kapcare.parameters.registry import Evidence, Parameter, define

LIMITS = "Dosing: dose limits"
HOLDS = "Dosing: pre-dose holds"
VITALS = "Dosing: vitals"
DISCHARGE = "Dosing: discharge"
REMS = "Dosing: REMS"

HOLD_CHOICES = (
    (rules.HOLD, "Hold: a prescriber decides before the dose"),
    (rules.PROMPT, "Prompt: shown to the dosing team"),
)

ROUTE_NAMES = {
    rules.SUBLINGUAL: "Sublingual",
    rules.ORAL: "Oral",
    rules.INTRAMUSCULAR: "IM",
    rules.INTRAVENOUS: "IV",
    rules.INTRANASAL: "Esketamine",
}

PRACTICE_FASTING = (
    "Practice setting: the Ketalar label says give on an empty stomach without a duration; "
    "default the Spravato-style rule, no food 2 h and no liquids 30 min (clinical-facts §2b)"
)
PRACTICE_OBSERVATION = (
    "Practice setting: no verified discharge time for racemic ketamine (clinical-facts §2b); "
    "default modelled on the Spravato label's ≥2 h (§2a); sessions run 2.5–3 h in KAP "
    "practices (§7)"
)
UNVERIFIED_SANACORA = (
    "commonly attributed to Sanacora 2017 (APA consensus), not verified (clinical-facts §2b, "
    "§8 item 1)"
)


def _int(
    key: str,
    label: str,
    group: str,
    default: int,
    unit: str,
    low: int,
    high: int,
    source: str,
    evidence: str,
    *,
    alternatives: tuple[str, ...] = (),
    help: str = "",
) -> Parameter:
    return Parameter(
        key=key,
        label=label,
        group=group,
        kind="int",
        default=default,
        unit=unit,
        minimum=low,
        maximum=high,
        source=source,
        evidence=evidence,
        alternatives=alternatives,
        help=help,
    )


def _decimal(
    key: str,
    label: str,
    group: str,
    default: str,
    unit: str,
    low: str,
    high: str,
    source: str,
    evidence: str,
    *,
    alternatives: tuple[str, ...] = (),
    help: str = "",
) -> Parameter:
    return Parameter(
        key=key,
        label=label,
        group=group,
        kind="decimal",
        default=default,
        unit=unit,
        minimum=Decimal(low),
        maximum=Decimal(high),
        source=source,
        evidence=evidence,
        alternatives=alternatives,
        help=help,
    )


def _limits() -> list[Parameter]:
    return [
        _int(
            "dosing.esketamine_max_mg",
            "Esketamine: maximum per session",
            LIMITS,
            84,
            "mg",
            28,
            84,
            "Spravato label: 84 mg per session is the highest labelled dose (clinical-facts §2a, "
            "§2d)",
            Evidence.READ,
            help="A hard stop: a dose above it is not given.",
        ),
        _int(
            "dosing.esketamine_first_dose_mg",
            "Esketamine: first dose (induction day 1)",
            LIMITS,
            56,
            "mg",
            28,
            84,
            "US Spravato label: TRD induction day 1 is 56 mg (clinical-facts §2a)",
            Evidence.READ,
        ),
        _int(
            "dosing.esketamine_older_age",
            "Esketamine: age from which the EU label starts lower",
            LIMITS,
            65,
            "years",
            50,
            90,
            "EU/HK Spravato label: age ≥65 starts at 28 mg (clinical-facts §2a, §2d)",
            Evidence.READ,
        ),
        _int(
            "dosing.esketamine_older_first_dose_mg",
            "Esketamine: first dose from that age (EU label)",
            LIMITS,
            28,
            "mg",
            28,
            84,
            "EU/HK Spravato label: age ≥65 starts at 28 mg (clinical-facts §2a, §2d)",
            Evidence.READ,
            help="Shown as a note, not a hold: the US label's day 1 is 56 mg.",
        ),
        _int(
            "dosing.esketamine_device_interval_minutes",
            "Esketamine: rest between devices",
            LIMITS,
            5,
            "minutes",
            5,
            30,
            "Spravato label: rest 5 minutes between devices (clinical-facts §2a)",
            Evidence.READ,
        ),
        _decimal(
            "dosing.iv_max_mg_per_kg",
            "IV racemic ketamine: maximum per session",
            LIMITS,
            "1",
            "mg/kg",
            "0.1",
            "2",
            "Practice setting. Default 1.0 mg/kg, the highest dose studied and effective (Fava "
            "2018, single dose); 0.5 mg/kg over 40 min is the standard; escalation beyond 0.5 is "
            "individual practice (clinical-facts §2b, §2d)",
            Evidence.PRACTICE,
            alternatives=("0.5 mg/kg: the most studied dose (Fava; ELEKT-D, clinical-facts §2b)",),
            help="A hard stop: raise it by signing off a new value, not case by case.",
        ),
        _decimal(
            "dosing.im_max_mg_per_kg",
            "IM racemic ketamine: maximum per session",
            LIMITS,
            "1",
            "mg/kg",
            "0.1",
            "2",
            "Practice setting with no verified number: KAP IM doses 'often 0.5–1.0+ mg/kg' are "
            "not verified (clinical-facts §2c, §8 item 3); the anaesthetic IM 6.5–13 mg/kg is "
            "the do-not-exceed reference (§2d). A conservative default: confirm it",
            Evidence.UNVERIFIED,
            help="A hard stop: raise it by signing off a new value, not case by case.",
        ),
        _int(
            "dosing.sublingual_max_mg",
            "Sublingual (lozenge) ketamine: maximum per session",
            LIMITS,
            400,
            "mg",
            10,
            600,
            "Practice setting. Default: the CTP lozenge method's general range 100–400 mg "
            "(clinical-facts §2c, §2d)",
            Evidence.PRACTICE,
            help="A hard stop: raise it by signing off a new value, not case by case.",
        ),
        _int(
            "dosing.oral_max_mg",
            "Oral ketamine: maximum per session",
            LIMITS,
            300,
            "mg",
            10,
            600,
            "Practice setting. Default: the oral review's fixed doses 25–300 mg (Andrade 2019; "
            "'must be considered experimental') (clinical-facts §2c, §2d)",
            Evidence.PRACTICE,
            help="A hard stop: raise it by signing off a new value, not case by case.",
        ),
        _decimal(
            "dosing.dose_step_mg",
            "Weight-based dose: round to the nearest",
            LIMITS,
            "0.1",
            "mg",
            "0.01",
            "10",
            "Practice setting: what the practice can measure; half-up rounding (kapcare default)",
            Evidence.PRACTICE,
        ),
        _int(
            "dosing.iv_infusion_minutes",
            "IV infusion length",
            LIMITS,
            40,
            "minutes",
            10,
            240,
            "0.5 mg/kg IV over 40 min is the most studied regimen (Fava 2018; ELEKT-D) "
            "(clinical-facts §2b)",
            Evidence.READ,
        ),
    ]


def _holds() -> list[Parameter]:
    found = [
        _int(
            "dosing.fast_food_minutes.intranasal",
            "Esketamine: no food before dosing for",
            HOLDS,
            120,
            "minutes",
            0,
            720,
            "Spravato label: no food for ≥2 h before dosing (clinical-facts §2a)",
            Evidence.READ,
        ),
        _int(
            "dosing.fast_liquid_minutes.intranasal",
            "Esketamine: no liquids before dosing for",
            HOLDS,
            30,
            "minutes",
            0,
            480,
            "Spravato label: no liquids for ≥30 min before dosing (clinical-facts §2a)",
            Evidence.READ,
        ),
    ]
    for route in rules.RACEMIC_ROUTES:
        name = ROUTE_NAMES[route]
        found += [
            _int(
                f"dosing.fast_food_minutes.{route}",
                f"{name}: no food before dosing for",
                HOLDS,
                120,
                "minutes",
                0,
                720,
                PRACTICE_FASTING,
                Evidence.PRACTICE,
                alternatives=("Nothing by mouth for 4 h (clinic page, secondary; §2b)",),
            ),
            _int(
                f"dosing.fast_liquid_minutes.{route}",
                f"{name}: no liquids before dosing for",
                HOLDS,
                30,
                "minutes",
                0,
                480,
                PRACTICE_FASTING,
                Evidence.PRACTICE,
            ),
        ]
    found += [
        _int(
            "dosing.hold_systolic.esketamine",
            "Esketamine: hold when systolic BP is above",
            HOLDS,
            140,
            "mmHg",
            110,
            180,
            "Spravato label: >140/90 as a general guide to delay (a clinical decision); phase-3 "
            "trials withheld dosing above 140/90 (clinical-facts §2a, §3)",
            Evidence.READ,
        ),
        _int(
            "dosing.hold_diastolic.esketamine",
            "Esketamine: hold when diastolic BP is above",
            HOLDS,
            90,
            "mmHg",
            70,
            110,
            "Spravato label: >140/90 as a general guide to delay; trial hold rule >90 diastolic "
            "(clinical-facts §2a, §3)",
            Evidence.READ,
        ),
        _int(
            "dosing.hold_older_than.esketamine",
            "Esketamine: the older-age systolic limit applies above age",
            HOLDS,
            65,
            "years",
            50,
            90,
            "Esketamine phase-3 trials: >150 systolic if age >65, a trial rule, not the label "
            "(J&J medical information, clinical-facts §2a)",
            Evidence.READ,
        ),
        _int(
            "dosing.hold_systolic_older.esketamine",
            "Esketamine: hold when systolic BP is above, over that age",
            HOLDS,
            150,
            "mmHg",
            110,
            180,
            "Esketamine phase-3 trials: >150 systolic if age >65, a trial rule, not the label "
            "(J&J medical information, clinical-facts §2a)",
            Evidence.READ,
        ),
        _int(
            "dosing.hold_systolic.racemic",
            "Racemic ketamine: hold when systolic BP is above",
            HOLDS,
            140,
            "mmHg",
            110,
            180,
            f"Practice setting: 140/90 is {UNVERIFIED_SANACORA}; the Spravato general guide is "
            ">140/90 (§2a); the verified anchor is the Swiss SmPC contraindication >180/100",
            Evidence.UNVERIFIED,
        ),
        _int(
            "dosing.hold_diastolic.racemic",
            "Racemic ketamine: hold when diastolic BP is above",
            HOLDS,
            90,
            "mmHg",
            70,
            110,
            f"Practice setting: 140/90 is {UNVERIFIED_SANACORA}; the Spravato general guide is "
            ">140/90 (§2a)",
            Evidence.UNVERIFIED,
        ),
        _int(
            "dosing.hold_older_than.racemic",
            "Racemic ketamine: the older-age systolic limit applies above age",
            HOLDS,
            65,
            "years",
            50,
            90,
            "Practice setting: no age rule is sourced for racemic ketamine; the esketamine "
            "trials used age >65 (clinical-facts §2a)",
            Evidence.PRACTICE,
        ),
        _int(
            "dosing.hold_systolic_older.racemic",
            "Racemic ketamine: hold when systolic BP is above, over that age",
            HOLDS,
            140,
            "mmHg",
            110,
            180,
            "Practice setting: no age rule is sourced for racemic ketamine, so the default is "
            "the same as under that age; the esketamine trials used >150 over 65 (§2a)",
            Evidence.PRACTICE,
        ),
        _int(
            "dosing.hazard_systolic.racemic",
            "Racemic ketamine: do not dose when resting systolic BP is above",
            HOLDS,
            180,
            "mmHg",
            140,
            220,
            "Swiss ketamine SmPC: contraindicated in uncontrolled hypertension with resting BP "
            ">180/100 mmHg (clinical-facts §2b, §3)",
            Evidence.READ,
            help="A hard stop (a contraindication): re-measure at rest.",
        ),
        _int(
            "dosing.hazard_diastolic.racemic",
            "Racemic ketamine: do not dose when resting diastolic BP is above",
            HOLDS,
            100,
            "mmHg",
            80,
            130,
            "Swiss ketamine SmPC: contraindicated in uncontrolled hypertension with resting BP "
            ">180/100 mmHg (clinical-facts §2b, §3)",
            Evidence.READ,
            help="A hard stop (a contraindication): re-measure at rest.",
        ),
    ]
    found += [
        Parameter(
            key=f"dosing.medicine_today.{category.code}",
            label=f"Taken on the dosing day: {category.label}",
            group=HOLDS,
            kind="choice",
            default=rules.PROMPT if category.default_class == "prompt" else rules.HOLD,
            choices=HOLD_CHOICES,
            source=f"{category.source}. Prompts, not holds, where the evidence is mixed "
            "(clinical-facts §8 item 8); the class follows the screen's default",
            evidence=Evidence.PRACTICE,
        )
        for category in CATEGORIES
    ]
    return found


def _vitals() -> list[Parameter]:
    found = [
        _int(
            "dosing.vitals.iv_during_every_minutes",
            "IV: vitals during the infusion every",
            VITALS,
            10,
            "minutes",
            5,
            30,
            "Published series: BP every 10 min during the infusion (Emory, 684 infusions; "
            "Yale, 2342 infusions) (clinical-facts §2b)",
            Evidence.READ,
        ),
        _int(
            "dosing.vitals.iv_after_every_minutes",
            "IV: vitals after the infusion every",
            VITALS,
            15,
            "minutes",
            5,
            60,
            "Published series: BP every 15 min after the infusion (Emory, 684 infusions) "
            "(clinical-facts §2b)",
            Evidence.READ,
            alternatives=("Gdańsk: at 0/15/30/45/60/90 min (clinical-facts §2b)",),
        ),
        _int(
            "dosing.vitals.check_minutes.intranasal",
            "Esketamine: vitals after dosing at",
            VITALS,
            40,
            "minutes",
            10,
            120,
            "Spravato label: reassess BP at ~40 min after dosing, the peak of the rise "
            "(clinical-facts §2a)",
            Evidence.READ,
        ),
    ]
    for route in (rules.SUBLINGUAL, rules.ORAL, rules.INTRAMUSCULAR):
        found.append(
            _int(
                f"dosing.vitals.check_minutes.{route}",
                f"{ROUTE_NAMES[route]}: vitals after dosing at",
                VITALS,
                40,
                "minutes",
                5,
                120,
                "Practice setting: at the peak; sublingual peaks at ~40 min (Sage, "
                "clinical-facts §7), IM effect ~60 min (§2c), BP peaks at 40 min after IV "
                "(Yale, §2b) and esketamine (§2a)",
                Evidence.PRACTICE,
            )
        )
    found += [
        _int(
            "dosing.vitals.pre_dose_window_minutes",
            "A reading counts as pre-dose within",
            VITALS,
            60,
            "minutes before the dose",
            5,
            240,
            "Practice setting (kapcare default): the labels say 'before dosing' without a window "
            "(clinical-facts §2a)",
            Evidence.PRACTICE,
        ),
        _int(
            "dosing.vitals.grace_minutes",
            "A reading counts for a due time within",
            VITALS,
            5,
            "minutes either side",
            0,
            15,
            "Practice setting (kapcare default): the label's '~40 minutes' is approximate "
            "(clinical-facts §2a)",
            Evidence.PRACTICE,
        ),
        _int(
            "dosing.alert.stop_systolic",
            "Stop or modify dosing when systolic BP is above",
            VITALS,
            180,
            "mmHg",
            140,
            230,
            f"Practice setting: about 180/100 is {UNVERIFIED_SANACORA}; Yip 2022 argues for "
            "treating end-organ signs rather than numbers",
            Evidence.UNVERIFIED,
        ),
        _int(
            "dosing.alert.stop_diastolic",
            "Stop or modify dosing when diastolic BP is above",
            VITALS,
            100,
            "mmHg",
            80,
            140,
            f"Practice setting: about 180/100 is {UNVERIFIED_SANACORA}",
            Evidence.UNVERIFIED,
        ),
        _int(
            "dosing.alert.hr_above",
            "Alert when heart rate is above",
            VITALS,
            110,
            "bpm",
            80,
            160,
            f"Practice setting: HR >110 is {UNVERIFIED_SANACORA}; Ketalar label: monitor HR (§2b)",
            Evidence.UNVERIFIED,
            help="Also holds the dose when above it before dosing.",
        ),
        _int(
            "dosing.alert.spo2_below",
            "Alert when SpO2 is below",
            VITALS,
            92,
            "%",
            85,
            98,
            "Practice setting: the Spravato label requires pulse oximetry at every session "
            "(respiratory depression, boxed warning) but gives no number (clinical-facts §2a)",
            Evidence.PRACTICE,
            help="Also holds the dose when below it before dosing.",
        ),
        _int(
            "dosing.alert.rr_below",
            "Alert when respiratory rate is below",
            VITALS,
            10,
            "breaths/min",
            4,
            16,
            "Practice setting with no number in clinical-facts: the Ketalar label says monitor "
            "respiratory rate (§2b); set by the practice's medical director",
            Evidence.PRACTICE,
        ),
    ]
    return found


def _discharge() -> list[Parameter]:
    found = [
        _int(
            "dosing.observation_minutes.intranasal",
            "Esketamine: minimum observation after the dose",
            DISCHARGE,
            120,
            "minutes",
            120,
            480,
            "Spravato label and REMS: monitor ≥2 h after every dose, until sedation, "
            "dissociation and respiratory depression resolve (clinical-facts §2a)",
            Evidence.READ,
            help="Counted from the last device. Earlier discharge needs a prescriber's override.",
        ),
    ]
    for route in rules.RACEMIC_ROUTES:
        name = ROUTE_NAMES[route]
        found.append(
            _int(
                f"dosing.observation_minutes.{route}",
                f"{name}: minimum observation after the dose",
                DISCHARGE,
                120,
                "minutes",
                30,
                480,
                PRACTICE_OBSERVATION,
                Evidence.PRACTICE,
                alternatives=("IV: BP back to baseline within 1.5 h (Gdańsk, §2b)",),
                help="Counted from the end of the dose. Earlier discharge needs a prescriber's "
                "override.",
            )
        )
    found += [
        _int(
            "dosing.discharge_moaas_at_least",
            "Discharge: MOAA/S at least",
            DISCHARGE,
            5,
            "points",
            4,
            5,
            "Sedation resolved is MOAA/S 5 (Spravato, J&J medical information, clinical-facts "
            "§5.1); discharge checklist MOAA/S 5 (§5.3)",
            Evidence.READ,
        ),
        _int(
            "dosing.cadss_resolved_at_most",
            "Discharge: dissociation resolved at a CADSS total of at most",
            DISCHARGE,
            4,
            "points",
            0,
            20,
            "Esketamine post-hoc analyses defined dissociation as a peak CADSS >4 (secondary "
            "source, uncertain); no CADSS cut-off discriminated well (clinical-facts §5.2). A "
            "clinician's explicit statement decides instead",
            Evidence.SECONDARY,
        ),
    ]
    return found


def _rems() -> list[Parameter]:
    return [
        _int(
            "dosing.rems_form_days",
            "REMS Patient Monitoring Form: submit within",
            REMS,
            7,
            "calendar days",
            1,
            7,
            "Spravato REMS: submit the Patient Monitoring Form within 7 days of every session "
            "(clinical-facts §2a); weekends and holidays count",
            Evidence.READ,
            help="The REMS changes from time to time: re-check spravatorems.com (§8 item 9).",
        ),
    ]


PARAMETERS = _limits() + _holds() + _vitals() + _discharge() + _rems()
define(*PARAMETERS)
ALL_KEYS = tuple(parameter.key for parameter in PARAMETERS)


def default_values() -> dict[str, registry.Value]:
    """The shipped defaults, as `dosing_parameters` takes them (tests, a practice not yet
    signed off)."""
    return {key: registry.get(key).default for key in ALL_KEYS}


def dosing_parameters(values: Mapping[str, registry.Value]) -> rules.DosingParameters:
    """The values in force (e.g. kapcare.parameters.selectors.values_for(ALL_KEYS)) as the
    rules take them. A key missing from `values` is a KeyError naming it."""

    def whole(key: str) -> int:
        return int(values[key])

    def decimal(key: str) -> Decimal:
        return Decimal(str(values[key]))

    def per_route(prefix: str, routes: tuple[str, ...] = rules.ROUTES) -> dict[str, int]:
        return {route: whole(f"{prefix}.{route}") for route in routes}

    def bp_hold(kind: str) -> rules.BpHold:
        return rules.BpHold(
            systolic=whole(f"dosing.hold_systolic.{kind}"),
            diastolic=whole(f"dosing.hold_diastolic.{kind}"),
            older_than=whole(f"dosing.hold_older_than.{kind}"),
            older_systolic=whole(f"dosing.hold_systolic_older.{kind}"),
        )

    return rules.DosingParameters(
        limits=rules.DoseLimits(
            esketamine_max_mg=whole("dosing.esketamine_max_mg"),
            iv_max_mg_per_kg=decimal("dosing.iv_max_mg_per_kg"),
            im_max_mg_per_kg=decimal("dosing.im_max_mg_per_kg"),
            sublingual_max_mg=whole("dosing.sublingual_max_mg"),
            oral_max_mg=whole("dosing.oral_max_mg"),
        ),
        esketamine_start=rules.EsketamineStart(
            first_dose_mg=whole("dosing.esketamine_first_dose_mg"),
            older_age=whole("dosing.esketamine_older_age"),
            older_first_dose_mg=whole("dosing.esketamine_older_first_dose_mg"),
        ),
        device_interval_minutes=whole("dosing.esketamine_device_interval_minutes"),
        iv_infusion_minutes=whole("dosing.iv_infusion_minutes"),
        dose_step_mg=decimal("dosing.dose_step_mg"),
        fasting={
            route: rules.Fasting(
                food_minutes=whole(f"dosing.fast_food_minutes.{route}"),
                liquid_minutes=whole(f"dosing.fast_liquid_minutes.{route}"),
            )
            for route in rules.ROUTES
        },
        bp_hold={rules.ESKETAMINE: bp_hold("esketamine"), rules.RACEMIC: bp_hold("racemic")},
        bp_hazard_racemic=(
            whole("dosing.hazard_systolic.racemic"),
            whole("dosing.hazard_diastolic.racemic"),
        ),
        bp_stop=(whole("dosing.alert.stop_systolic"), whole("dosing.alert.stop_diastolic")),
        hr_above=whole("dosing.alert.hr_above"),
        spo2_below=whole("dosing.alert.spo2_below"),
        rr_below=whole("dosing.alert.rr_below"),
        medicine_classes={
            category.code: str(values[f"dosing.medicine_today.{category.code}"])
            for category in CATEGORIES
        },
        iv_during_every_minutes=whole("dosing.vitals.iv_during_every_minutes"),
        iv_after_every_minutes=whole("dosing.vitals.iv_after_every_minutes"),
        check_minutes=per_route(
            "dosing.vitals.check_minutes",
            (rules.INTRANASAL, rules.SUBLINGUAL, rules.ORAL, rules.INTRAMUSCULAR),
        ),
        pre_dose_window_minutes=whole("dosing.vitals.pre_dose_window_minutes"),
        grace_minutes=whole("dosing.vitals.grace_minutes"),
        observation_minutes=per_route("dosing.observation_minutes"),
        cadss_resolved_at_most=whole("dosing.cadss_resolved_at_most"),
        discharge_moaas_at_least=whole("dosing.discharge_moaas_at_least"),
        rems_form_days=whole("dosing.rems_form_days"),
    )
