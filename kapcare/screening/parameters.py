"""The screening rules' parameters: every threshold and every finding's class, with its default
and source (clinical-facts §1, §3, §4). A practice changes them by signing off a new version."""

from __future__ import annotations

from kapcare.medications.interactions import CATEGORIES
from kapcare.parameters.registry import Evidence, Parameter, define

CLASS_CHOICES = (
    ("absolute", "Absolute: not eligible"),
    ("relative", "Relative: prescriber review"),
    ("prompt", "Prompt: shown to the prescriber"),
)
YES_NO = (("yes", "Yes"), ("no", "No"))

TRD = "Treatment resistance"
THRESHOLDS = "Screen thresholds"
FINDINGS = "Finding classes"
INTERACTIONS = "Interaction classes"
TRAUMA = "Trauma profile"

define(
    Parameter(
        key="trd.min_trial_weeks",
        label="Adequate trial: minimum duration",
        group=TRD,
        kind="int",
        default=6,
        unit="weeks",
        minimum=2,
        maximum=26,
        source="MGH-ATRQ: an adequate trial is ≥6 weeks at an adequate dose (clinical-facts §1.2)",
        evidence=Evidence.READ,
        alternatives=("ATHF: ≥4 weeks (clinical-facts §1.2)",),
        help="A trial counts as adequate only after this long in the current episode.",
    ),
    Parameter(
        key="trd.failed_trials_for_trd",
        label="Failed adequate trials that define treatment resistance",
        group=TRD,
        kind="int",
        default=2,
        unit="trials",
        minimum=1,
        maximum=6,
        source="FDA Spravato label; EU SmPC: ≥2 antidepressants in the current episode "
        "(clinical-facts §1.1)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="trd.partial_response_is_failure",
        label="A partial response counts as a failed trial",
        group=TRD,
        kind="choice",
        default="yes",
        choices=YES_NO,
        source='FDA Spravato label: "inadequate response to 2 or more oral antidepressants" '
        "(clinical-facts §1.1)",
        evidence=Evidence.READ,
        alternatives=(
            "MGH-ATRQ: only non-response (≤25% improvement) counts (clinical-facts §1.2)",
        ),
    ),
    Parameter(
        key="msm.moderately_severe_maps_to",
        label="Maudsley severity for a PHQ-9 'moderately severe' score",
        group=TRD,
        kind="choice",
        default="moderate",
        choices=(("moderate", "Moderate (3 points)"), ("severe", "Severe (4 points)")),
        source="kapcare default: the MSM has no 'moderately severe' category; the clinician may "
        "set the severity on the history instead",
        evidence=Evidence.UNVERIFIED,
    ),
    Parameter(
        key="screen.bp_hazard_systolic",
        label="Resting systolic BP at which a rise is a serious hazard",
        group=THRESHOLDS,
        kind="int",
        default=180,
        unit="mmHg",
        minimum=140,
        maximum=220,
        source="Swiss ketamine SmPC: resting BP >180/100 (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.bp_hazard_diastolic",
        label="Resting diastolic BP at which a rise is a serious hazard",
        group=THRESHOLDS,
        kind="int",
        default=100,
        unit="mmHg",
        minimum=80,
        maximum=130,
        source="Swiss ketamine SmPC: resting BP >180/100 (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.bp_review_systolic",
        label="Systolic BP above which the prescriber reviews",
        group=THRESHOLDS,
        kind="int",
        default=140,
        unit="mmHg",
        minimum=110,
        maximum=180,
        source="Spravato label and trials: hold above 140/90 (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.bp_review_diastolic",
        label="Diastolic BP above which the prescriber reviews",
        group=THRESHOLDS,
        kind="int",
        default=90,
        unit="mmHg",
        minimum=70,
        maximum=110,
        source="Spravato label and trials: hold above 140/90 (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.bp_review_systolic_over_65",
        label="Systolic BP above which the prescriber reviews, over age 65",
        group=THRESHOLDS,
        kind="int",
        default=150,
        unit="mmHg",
        minimum=110,
        maximum=180,
        source="Esketamine trials: >150 systolic over age 65 (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.cardiac_event_months",
        label="Myocardial infarction, unstable angina or revascularisation counts as recent within",
        group=THRESHOLDS,
        kind="int",
        default=12,
        unit="months",
        minimum=1,
        maximum=60,
        source="Excluded from Spravato phase-3 trials within 12 months (J&J medical information, "
        "clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.sud_recent_months",
        label="Substance use counts as recent within",
        group=THRESHOLDS,
        kind="int",
        default=3,
        unit="months",
        minimum=1,
        maximum=60,
        source="Field Trip trial NCT05604794: SUD within the past 3 months excluded "
        "(clinical-facts §3)",
        evidence=Evidence.READ,
        alternatives=("Psyon: ≥1 year abstinence (clinical-facts §3)",),
    ),
    Parameter(
        key="screen.bmi_above",
        label="BMI above which the prescriber reviews",
        group=THRESHOLDS,
        kind="decimal",
        default="35",
        unit="kg/m²",
        minimum=25,
        maximum=60,
        source="Field Trip NCT05604794: obesity BMI >35, relative (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.min_age",
        label="Minimum age",
        group=THRESHOLDS,
        kind="int",
        default=18,
        unit="years",
        minimum=16,
        maximum=30,
        source="Spravato is not approved in pediatrics (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="screen.benzodiazepine_lorazepam_mg",
        label="Benzodiazepine daily dose above which the prescriber reviews",
        group=THRESHOLDS,
        kind="decimal",
        default="3",
        unit="mg lorazepam-equivalent/day",
        minimum=1,
        maximum=20,
        source="Trial exclusion example, PMC10812090 (clinical-facts §3)",
        evidence=Evidence.READ,
    ),
    Parameter(
        key="trauma.pcl5_cutpoint",
        label="PCL-5 total that marks the plan as trauma-focused",
        group=TRAUMA,
        kind="int",
        default=33,
        unit="points",
        minimum=31,
        maximum=33,
        source="PCL-5 provisional PTSD cut-point, published range 31–33 (clinical-facts §6.1)",
        evidence=Evidence.READ,
    ),
)


# Each finding the screen can produce: its code, title, default class and source.
FINDING_RULES: dict[str, tuple[str, str, str]] = {
    "aneurysm_avm": (
        "Aneurysmal vascular disease or arteriovenous malformation",
        "absolute",
        "Spravato label: contraindication (clinical-facts §3)",
    ),
    "intracerebral_haemorrhage": (
        "History of intracerebral haemorrhage",
        "absolute",
        "Spravato label: contraindication (clinical-facts §3)",
    ),
    "hypersensitivity": (
        "Hypersensitivity to ketamine, esketamine or excipients",
        "absolute",
        "Spravato and Ketalar labels: contraindication (clinical-facts §3)",
    ),
    "hypertension_uncontrolled": (
        "Uncontrolled hypertension",
        "absolute",
        "Ketalar: where a significant rise in BP would be a serious hazard (clinical-facts §3)",
    ),
    "bp_hazard": (
        "Resting blood pressure at the serious-hazard level",
        "absolute",
        "Swiss ketamine SmPC: resting BP >180/100; Ketalar (clinical-facts §3)",
    ),
    "bp_high": (
        "Blood pressure above the hold level",
        "relative",
        "Spravato label: delay/hold above 140/90; trials: >150 systolic over 65 "
        "(clinical-facts §3)",
    ),
    "hyperthyroidism": (
        "Untreated hyperthyroidism or thyrotoxicosis",
        "absolute",
        "Swiss SmPC contraindication; part of Ketalar's BP-hazard list (clinical-facts §3)",
    ),
    "preeclampsia": (
        "Pre-eclampsia or eclampsia",
        "absolute",
        "Swiss SmPC contraindication (clinical-facts §3)",
    ),
    "cardiac_recent": (
        "Recent myocardial infarction, unstable angina or revascularisation",
        "relative",
        "Excluded from Spravato phase-3 trials (J&J medical information, clinical-facts §3)",
    ),
    "cardiac_past": (
        "Past myocardial infarction, unstable angina or revascularisation",
        "prompt",
        "Spravato phase-3 exclusion applied to the past 12 months only (clinical-facts §3)",
    ),
    "stroke_tia": (
        "History of stroke or TIA",
        "relative",
        "Excluded from Spravato phase-3 trials; in Ketalar's BP-hazard list (clinical-facts §3)",
    ),
    "raised_icp": (
        "Raised intracranial pressure",
        "relative",
        "Ketalar: use with great caution; Spravato where a rise poses serious risk "
        "(clinical-facts §3)",
    ),
    "raised_iop": (
        "Raised intraocular pressure, untreated glaucoma or eye injury/surgery",
        "relative",
        "Ketalar caution; Spravato trial exclusion (clinical-facts §3)",
    ),
    "pregnancy": (
        "Pregnancy (current or possible)",
        "relative",
        "Spravato: not recommended; Ketalar: not recommended in pregnancy (clinical-facts §3)",
    ),
    "breastfeeding": (
        "Breastfeeding",
        "relative",
        "Spravato: not recommended (clinical-facts §3)",
    ),
    "psychosis": (
        "History of psychosis, schizophrenia or schizoaffective disorder",
        "relative",
        "Spravato label: assess carefully, only if benefit outweighs risk; excluded by trials and "
        "many KAP programmes (clinical-facts §3)",
    ),
    "psychosis_family": (
        "First-degree relative with a psychotic disorder",
        "relative",
        "Excluded by KAP programmes (e.g. Psyon) and trials (clinical-facts §3)",
    ),
    "bipolar": (
        "Bipolar disorder or past mania/hypomania",
        "relative",
        "Spravato label (psychosis risk); trial exclusion (clinical-facts §3)",
    ),
    "mania_current": (
        "Current mania or hypomania",
        "relative",
        "Trial exclusion, PMC10812090 (clinical-facts §3)",
    ),
    "sud_recent": (
        "Substance use disorder: current or recent",
        "relative",
        "Spravato label: careful consideration; Field Trip excluded the past 3 months "
        "(clinical-facts §3)",
    ),
    "sud_past": (
        "Substance use disorder in remission",
        "prompt",
        "Spravato label: monitor; Psyon requires ≥1 year abstinence (clinical-facts §3)",
    ),
    "ketamine_misuse": (
        "History of ketamine or PCP misuse",
        "relative",
        "Spravato label: abuse and diversion risk, Schedule III (clinical-facts §3)",
    ),
    "hepatic_severe": (
        "Severe hepatic impairment (Child-Pugh C)",
        "relative",
        "Spravato: not recommended in severe impairment (clinical-facts §3)",
    ),
    "hepatic_moderate": (
        "Moderate hepatic impairment",
        "prompt",
        "Spravato: longer monitoring; Ketalar: consider dose reduction, LFTs (clinical-facts §3)",
    ),
    "bladder": (
        "Lower urinary tract or bladder disease",
        "relative",
        "Ketamine labels: monitor; cystitis with chronic use (clinical-facts §3)",
    ),
    "bmi": (
        "BMI above the review level",
        "relative",
        "Field Trip NCT05604794: relative, not absolute (clinical-facts §3)",
    ),
    "age": (
        "Below the minimum age",
        "relative",
        "Spravato not approved in pediatrics (clinical-facts §3)",
    ),
    "personality_disorder": (
        "Severe personality disorder impeding cooperation",
        "relative",
        "Psyon exclusion (clinical-facts §3)",
    ),
    "suicide_risk": (
        "High suicide risk",
        "relative",
        "Spravato label: does not preclude the need for hospitalisation; needs a higher level of "
        "care (clinical-facts §3)",
    ),
    "benzodiazepine_dose": (
        "Benzodiazepine dose above the review level",
        "relative",
        "Trial exclusion example, PMC10812090 (clinical-facts §3)",
    ),
    "benzodiazepine_dose_unknown": (
        "Benzodiazepine daily dose not known",
        "prompt",
        "Trial exclusion example above 3 mg lorazepam-equivalent/day, PMC10812090; the dose "
        "or the drug's lorazepam equivalent is missing (clinical-facts §3)",
    ),
    "not_trd": (
        "Treatment resistance not established",
        "relative",
        "FDA/EU esketamine indication: ≥2 failed antidepressants in the current episode "
        "(clinical-facts §1.1)",
    ),
    "unverified_medication": (
        "Medication not in the catalogue",
        "prompt",
        "kapcare: an unverified drug cannot be checked for interactions; check it by hand",
    ),
}

define(
    *(
        Parameter(
            key=f"class.{code}",
            label=title,
            group=FINDINGS,
            kind="choice",
            default=default,
            choices=CLASS_CHOICES,
            source=source,
            evidence=Evidence.READ if default == "absolute" else Evidence.PRACTICE,
        )
        for code, (title, default, source) in FINDING_RULES.items()
    ),
    *(
        Parameter(
            key=f"class.interaction.{category.code}",
            label=category.label,
            group=INTERACTIONS,
            kind="choice",
            default=category.default_class,
            choices=CLASS_CHOICES,
            source=category.source,
            evidence=Evidence.PRACTICE,
        )
        for category in CATEGORIES
    ),
)

THRESHOLD_KEYS = (
    "trd.min_trial_weeks",
    "trd.failed_trials_for_trd",
    "trd.partial_response_is_failure",
    "msm.moderately_severe_maps_to",
    "screen.bp_hazard_systolic",
    "screen.bp_hazard_diastolic",
    "screen.bp_review_systolic",
    "screen.bp_review_diastolic",
    "screen.bp_review_systolic_over_65",
    "screen.cardiac_event_months",
    "screen.sud_recent_months",
    "screen.bmi_above",
    "screen.min_age",
    "screen.benzodiazepine_lorazepam_mg",
    "trauma.pcl5_cutpoint",
)
CLASS_KEYS = tuple(f"class.{code}" for code in FINDING_RULES) + tuple(
    f"class.interaction.{category.code}" for category in CATEGORIES
)
ALL_KEYS = THRESHOLD_KEYS + CLASS_KEYS
