"""Dosing sessions in a synthetic network: the whole record of each held dosing appointment, as
the dosing services would have written it on the day.

A session has its pre-dose check (judged by `rules.pre_dose_checks`), the dose (drawn from the
clinic's lot of the period, see kapcare.synthetic.network_stock), vitals every 10 to 20 minutes
following a rise to about 40 minutes and back (the IV schedule of `rules.vitals_due` for
infusions), MOAA/S and CADSS at the peak and before discharge, side effects in some sessions,
the therapeutic work (music, EMDR sets for trauma-focused courses, somatic work), adverse events
now and then, the discharge (judged by `rules.discharge_checks`, every criterion met at the end
of the observation minimum) and both signatures. About 2 in 100 sessions have a blood pressure
reading past the stop level: the vital-signs SafetyFlag (rule "bp_stop") the vitals service
raises, reviewed and closed by a prescriber or nurse. An esketamine session gets its REMS
Patient Monitoring Form, filled as `rems.rems_form_fill` fills it, mostly submitted on time.

Doses stay inside the protocol and practice parameters (kapcare.dosing.parameters): sublingual
100 to 300 mg (clinical-facts §2c), IM 0.5 to 1.0 mg/kg, IV 0.5 mg/kg over the order's infusion
time (§2b), esketamine 56 or 84 mg from 56 mg on the first day (28 mg from age 65, §2a). How
often each thing happens (side effects, excursions, adverse events) is a plausible synthetic
choice, not a clinical figure.

The pre-dose and discharge checks are judged by the rules themselves; since judging 600,000
sessions one by one takes minutes, the judged checks are kept by what they depend on (each
check by the inputs that go into it, a discharge by its readings) and reused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from kapcare.clients.models import SexAtBirth
from kapcare.dosing import rules
from kapcare.dosing.models import (
    Relatedness,
    ScaleKind,
    Seriousness,
    SessionState,
    Severity,
    SideEffect,
    WorkKind,
)
from kapcare.dosing.rems import (
    BP_SOURCE,
    MEDICINES_SOURCE,
    MISSING_LABELS,
    REMS_MEDICINE_GROUPS,
    RESPIRATORY_SOURCE,
    SCHEMA_VERSION,
    SITE_SOURCE,
    _alert,
    _bp_point,
    bp_points,
)
from kapcare.dosing.services import _check_json
from kapcare.medications.interactions import BY_CODE as INTERACTION_CODES
from kapcare.safety.models import FlagKind
from kapcare.safety.models import Severity as FlagSeverity
from kapcare.synthetic.network_draw import Weighted, between, one
from kapcare.synthetic.network_tables import NetworkTables
from kapcare.synthetic.network_writer import JsonText, dumps

MINUTE = dt.timedelta(minutes=1)
MINUTES = tuple(dt.timedelta(minutes=n) for n in range(24 * 60))  # MINUTES[n]: n minutes
CADSS_VERSION = "cadss23"  # the version most ketamine trials use (clinical-facts §5.2)
# Minutes after the dose of the readings of a non-IV session, besides the one before discharge
# (the peak, `check_minutes`, is added from the parameters).
READ_AT = (15, 30, 60, 80, 100)
FOOD_MINUTES = (180, 240, 300, 360, 480, 600, 720)
LIQUID_MINUTES = (45, 60, 90, 120, 180)
IM_CONCENTRATION = Decimal(100)  # mg/mL, drawn straight from the vial
# The rise of systolic, diastolic and heart rate at the peak: (lowest, highest) by route.
RISES = {
    rules.SUBLINGUAL: ((4, 2, 2), (18, 9, 8)),
    rules.INTRANASAL: ((8, 4, 2), (24, 11, 8)),
    rules.INTRAMUSCULAR: ((8, 4, 3), (22, 11, 10)),
}

SIDE_EFFECTS: dict[str, tuple[tuple[str, int, tuple[str, ...]], ...]] = {
    # route -> (effect, weight, notes)
    "any": (
        (
            SideEffect.NAUSEA,
            5,
            ("Came on as the effects peaked; no vomiting.", "Mild queasiness; sips of water."),
        ),
        (
            SideEffect.DIZZINESS,
            5,
            ("On sitting up; settled lying back.", "Lightheaded when turning the head."),
        ),
        (SideEffect.HEADACHE, 3, ("Frontal, eased by the end of the session.",)),
        (SideEffect.ANXIETY, 3, ("At onset; settled with grounding and the therapist's voice.",)),
        (
            SideEffect.EMOTIONAL_DISTRESS,
            2,
            ("Tearful with a painful memory; supported, settled.",),
        ),
        (SideEffect.DISORIENTATION, 1, ("Briefly unsure of the time; reoriented easily.",)),
        (SideEffect.SEDATION, 1, ("Drowsy after the peak; rousable to voice.",)),
        (SideEffect.VOMITING, 1, ("Once, into a bag; felt better after.",)),
        (SideEffect.VERTIGO, 1, ("Room spinning with eyes open; eyeshade back on helped.",)),
    ),
}
SIDE_EFFECT_CHANCE = {
    rules.SUBLINGUAL: 0.25,
    rules.INTRAMUSCULAR: 0.35,
    rules.INTRAVENOUS: 0.35,
    rules.INTRANASAL: 0.45,
}
SEVERITIES: Weighted[str] = Weighted(
    ((Severity.MILD, 75), (Severity.MODERATE, 22), (Severity.SEVERE, 3))
)
# MOAA/S at the peak by route (5 is alert).
SEDATION_SL = Weighted(((5, 60), (4, 35), (3, 5)))
SEDATION_ESKETAMINE = Weighted(((5, 35), (4, 50), (3, 15)))
SEDATION_INJECTED = Weighted(((5, 15), (4, 60), (3, 25)))

MUSIC = (
    "Eyeshade and headphones; the client's instrumental playlist.",
    "Eyeshade and the practice's ambient playlist.",
    "Headphones with the client's own music; eyeshade declined.",
)
EMDR = (
    "Three sets of bilateral tapping on the target image from preparation; the client "
    "described the image as further away after the third set.",
    "Two sets of bilateral tapping on the memory agreed in preparation; processing moved on "
    "between sets.",
    "Four sets of bilateral tapping; the client moved from the loss to memories of better times.",
    "Bilateral audio tones during the target memory; distress eased over the sets.",
)
SOMATIC = {
    "breathwork": "Paced breathing with a hand on the chest as the effects eased.",
    "body_awareness": "Body scan guided by the therapist; attention to where tension sat.",
    "movement": "Slow movement of the arms and shoulders as the client wished.",
}
NOTES = (
    "Tearful, then calm; spoke about a loss for the first time in the course. To pick up at "
    "integration.",
    "Quiet and inward for most of the session; described a sense of spaciousness.",
    "Spoke about the exhaustion of the last years; felt heard.",
    "Laughed at an old memory; noticed the heaviness lift for a while.",
)
ANTIEMETIC = "Ondansetron orally disintegrating tablet, per the standing order."
INTENTIONS = (
    "Notice what is underneath the numbness without pushing it away.",
    "Stay with the heaviness in my chest and see what it wants.",
    "Let the sadness be there and find what still matters.",
    "Feel my body instead of thinking about it.",
    "Meet the anger without being swept away.",
    "Rest, and notice if anything lifts.",
    "Find the part of me that got through it.",
    "Let the guilt soften.",
    "Check in with the steadiness; keep it going.",
)
ADVERSE_EVENTS = (
    # event, severity, seriousness, related, action, outcome
    (
        "Vomiting after the peak",
        Severity.MODERATE,
        Seriousness.NOT_SERIOUS,
        Relatedness.RELATED,
        "Antiemetic given; observed until settled.",
        "Resolved before discharge.",
    ),
    (
        "Panic during onset",
        Severity.MODERATE,
        Seriousness.NOT_SERIOUS,
        Relatedness.RELATED,
        "Grounding with the therapist; no medicine needed.",
        "Settled within 20 minutes.",
    ),
    (
        "Unsteady on standing",
        Severity.MILD,
        Seriousness.NOT_SERIOUS,
        Relatedness.POSSIBLY,
        "Sat back down; assisted to the bathroom; discharge when steady.",
        "Steady by discharge.",
    ),
    (
        "Headache after the session",
        Severity.MILD,
        Seriousness.NOT_SERIOUS,
        Relatedness.POSSIBLY,
        "Fluids; paracetamol as the client's own.",
        "Gone by the next morning (integration call).",
    ),
)
SERIOUS_EVENTS = (
    (
        "Fainted on standing after the session",
        Severity.SEVERE,
        Seriousness.SERIOUS,
        Relatedness.POSSIBLY,
        "Laid flat, vitals checked; transferred to the emergency department for evaluation.",
        "Evaluated and sent home the same evening.",
    ),
    (
        "Chest pain during the session",
        Severity.SEVERE,
        Seriousness.SERIOUS,
        Relatedness.UNLIKELY,
        "Session stopped; emergency services called.",
        "Assessed in the emergency department; cardiac causes excluded.",
    ),
)
BP_EVENT_ACTION = (
    "Bedside review by the prescriber; rechecked after 5 minutes, then at the scheduled checks. "
    "No antihypertensive needed."
)
BP_EVENT_OUTCOME = "Falling from the recheck; back to the pre-dose level before discharge."
PAPER = "Session monitored and discharged in the clinic."


class Vitals(NamedTuple):
    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int
    respiratory_rate: int | None = 14


class Row(NamedTuple):
    """A vitals reading as charted: when, what, by whom."""

    at: dt.datetime
    vitals: Vitals
    by: int


@dataclass
class Visit:
    """What a dosing session needs to know about its client, course and appointment."""

    client: int
    legal_name: str
    born: dt.date
    sex: str
    course: int
    route: str
    modalities: Sequence[str]
    first_dose_of_course: bool
    dose_index: int  # 0-based over the course
    appointment: int
    starts_at: dt.datetime
    day: dt.date
    monitor: int
    therapist: int
    prescriber: int
    weight: Decimal | None
    item9_today: bool | None  # None: no PHQ-9 that day
    reviewed_today: bool
    baseline: Vitals
    dose_target: int  # mg: sublingual 100-300, esketamine 56 or 84
    im_rate: Decimal
    product: str
    lot: str
    expires_on: dt.date
    rems_reference: str | None
    rems_enrolled_on: dt.date | None


@dataclass
class Charted:
    """What the stock log needs about a session's dose."""

    dose: int
    dose_mg: Decimal
    given_at: dt.datetime
    given_by: int


@dataclass
class SessionStats:
    sessions: int = 0
    excursions: int = 0
    adverse_events: int = 0
    serious_events: int = 0
    rems_forms: int = 0


def _age(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - (0 if (day.month, day.day) >= (born.month, born.day) else 1)


# ---------------------------------------------------------------------------------------------
# Judged checks, kept by what they depend on


class PreChecks:
    """The pre-dose check as `rules.pre_dose_checks` judges it, assembled from checks judged once
    per distinct value of the inputs each depends on (in the order the rules give them), as the
    JSON text the session stores."""

    def __init__(self, params: rules.DosingParameters) -> None:
        self.params = params
        self.reference = rules.PreDoseInputs(
            route=rules.SUBLINGUAL,
            age=40,
            identity_confirmed=True,
            gates_open=True,
            gates_reason="",
            weight_kg_today=Decimal(70),
            minutes_since_food=240,
            minutes_since_liquid=60,
            systolic=120,
            diastolic=78,
            heart_rate=70,
            spo2=98,
            medicines_today=(),
            pregnancy_test="not_applicable",
            phq9_item9_positive=False,
            cssrs_positive=None,
            suicide_reviewed_today=False,
            escort_confirmed=True,
            intention_recorded=True,
        )
        # Each part: code -> (the check lets the dose go ahead, its JSON text).
        self._parts: dict[tuple[Any, ...], dict[str, tuple[bool, str]]] = {}
        # The checks' order by (route, medicines): (part index, code) each; empty: judge whole.
        self._orders: dict[tuple[Any, ...], list[tuple[int, str]]] = {}

    def _part(self, key: tuple[Any, ...], **changes: Any) -> dict[str, tuple[bool, str]]:
        """The checks of one part (`key[0]`) for these values of its inputs."""
        found = self._parts.get(key)
        if found is None:
            inputs = dataclasses.replace(self.reference, route=key[1], **changes)
            found = {
                c.code: (rules.may_dose([c]), dumps(_check_json(c)))
                for c in rules.pre_dose_checks(inputs, self.params)
                if _group(c.code) == key[0]
            }
            self._parts[key] = found
        return found

    def judge(
        self,
        *,
        route: str,
        age: int,
        weight: Decimal | None,
        food: int,
        liquid: int,
        systolic: int,
        diastolic: int,
        heart_rate: int,
        spo2: int,
        medicines: tuple[str, ...],
        pregnancy: str,
        item9: bool | None,
        reviewed: bool,
    ) -> tuple[str, bool]:
        """The checks as JSON text, and whether the dose may go ahead."""
        older = self.params.bp_hold[rules.family(route)].older_than
        bp_age = age if age > older else self.reference.age
        found = self._parts
        weighed = weight if route in rules.WEIGHT_BASED else None  # no weight check otherwise
        keys = (
            ("base", route),
            # By the weight's text: 86 and 86.0 are equal Decimals but read "86 kg." and
            # "86.0 kg." in the check's reason.
            ("weight", route, None if weighed is None else str(weighed)),
            ("fasting", route, food, liquid),
            ("bp", route, systolic, diastolic, bp_age),
            ("hr", route, heart_rate),
            ("spo2", route, spo2),
            ("meds", route, medicines),
            ("pregnancy", route, pregnancy),
            ("suicide", route, item9, reviewed),
        )
        parts = [found.get(key) for key in keys]
        if None in parts:
            changes: tuple[dict[str, Any], ...] = (
                {},
                {"weight_kg_today": weighed},
                {"minutes_since_food": food, "minutes_since_liquid": liquid},
                {"systolic": systolic, "diastolic": diastolic, "age": bp_age},
                {"heart_rate": heart_rate},
                {"spo2": spo2},
                {"medicines_today": medicines},
                {"pregnancy_test": pregnancy},
                {"phq9_item9_positive": item9, "suicide_reviewed_today": reviewed},
            )
            parts = [self._part(key, **change) for key, change in zip(keys, changes, strict=True)]
        order_key = (route, medicines)
        order = self._orders.get(order_key)
        if order is None:
            reference = dataclasses.replace(self.reference, route=route, medicines_today=medicines)
            codes = [c.code for c in rules.pre_dose_checks(reference, self.params)]
            groups = [_group(code) for code in codes]
            order = []
            if all(group in PART_NAMES for group in groups):
                order = [(PART_NAMES.index(g), code) for g, code in zip(groups, codes, strict=True)]
            self._orders[order_key] = order
        if not order:
            # A check these parts do not know: judge the session as a whole.
            inputs = dataclasses.replace(
                self.reference,
                route=route,
                age=age,
                weight_kg_today=weight,
                minutes_since_food=food,
                minutes_since_liquid=liquid,
                systolic=systolic,
                diastolic=diastolic,
                heart_rate=heart_rate,
                spo2=spo2,
                medicines_today=medicines,
                pregnancy_test=pregnancy,
                phq9_item9_positive=item9,
                suicide_reviewed_today=reviewed,
            )
            judged = rules.pre_dose_checks(inputs, self.params)
            return dumps([_check_json(c) for c in judged]), rules.may_dose(judged)
        checks = [parts[index][code] for index, code in order]  # type: ignore[index]
        text = "[" + ",".join([text for _, text in checks]) + "]"
        return text, all(ok for ok, _ in checks)


PART_NAMES = ("base", "weight", "fasting", "bp", "hr", "spo2", "meds", "pregnancy", "suicide")
# Which of the inputs each pre-dose check depends on (the part that varies them).
CHECK_GROUPS = {
    "identity": "base",
    "gates": "base",
    "escort": "base",
    "intention": "base",
    "weight": "weight",
    "fasting_food": "fasting",
    "fasting_liquid": "fasting",
    "bp": "bp",
    "bp_hazard": "bp",
    "heart_rate": "hr",
    "spo2": "spo2",
    "medicines": "meds",
    "pregnancy": "pregnancy",
    "suicide_screen": "suicide",
}


def _group(code: str) -> str:
    if code.startswith("medicine."):
        return "meds"
    return CHECK_GROUPS.get(code, "unknown")


class Discharges:
    """The discharge as `rules.discharge_checks` judges it (as JSON text), assembled from checks
    kept by what each depends on here: the time observed, the blood pressure (the last reading
    is back at the pre-dose level) and the hold limits for the client's age, the last sedation
    score, the last dissociation score. Every discharge is at the end of the observation
    minimum with the escort present and the counselling given, and no reading raising a stop
    alert at the end."""

    def __init__(self, params: rules.DosingParameters, versions: dict[str, int]) -> None:
        self.params = params
        self.versions = dumps(versions)
        self._parts: dict[tuple[Any, ...], str] = {}
        self._orders: dict[str, list[str]] = {}
        self._whole: dict[tuple[Any, ...], JsonText] = {}

    def judge(
        self,
        *,
        route: str,
        observed: int,
        limits: tuple[int, int],
        blood_pressure: tuple[int, int],
        moaas: int,
        cadss: int,
        inputs: Callable[[], rules.DischargeInputs],
    ) -> JsonText:
        keys = {
            "observation": (route, "observation", observed),
            "vitals": (route, "vitals", limits, blood_pressure),
            "bp_trend": (route, "bp_trend", blood_pressure),
            "sedation": (route, "sedation", moaas),
            "dissociation": (route, "dissociation", cadss),
            "escort": (route, "escort"),
            "no_driving": (route, "no_driving"),
        }
        order = self._orders.get(route)
        texts = None
        if order is not None:
            texts = [self._parts.get(keys[code]) for code in order]
        if texts is None or None in texts:
            judged = inputs()
            checks = rules.discharge_checks(judged, self.params)
            if not rules.may_discharge(checks):
                failed = [f"{c.code}: {c.reason}" for c in checks if not c.passed]
                raise RuntimeError(f"a generated session is not ready for discharge: {failed}")
            codes = [check.code for check in checks]
            if any(code not in keys for code in codes) or (
                judged.escort_present,
                judged.no_driving_counselled,
                judged.clinician_dissociation_resolved,
            ) != (True, True, None):
                # Not a discharge these parts describe: keep it whole.
                whole = self._whole.setdefault(
                    (route, observed, limits, blood_pressure, moaas, cadss),
                    self._text(judged, [dumps(_check_json(c)) for c in checks]),
                )
                return whole
            for check in checks:
                self._parts[keys[check.code]] = dumps(_check_json(check))
            self._orders[route] = order = codes
            texts = [self._parts[keys[code]] for code in order]
        return self._text(None, [text for text in texts if text is not None])

    def _text(self, judged: rules.DischargeInputs | None, checks: list[str]) -> JsonText:
        answers = (
            '{"escort_present":true,"no_driving_counselled":true,"dissociation_resolved":null}'
            if judged is None
            else dumps(
                {
                    "escort_present": judged.escort_present,
                    "no_driving_counselled": judged.no_driving_counselled,
                    "dissociation_resolved": judged.clinician_dissociation_resolved,
                }
            )
        )
        return JsonText(
            f'{{"answers":{answers},"checks":[{",".join(checks)}],'
            f'"parameter_versions":{self.versions}}}'
        )


# ---------------------------------------------------------------------------------------------
# Charting one session


@dataclass
class Charting:
    tables: NetworkTables
    rng: random.Random
    params: rules.DosingParameters
    versions: dict[str, int]
    names: dict[int, str]  # staff id -> display name
    zone: dt.tzinfo
    today: dt.date
    certification: dict[str, Any] | None  # the practice's REMS site certification, for the form
    next_public_id: Callable[[], bytes]  # a UUID's 16 bytes
    stats: SessionStats = field(default_factory=SessionStats)
    clinic: int = 0  # the clinic being charted (1-based), for the references it makes up
    # The checks as judged for each distinct input: pure, so one pair can serve every clinic a
    # process makes (None: a pair of this clinic's own).
    judges: tuple[PreChecks, Discharges] | None = None
    pre_checks: PreChecks = field(init=False)
    discharges: Discharges = field(init=False)
    _dues: dict[tuple[str, int], tuple[int, ...]] = field(default_factory=dict)
    _systolic_cap: int = field(init=False)
    _diastolic_cap: int = field(init=False)
    _hr_cap: int = field(init=False)
    _spo2_floor: int = field(init=False)
    _rr_floor: int = field(init=False)
    _prompts: tuple[str, ...] = field(init=False)
    _peaks: dict[tuple[int, ...], int] = field(init=False)

    def __post_init__(self) -> None:
        params = self.params
        if self.judges is None:
            self.judges = (PreChecks(params), Discharges(params, self.versions))
        self.pre_checks, self.discharges = self.judges
        # Readings stay inside the levels that raise a stop alert (rule parameters), except in
        # the sessions drawn to have a blood pressure excursion.
        self._systolic_cap = params.bp_stop[0] - 2
        self._diastolic_cap = params.bp_stop[1] - 1
        self._hr_cap = params.hr_above - 2
        self._spo2_floor = params.spo2_below + 1
        self._rr_floor = params.rr_below + 2
        self._prompts = _prompt_medicines(params)
        self._peaks: dict[tuple[int, ...], int] = {}

    # -- the dose -------------------------------------------------------------------------------

    def _dose(self, visit: Visit) -> tuple[Decimal, Decimal | None, int | None, int | None]:
        """mg, mg/kg, infusion minutes, devices."""
        params = self.params
        route = visit.route
        weight = visit.weight
        infusion = None
        devices = None
        if route == rules.SUBLINGUAL:
            # Start at 100 mg and step up by 50 mg a session to the client's dose.
            dose = Decimal(min(visit.dose_target, 100 + 50 * visit.dose_index))
        elif route == rules.INTRANASAL:
            age = _age(visit.born, visit.day)
            start = params.esketamine_start
            if visit.first_dose_of_course:
                first = start.older_first_dose_mg if age >= start.older_age else start.first_dose_mg
                dose = Decimal(first)
            else:
                dose = Decimal(min(params.limits.esketamine_max_mg, visit.dose_target))
            devices = rules.esketamine_devices(dose)
        else:
            if weight is None:
                raise RuntimeError("a weight-based generated dose needs the client's weight")
            rate = (
                Decimal("0.5")
                if route == rules.INTRAVENOUS or visit.dose_index == 0
                else (visit.im_rate)
            )
            dose = rules.dose_for(rate, weight, params.dose_step_mg)
            if route == rules.INTRAVENOUS:
                infusion = params.iv_infusion_minutes
        per_kg = rules.mg_per_kg(dose, weight) if weight is not None else None
        return dose, per_kg, infusion, devices

    def _reading_minutes(self, route: str, given: dt.datetime, lasting: int) -> tuple[int, ...]:
        """Minutes after the dose of the readings, the last one the reading before discharge."""
        key = (route, lasting)
        found = self._dues.get(key)
        if found is None:
            params = self.params
            dues = rules.vitals_due(route, given, lasting, None, params)
            due = sorted({int((d.at - given).total_seconds() // 60) for d in dues} - {0})
            last = lasting + params.observation_minutes[route]
            if route != rules.INTRAVENOUS:
                peak = params.check_minutes.get(route, 40)
                due = sorted({*READ_AT, peak, last} - {0})
            found = tuple(m for m in due if m <= last)
            self._dues[key] = found
            self._peaks[found] = min(found, key=lambda m: abs(m - 40))
        return found

    # -- vitals ---------------------------------------------------------------------------------

    def _curve(self, base: Vitals, rise: tuple[int, int, int], minute: int) -> Vitals:
        """Up to the peak at 40 minutes, back by two hours (with a little noise), inside the
        levels that would raise an alert (stop levels from the parameters)."""
        random = self.rng.random
        share = minute / 40 if minute <= 40 else max(0.0, 1 - (minute - 40) / 80)
        systolic = base.systolic + round(rise[0] * share) + int(random() * 7) - 3
        diastolic = base.diastolic + round(rise[1] * share) + int(random() * 5) - 2
        return Vitals(
            min(systolic, self._systolic_cap),
            min(diastolic, self._diastolic_cap, systolic - 20),
            min(base.heart_rate + round(rise[2] * share) + int(random() * 5) - 2, self._hr_cap),
            max(base.spo2 - (1 if 0.5 <= share < 1 else 0), self._spo2_floor),
            max((base.respiratory_rate or 14) + int(random() * 3) - 1, self._rr_floor),
        )

    def chart(self, visit: Visit) -> Charted:
        """Write the whole session of a held dosing appointment; returns its dose for the stock
        log."""
        rng = self.rng
        random = rng.random
        params = self.params
        tables = self.tables
        route = visit.route
        monitor, therapist = visit.monitor, visit.therapist
        starts = visit.starts_at
        opened = starts + 2 * MINUTE
        checked = starts + 5 * MINUTE
        given = starts + 15 * MINUTE
        age = _age(visit.born, visit.day)
        session = tables.session.reserve()

        dose_mg, per_kg, infusion, devices = self._dose(visit)
        lasting = infusion or 0
        if devices:
            lasting = params.device_interval_minutes * (devices - 1)
        completed = given + lasting * MINUTE
        observed = params.observation_minutes[route]
        discharged = completed + observed * MINUTE

        # The pre-dose check, with the morning's readings.
        base = visit.baseline
        limits = params.bp_hold[rules.family(route)].limits(age)
        pre = Vitals(
            min(base.systolic + between(rng, -4, 4), limits[0]),
            min(base.diastolic + between(rng, -3, 3), limits[1]),
            min(base.heart_rate + between(rng, -4, 4), params.hr_above),
            base.spo2,
            None,
        )
        fasting = params.fasting[route]
        food = max(one(rng, FOOD_MINUTES), fasting.food_minutes)
        liquid = max(one(rng, LIQUID_MINUTES), fasting.liquid_minutes)
        pregnancy = "not_applicable" if visit.sex == SexAtBirth.MALE or age >= 55 else "negative"
        meds: tuple[str, ...] = ()
        if self._prompts and random() < 0.15:
            meds = (one(rng, self._prompts),)
        intention = one(rng, INTENTIONS)
        checks, passed = self.pre_checks.judge(
            route=route,
            age=age,
            weight=visit.weight,
            food=food,
            liquid=liquid,
            systolic=pre.systolic,
            diastolic=pre.diastolic,
            heart_rate=pre.heart_rate,
            spo2=pre.spo2,
            medicines=meds,
            pregnancy=pregnancy,
            item9=visit.item9_today,
            reviewed=visit.reviewed_today,
        )
        if not passed:
            failed = [c["code"] for c in json.loads(checks) if not c["passed"]]
            raise RuntimeError(f"a generated pre-dose check did not pass: {failed}")
        # The answers as the pre-dose check service stores them (written out here: every
        # value is a number, a fixed word or a known code, so no escaping is needed).
        weight = f'"{visit.weight}"' if visit.weight is not None else "null"
        taken = ",".join(f'"{code}"' for code in meds)
        pre_check = JsonText(
            '{"answers":{"identity_confirmed":true,"escort_confirmed":true,'
            f'"weight_kg":{weight},"minutes_since_food":{food},'
            f'"minutes_since_liquid":{liquid},"medicines_today":[{taken}],'
            f'"pregnancy_test":"{pregnancy}","systolic":{pre.systolic},'
            f'"diastolic":{pre.diastolic},"heart_rate":{pre.heart_rate},"spo2":{pre.spo2}}},'
            f'"checks":{checks},"parameter_versions":{self.discharges.versions}}}'
        )

        # Vitals: the pre-dose reading, then the flowsheet's times.
        rows = [Row(checked, pre, monitor)]
        low, high = RISES.get(route, RISES[rules.INTRAMUSCULAR])
        rise = (
            between(rng, low[0], high[0]),
            between(rng, low[1], high[1]),
            between(rng, low[2], high[2]),
        )
        minutes = self._reading_minutes(route, given, lasting)
        last = minutes[-1]
        excursion = random() < 0.02
        peak = self._peaks[minutes]
        resting = Vitals(pre.systolic, pre.diastolic, pre.heart_rate, pre.spo2, 14)
        final = Vitals(pre.systolic, pre.diastolic, pre.heart_rate - 2, pre.spo2, 14)
        stop_reading: Row | None = None
        for minute in minutes:
            if minute == last:
                rows.append(Row(given + MINUTES[minute - 2], final, monitor))
                continue
            at = given + MINUTES[minute + 1]
            reading = self._curve(resting, rise, minute)
            if excursion and minute == peak:
                reading = self._excursion(reading)
                stop_reading = Row(at, reading, monitor)
                rows.append(stop_reading)
                # The bedside recheck five minutes later, on its way down.
                recheck = reading._replace(
                    systolic=params.bp_stop[0] - between(rng, 2, 12),
                    diastolic=min(reading.diastolic, params.bp_stop[1]) - between(rng, 1, 6),
                )
                rows.append(Row(at + 5 * MINUTE, recheck, monitor))
                continue
            rows.append(Row(at, reading, monitor))
        add = tables.vitals.add
        for at, v, by in rows:
            add(session, at, v[0], v[1], v[2], v[3], v[4], at, at, by, by)

        # Sedation and dissociation at the peak and before discharge.
        peak_at = given + (params.check_minutes.get(route, 40) + 2) * MINUTE
        final_at = given + (last - 5) * MINUTE
        moaas_peak, cadss_peak = self._peak_scores(route)
        cadss_final = between(rng, 0, min(2, params.cadss_resolved_at_most))
        moaas_final = params.discharge_moaas_at_least
        scales = (
            (peak_at, ScaleKind.MOAAS, moaas_peak, "", monitor),
            (peak_at, ScaleKind.CADSS, cadss_peak, CADSS_VERSION, therapist),
            (final_at, ScaleKind.MOAAS, moaas_final, "", monitor),
            (final_at, ScaleKind.CADSS, cadss_final, CADSS_VERSION, therapist),
        )
        add = tables.scale.add
        for at, scale, score, version, by in scales:
            add(session, at, scale, score, version, at, at, by, by)

        effects = self._side_effects(session, route, given, monitor)
        self._work(session, visit, given, effects)
        events = self._adverse_events(visit, session, given, stop_reading)

        if stop_reading is not None:
            self._vitals_flag(visit, session, age, resting, stop_reading, checked)

        # Discharge at the end of the observation minimum, then the two signatures.
        def discharge_inputs() -> rules.DischargeInputs:
            return rules.DischargeInputs(
                route=route,
                age=age,
                dose_completed_at=completed,
                now=discharged,
                readings=tuple(_reading(row) for row in rows),
                baseline=_reading(rows[0]),
                latest_moaas=moaas_final,
                latest_cadss=cadss_final,
                cadss_version=CADSS_VERSION,
                clinician_dissociation_resolved=None,
                escort_present=True,
                no_driving_counselled=True,
            )

        discharge = self.discharges.judge(
            route=route,
            observed=observed,
            limits=limits,
            blood_pressure=(pre.systolic, pre.diastolic),
            moaas=moaas_final,
            cadss=cadss_final,
            inputs=discharge_inputs,
        )
        monitor_signed = discharged + between(rng, 5, 25) * MINUTE
        therapist_signed = discharged + between(rng, 10, 45) * MINUTE
        public_id = self.next_public_id()
        tables.session.add_reserved(
            session,
            visit.appointment,
            visit.client,
            visit.course,
            SessionState.SIGNED,
            visit.weight,
            intention,
            pre_check,
            True,
            monitor,
            checked,
            discharge,
            monitor,
            discharged,
            monitor,
            monitor_signed,
            therapist,
            therapist_signed,
            public_id,
            opened,
            max(monitor_signed, therapist_signed),
            monitor,
            therapist,
        )
        dose = tables.dose.add(
            session,
            route,
            visit.product,
            IM_CONCENTRATION if route == rules.INTRAMUSCULAR else None,
            visit.lot,
            visit.expires_on,
            dose_mg,
            visit.weight,
            per_kg,
            infusion,
            devices,
            given,
            monitor,
            therapist,
            given,
            given,
            monitor,
            monitor,
        )
        if route == rules.INTRANASAL:
            self._rems_form(
                visit,
                session,
                public_id,
                dose_mg,
                devices,
                given,
                discharged,
                rows,
                scales,
                effects,
                events,
                meds,
            )
        self.stats.sessions += 1
        return Charted(dose, dose_mg, given, monitor)

    def _excursion(self, reading: Vitals) -> Vitals:
        """A reading past the blood pressure stop level (systolic, diastolic or both)."""
        rng = self.rng
        stop_systolic, stop_diastolic = self.params.bp_stop
        systolic = stop_systolic + between(rng, 1, 12)
        diastolic = reading.diastolic
        if rng.random() < 0.4:
            diastolic = stop_diastolic + between(rng, 1, 6)
        return reading._replace(systolic=systolic, diastolic=diastolic)

    def _peak_scores(self, route: str) -> tuple[int, int]:
        rng = self.rng
        if route == rules.SUBLINGUAL:
            return SEDATION_SL(rng), between(rng, 2, 16)
        if route == rules.INTRANASAL:
            return SEDATION_ESKETAMINE(rng), between(rng, 6, 28)
        return SEDATION_INJECTED(rng), between(rng, 8, 30)

    def _side_effects(
        self, session: int, route: str, given: dt.datetime, monitor: int
    ) -> list[tuple[dt.datetime, str, str, str]]:
        rng = self.rng
        found: list[tuple[dt.datetime, str, str, str]] = []
        if rng.random() >= SIDE_EFFECT_CHANCE[route]:
            return found
        options = SIDE_EFFECTS["any"]
        weights = [
            w * (3 if e == SideEffect.NAUSEA and route == rules.INTRANASAL else 1)
            for e, w, _ in options
        ]
        for _ in range(1 if rng.random() < 0.8 else 2):
            effect, _, notes = rng.choices(options, weights=weights)[0]
            severity = SEVERITIES(rng)
            at = given + between(rng, 15, 90) * MINUTE
            found.append((at, effect, severity, one(rng, notes)))
        found.sort(key=lambda item: item[0])
        for at, effect, severity, note in found:
            self.tables.side_effect.add(
                session, at, effect, severity, note, at, at, monitor, monitor
            )
        return found

    def _work(
        self,
        session: int,
        visit: Visit,
        given: dt.datetime,
        effects: list[tuple[dt.datetime, str, str, str]],
    ) -> None:
        rng = self.rng
        work = self.tables.work
        therapist, monitor = visit.therapist, visit.monitor
        if rng.random() < 0.85:
            work.add(
                session,
                given,
                WorkKind.MUSIC,
                one(rng, MUSIC),
                given,
                given,
                therapist,
                therapist,
            )
        if "emdr" in visit.modalities:
            for index in range(one(rng, (1, 1, 2))):
                at = given + (45 + 20 * index + between(rng, 0, 10)) * MINUTE
                work.add(session, at, WorkKind.EMDR, one(rng, EMDR), at, at, therapist, therapist)
        somatic = [m for m in visit.modalities if m in SOMATIC]
        if somatic and rng.random() < 0.7:
            at = given + between(rng, 25, 80) * MINUTE
            detail = SOMATIC[one(rng, somatic)]
            work.add(session, at, WorkKind.SOMATIC, detail, at, at, therapist, therapist)
        if rng.random() < 0.4:
            at = given + between(rng, 60, 100) * MINUTE
            work.add(session, at, WorkKind.NOTE, one(rng, NOTES), at, at, therapist, therapist)
        for at, effect, severity, _note in effects:
            if effect in (SideEffect.NAUSEA, SideEffect.VOMITING) and severity != Severity.MILD:
                given_at = at + 3 * MINUTE
                work.add(
                    session,
                    given_at,
                    WorkKind.ANTIEMETIC,
                    ANTIEMETIC,
                    given_at,
                    given_at,
                    monitor,
                    monitor,
                )

    def _adverse_events(
        self, visit: Visit, session: int, given: dt.datetime, stop: Row | None
    ) -> list[tuple[Any, ...]]:
        rng = self.rng
        draw = rng.random()
        if stop is None and draw >= 0.015:
            return []
        events: list[tuple[Any, ...]] = []
        if stop is not None and rng.random() < 0.5:
            v = stop.vitals
            events.append(
                (
                    f"Blood pressure rise to {v.systolic}/{v.diastolic} mmHg",
                    stop.at,
                    Severity.MODERATE,
                    Seriousness.NOT_SERIOUS,
                    Relatedness.RELATED,
                    BP_EVENT_ACTION,
                    BP_EVENT_OUTCOME,
                )
            )
        if draw < 0.0005:
            event, severity, seriousness, related, action, outcome = one(rng, SERIOUS_EVENTS)
            events.append(
                (
                    event,
                    given + between(rng, 30, 120) * MINUTE,
                    severity,
                    seriousness,
                    related,
                    action,
                    outcome,
                )
            )
        elif draw < 0.015:
            event, severity, seriousness, related, action, outcome = one(rng, ADVERSE_EVENTS)
            events.append(
                (
                    event,
                    given + between(rng, 20, 100) * MINUTE,
                    severity,
                    seriousness,
                    related,
                    action,
                    outcome,
                )
            )
        for event, onset, severity, seriousness, related, action, outcome in events:
            written = onset + 20 * MINUTE
            serious = seriousness == Seriousness.SERIOUS
            followed = None
            if serious or rng.random() < 0.3:
                followed = written + dt.timedelta(days=between(rng, 1, 5), hours=between(rng, 0, 6))
                if followed.astimezone(self.zone).date() >= self.today:
                    followed = None
            self.tables.adverse_event.add(
                visit.client,
                session,
                event,
                onset,
                severity,
                seriousness,
                action,
                outcome,
                related,
                followed,
                written,
                followed or written,
                visit.monitor,
                visit.monitor,
            )
            self.stats.adverse_events += 1
            self.stats.serious_events += serious
        return sorted(events, key=lambda e: e[1])

    def _vitals_flag(
        self,
        visit: Visit,
        session: int,
        age: int,
        baseline: Vitals,
        stop: Row,
        checked: dt.datetime,
    ) -> int:
        """The vital-signs flag the vitals service raises for the reading past the stop level,
        reviewed and closed by a prescriber or the monitoring nurse."""
        rng = self.rng
        alerts = rules.vitals_alerts(
            _reading(stop),
            _reading(Row(checked, baseline, stop.by)),
            self.params,
            age,
            route=visit.route,
        )
        alert = next(a for a in alerts if a.code == "bp_stop")
        reason = f"Vital signs: {alert.reason} Threshold {alert.threshold}; {alert.source}"[:300]
        reviewer = visit.prescriber if rng.random() < 0.6 else visit.monitor
        closed = stop.at + between(rng, 10, 40) * MINUTE
        v = stop.vitals
        note = (
            f"Reviewed at the bedside: BP {v.systolic}/{v.diastolic} (pre-dose "
            f"{baseline.systolic}/{baseline.diastolic}). No headache, chest pain, shortness of "
            "breath, visual change or confusion. Rechecked after 5 minutes and falling at the "
            "scheduled checks; back to the pre-dose level before discharge. "
            + one(
                rng,
                (
                    "No antihypertensive needed.",
                    "Next dose only once the prescriber has seen the pre-dose reading.",
                    "Discussed with the client; primary care to review blood pressure.",
                ),
            )
        )
        self.stats.excursions += 1
        return self.tables.safety_flag.add(
            visit.client,
            FlagKind.VITAL_SIGNS,
            FlagSeverity.REVIEW,
            reason,
            None,
            alert.code,
            session,
            stop.at,
            closed,
            reviewer,
            None,
            note,
            stop.at,
            closed,
            stop.by,
            reviewer,
        )

    # -- the REMS form --------------------------------------------------------------------------

    def _rems_form(
        self,
        visit: Visit,
        session: int,
        public_id: bytes,
        dose_mg: Decimal,
        devices: int | None,
        given: dt.datetime,
        discharged: dt.datetime,
        rows: list[Row],
        scales: Sequence[tuple[dt.datetime, str, int, str, int]],
        effects: list[tuple[dt.datetime, str, str, str]],
        events: list[tuple[Any, ...]],
        meds: tuple[str, ...],
    ) -> None:
        """The Patient Monitoring Form as `rems.rems_form_fill` fills it from this session, due
        `rems_form_days` after the session's day; most are sent on time."""
        rng = self.rng
        params = self.params
        day = visit.day
        data = self._rems_data(
            visit,
            public_id,
            dose_mg,
            devices,
            given,
            discharged,
            rows,
            scales,
            effects,
            events,
            meds,
        )
        due = rules.rems_deadline(day, params.rems_form_days)
        draw = rng.random()
        submitted = None
        if draw < 0.85:
            submitted = day + dt.timedelta(days=between(rng, 0, max(0, (due - day).days - 1)))
        elif draw < 0.95:
            submitted = due + dt.timedelta(days=between(rng, 1, 12))
        if submitted is not None and submitted >= self.today:
            submitted = None
        reference = f"PMF-{self.clinic:03d}-{day:%Y%m%d}-{session:06d}" if submitted else ""
        created = discharged
        updated = (
            dt.datetime.combine(submitted, dt.time(16), tzinfo=self.zone).astimezone(dt.UTC)
            if submitted
            else created
        )
        self.tables.rems_form.add(
            session,
            due,
            data,
            submitted,
            reference,
            visit.monitor if submitted else None,
            created,
            updated,
            visit.monitor,
            visit.monitor,
        )
        self.stats.rems_forms += 1

    def _iso(self, moment: dt.datetime | None) -> str | None:
        return moment.astimezone(self.zone).isoformat(timespec="minutes") if moment else None

    def _rems_data(
        self,
        visit: Visit,
        public_id: bytes,
        dose_mg: Decimal,
        devices: int | None,
        given: dt.datetime,
        discharged: dt.datetime,
        rows: list[Row],
        scales: Sequence[tuple[dt.datetime, str, int, str, int]],
        effects: list[tuple[dt.datetime, str, str, str]],
        events: list[tuple[Any, ...]],
        meds: tuple[str, ...],
    ) -> dict[str, Any]:
        params = self.params
        route = rules.INTRANASAL
        day = visit.day
        iso = self._iso
        missing: list[str] = []
        if visit.rems_reference is None:
            missing.append("rems_enrollment")
        certification = self.certification
        if certification is None:
            missing.append("site_certification")
        today = [
            {
                "code": code,
                "label": INTERACTION_CODES[code].label if code in INTERACTION_CODES else code,
                "rems_relevant": code in REMS_MEDICINE_GROUPS,
            }
            for code in meds
        ]
        medicines = {
            "current": [],
            "taken_today": today,
            "rems_relevant": any(m["rems_relevant"] for m in today),
            "source": MEDICINES_SOURCE,
        }
        readings = sorted((_reading(row) for row in rows), key=lambda r: r.at or given)
        points = bp_points(readings, given, discharged, params.check_minutes[route])
        for code, point in (
            ("bp_pre_dose", points.pre_dose),
            ("bp_post_dose", points.post_dose),
            ("bp_discharge", points.discharge),
        ):
            if point is None:
                missing.append(code)
        age = _age(visit.born, day)
        watched = [r for r in readings if r.at is not None and r.at > given]
        alerts = [
            (reading, alert)
            for reading in watched
            for alert in rules.vitals_alerts(reading, points.pre_dose, params, age, route=route)
        ]
        bp_alerts = [_alert(a, r.at) for r, a in alerts if a.code in ("bp_high", "bp_stop")]
        breathing = [_alert(a, r.at) for r, a in alerts if a.code in ("spo2", "respiratory_rate")]
        spo2_values = [r.spo2 for r in watched if r.spo2 is not None]
        rates = [r.respiratory_rate for r in watched if r.respiratory_rate is not None]
        ordered = sorted(scales, key=lambda s: s[0])
        moaas = [s for s in ordered if s[1] == ScaleKind.MOAAS]
        cadss = [s for s in ordered if s[1] == ScaleKind.CADSS]
        effect_codes = {effect for _, effect, _, _ in effects}
        lowest = rules.moaas_level(min(s[2] for s in moaas))
        latest_moaas = moaas[-1][2]
        sedation = {
            "occurred": lowest.level != rules.ALERT_LEVEL or SideEffect.SEDATION in effect_codes,
            "lowest": lowest.score,
            "level": lowest.level,
            "label": lowest.label,
            "latest": latest_moaas,
            "resolved": latest_moaas >= params.discharge_moaas_at_least,
            "scores": len(moaas),
            "source": rules.MOAAS_SOURCE,
        }
        highest = max(cadss, key=lambda s: (s[2], s[0]))
        latest_cadss = cadss[-1]
        judged = rules.dissociation_resolved(
            latest_cadss[2], latest_cadss[3], params, clinician_resolved=None
        )
        dissociation = {
            "occurred": highest[2] > params.cadss_resolved_at_most
            or SideEffect.DISSOCIATION in effect_codes,
            "highest": highest[2],
            "version": highest[3],
            "version_label": rules.CADSS_VERSIONS.get(highest[3], (highest[3],))[0],
            "latest": latest_cadss[2],
            "resolved": judged.resolved,
            "reason": judged.reason,
            "cut_off": params.cadss_resolved_at_most,
            "scores": len(cadss),
            "source": rules.DISSOCIATION_SOURCE,
        }
        respiratory = {
            "occurred": bool(breathing) if (spo2_values or rates) else None,
            "alerts": breathing,
            "lowest_spo2": min(spo2_values) if spo2_values else None,
            "lowest_respiratory_rate": min(rates) if rates else None,
            "spo2_below": params.spo2_below,
            "source": RESPIRATORY_SOURCE,
        }
        minutes = int((discharged - given).total_seconds() // 60)
        minimum = params.observation_minutes[route]
        names = self.names
        return {
            "schema": SCHEMA_VERSION,
            "patient": {
                "name": visit.legal_name,
                "date_of_birth": visit.born.isoformat(),
                "rems_reference": visit.rems_reference,
                "rems_enrolled_on": visit.rems_enrolled_on.isoformat()
                if visit.rems_enrolled_on
                else None,
            },
            "site": {
                "certification_number": certification["number"] if certification else None,
                "site_name": certification["site_name"] if certification else None,
                "certified_on": certification["certified_on"] if certification else None,
                "source": SITE_SOURCE,
            },
            "session": {"date": day.isoformat(), "id": str(uuid.UUID(bytes=public_id))},
            "medicines": medicines,
            "dose": {
                "product": visit.product,
                "dose_mg": str(dose_mg.normalize()),
                "devices": devices,
                "lot": visit.lot,
                "expires_on": visit.expires_on.isoformat(),
                "given_at": iso(given),
                "given_by": names[visit.monitor],
            },
            "monitoring": {
                "started_at": iso(given),
                "ended_at": iso(discharged),
                "minutes": minutes,
                "minimum_minutes": minimum,
                "met_minimum": minutes >= minimum,
            },
            "blood_pressure": {
                "pre_dose": _bp_point(points.pre_dose, given),
                "post_dose": _bp_point(points.post_dose, given),
                "discharge": _bp_point(points.discharge, given),
                "check_minutes": params.check_minutes[route],
                "alerts": bp_alerts,
                "changed": bool(bp_alerts) if points.post_dose or points.discharge else None,
                "source": BP_SOURCE,
            },
            "sedation": sedation,
            "dissociation": dissociation,
            "respiratory": respiratory,
            "side_effects": [
                {
                    "at": iso(at),
                    "effect": SideEffect(effect).label,
                    "severity": Severity(severity).label,
                    "note": note,
                }
                for at, effect, severity, note in effects
            ],
            "adverse_events": [
                {
                    "event": event,
                    "onset_at": iso(onset),
                    "severity": Severity(severity).label,
                    "seriousness": Seriousness(seriousness).label,
                    "serious": seriousness == "serious",
                    "related": Relatedness(related).label,
                    "action": action,
                    "outcome": outcome,
                }
                for event, onset, severity, seriousness, related, action, outcome in events
            ],
            "monitored_by": {
                "monitoring_clinician": names[visit.monitor],
                "therapist": names[visit.therapist],
                "dose_given_by": names[visit.monitor],
                "discharged_by": names[visit.monitor],
            },
            "missing": [{"code": code, "label": MISSING_LABELS[code]} for code in missing],
        }


def _reading(row: Row) -> rules.Reading:
    v = row.vitals
    return rules.Reading(
        at=row.at,
        systolic=v.systolic,
        diastolic=v.diastolic,
        heart_rate=v.heart_rate,
        spo2=v.spo2,
        respiratory_rate=v.respiratory_rate,
    )


_PROMPTS: dict[int, tuple[str, ...]] = {}


def _prompt_medicines(params: rules.DosingParameters) -> tuple[str, ...]:
    """Interaction categories that are prompts, not holds, on the practice's list: what a
    client may have taken on the morning of a session without holding the dose."""
    key = id(params)
    found = _PROMPTS.get(key)
    if found is None:
        found = tuple(
            code
            for code in (
                "antihypertensive",
                "thyroid_hormone",
                "benzodiazepine",
                "cyp3a4_inhibitor",
            )
            if params.medicine_classes.get(code, rules.PROMPT) == rules.PROMPT
        )
        _PROMPTS[key] = found
    return found
