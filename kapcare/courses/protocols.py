"""The protocols kapcare ships with, as data: for each route, how many preparation sessions come
before the first dose, how doses are spaced, the integration rule, session lengths, when the
course is reviewed, and what is measured when. Every value carries its source (clinical-facts §2
and §7); values that are practice policy say so and are meant to be changed by the practice.
"""

from __future__ import annotations

from dataclasses import dataclass

from kapcare.courses.schedule import Anchor, MeasureRule


@dataclass(frozen=True)
class Sourced:
    value: int
    source: str
    version: int = 0  # the practice's signed-off version; 0 = the shipped default


# The settings a practice may change (each a versioned rule parameter: kapcare.courses.parameters),
# with the label, unit and the range a person may sign off.
SETTINGS: tuple[tuple[str, str, str, int, int], ...] = (
    ("prep_min", "Preparation sessions required before the first dose", "sessions", 0, 20),
    ("prep_max", "Preparation sessions planned at most", "sessions", 0, 30),
    ("induction_doses", "Dosing sessions in the induction series", "doses", 1, 30),
    ("min_days_between_doses", "Minimum days between dosing sessions", "days", 0, 60),
    ("integration_within_hours", "Integration window after each dose", "hours", 1, 336),
    ("integrations_per_dose", "Integration sessions needed in the window", "sessions", 0, 5),
    ("dosing_minutes", "Dosing session length", "minutes", 30, 600),
    ("prep_minutes", "Preparation session length", "minutes", 15, 240),
    ("integration_minutes", "Integration session length", "minutes", 15, 240),
    ("review_after_doses", "Review of the course after this many doses", "doses", 1, 60),
    (
        "maintenance_days_between_doses",
        "Maintenance: days between booster doses",
        "days",
        1,
        180,
    ),
)
SETTING_NAMES = tuple(name for name, *_ in SETTINGS)


@dataclass(frozen=True)
class Protocol:
    code: str
    name: str
    route: str  # sublingual, intramuscular, intravenous, intranasal
    prep_min: Sourced
    prep_max: Sourced
    induction_doses: Sourced
    min_days_between_doses: Sourced
    integration_within_hours: Sourced
    integrations_per_dose: Sourced
    dosing_minutes: Sourced
    prep_minutes: Sourced
    integration_minutes: Sourced
    review_after_doses: Sourced
    maintenance_days_between_doses: Sourced
    measures: tuple[MeasureRule, ...]
    needs_rems: bool = False


PRACTICE = "practice policy: the practice sets its own value"
INTEGRATION = Sourced(
    72,
    "At least one integration session within 72 h after each dose (practice default; Balance "
    "Health 1–3 days after IM/IV, clinical-facts §7)",
)
ONE = Sourced(1, "At least one integration session after each dose (practice default)")
PREP_MIN = Sourced(5, "Seed practices: 5–10 preparation sessions (Sage: ≥3; Hanya: 2; §7)")
PREP_MAX = Sourced(10, "Seed practices: 5–10 preparation sessions (clinical-facts §7)")
TALK = Sourced(60, PRACTICE)
BOOSTERS = Sourced(
    28,
    "Boosters as needed, often every ~4–6 weeks and widening (clinic reports, not verified; "
    "clinical-facts §7): practice policy",
)

# Measurement schedules (the event-anchored rules of kapcare.courses.schedule). Field Trip
# measured PHQ-9, GAD-7 at 1, 3 and 6 months (clinical-facts §2c, §7); PHQ-9 each visit and
# before/after the series is practice convention (§7).
COMMON_MEASURES = (
    MeasureRule(("phq9", "gad7"), Anchor.COURSE_START, offsets_hours=(0,), window_hours=72),
    MeasureRule(("phq9",), Anchor.BEFORE_EACH_DOSE, offsets_hours=(-24,), window_hours=24),
    MeasureRule(("phq9",), Anchor.AFTER_EACH_DOSE, offsets_hours=(24, 72), window_hours=24),
    MeasureRule(
        ("phq9", "gad7"),
        Anchor.AFTER_LAST_DOSE,
        offsets_hours=(24 * 30, 24 * 91, 24 * 182),
        window_hours=24 * 7,
    ),
)

PROTOCOLS: tuple[Protocol, ...] = (
    Protocol(
        code="kap_sublingual",
        name="KAP, sublingual lozenge (psycholytic)",
        route="sublingual",
        prep_min=PREP_MIN,
        prep_max=PREP_MAX,
        induction_doses=Sourced(6, "6 dosing sessions (Hanya: 6 over 3 weeks; Field Trip 4–6; §7)"),
        min_days_between_doses=Sourced(
            3, "6 sessions over 3 weeks, about twice weekly (Hanya, §7)"
        ),
        integration_within_hours=INTEGRATION,
        integrations_per_dose=ONE,
        dosing_minutes=Sourced(180, "Dosing session about 2.5–3 h in person (Sage, §7)"),
        prep_minutes=TALK,
        integration_minutes=TALK,
        review_after_doses=Sourced(
            6, "Review at the end of the series (ASA 2025: a defined course and endpoint, §7)"
        ),
        maintenance_days_between_doses=BOOSTERS,
        measures=COMMON_MEASURES,
    ),
    Protocol(
        code="kap_intramuscular",
        name="KAP, intramuscular",
        route="intramuscular",
        prep_min=PREP_MIN,
        prep_max=PREP_MAX,
        induction_doses=Sourced(6, "4–6 guided sessions (Field Trip, clinical-facts §2c)"),
        min_days_between_doses=Sourced(3, PRACTICE),
        integration_within_hours=INTEGRATION,
        integrations_per_dose=ONE,
        dosing_minutes=Sourced(180, "Dosing session about 2.5–3 h in person (Sage, §7)"),
        prep_minutes=TALK,
        integration_minutes=TALK,
        review_after_doses=Sourced(6, "Review at the end of the series (ASA 2025, §7)"),
        maintenance_days_between_doses=BOOSTERS,
        measures=COMMON_MEASURES,
    ),
    Protocol(
        code="iv_racemic",
        name="IV racemic ketamine 0.5 mg/kg over 40 min",
        route="intravenous",
        prep_min=Sourced(1, PRACTICE),
        prep_max=PREP_MAX,
        induction_doses=Sourced(6, "Induction: 6 infusions over 2–3 weeks (ELEKT-D, §2b)"),
        min_days_between_doses=Sourced(2, "Twice to three times weekly (ELEKT-D; KetECT, §2b)"),
        integration_within_hours=INTEGRATION,
        integrations_per_dose=ONE,
        dosing_minutes=Sourced(
            120, "40-minute infusion with monitoring after it (§2b); length: practice policy"
        ),
        prep_minutes=TALK,
        integration_minutes=TALK,
        review_after_doses=Sourced(6, "Response judged after 3 weeks, 6 infusions (ELEKT-D, §7)"),
        maintenance_days_between_doses=BOOSTERS,
        measures=COMMON_MEASURES,
    ),
    Protocol(
        code="esketamine",
        name="Esketamine nasal spray (label schedule)",
        route="intranasal",
        prep_min=Sourced(1, PRACTICE),
        prep_max=PREP_MAX,
        induction_doses=Sourced(8, "Induction twice weekly in weeks 1–4 (Spravato label, §2a)"),
        min_days_between_doses=Sourced(2, "Twice weekly in weeks 1–4 (Spravato label, §2a)"),
        integration_within_hours=INTEGRATION,
        integrations_per_dose=ONE,
        dosing_minutes=Sourced(
            120, "Monitoring at least 2 h after every dose (Spravato label and REMS, §2a)"
        ),
        prep_minutes=TALK,
        integration_minutes=TALK,
        review_after_doses=Sourced(
            8, "Evaluate therapeutic benefit at the end of week 4 (Spravato label, §2a)"
        ),
        maintenance_days_between_doses=Sourced(
            7,
            "Weekly in weeks 5–8, then weekly or every 2 weeks, least frequent that keeps the "
            "response (Spravato label, §2a)",
        ),
        measures=COMMON_MEASURES,
        needs_rems=True,
    ),
)

BY_CODE = {protocol.code: protocol for protocol in PROTOCOLS}
