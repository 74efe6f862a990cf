"""Dosing sessions in the demo practice: the controlled-substance stock the doses draw on, a full
session record for every dosing appointment the demo courses have held, and one session in
progress this morning.

Everything is written through the services a clinic uses (kapcare.stock.services,
kapcare.dosing.services, kapcare.safety.services, kapcare.dosing.rems) with each session's own
times: the pre-dose check, the dose with its stock administration, vitals at the times
`rules.vitals_due` asks for, sedation and dissociation scores, side effects, the therapeutic
work, discharge and both signatures. What those services stamp with the clock (the signatures,
a flag's review, the audit log) carries the moment the demo is built.

What the sessions show:
- sublingual troches of 100 to 300 mg (inside the lozenge method's 100-400 mg, clinical-facts
  §2c), one session with mild dizziness;
- intramuscular and IV ketamine at 0.5 mg/kg (IV over the protocol's 40 minutes: the most
  studied dose, §2b; IM doses in KAP are not verified, §2c, and this one is inside the practice
  maximum). The first infusion of the IV course has a blood pressure rise past the stop level at
  the end of the infusion, falling after: a vital-signs flag, reviewed and closed by the
  prescriber, and an adverse event;
- esketamine 56 mg (two 28 mg devices, the label's day 1) with nausea and an antiemetic, whose
  REMS Patient Monitoring Form was submitted two days later;
- this morning, a maintenance IM session dosed about 45 minutes before the demo's `now`, with
  its first readings charted and the client not yet discharged (a live flowsheet), and its
  integration booked for tomorrow.

A course gate that fails today but did not on the session's day (a clearance withdrawn since,
or a screen done on paper before the practice recorded screening in kapcare) is overridden in
the pre-dose check by the client's prescriber with that reason, as the service records it. Any
other failing gate leaves the appointment without a session rather than dosing past it.

Deterministic for a given `now`: courses are taken in a fixed order, every value is fixed, and
the stock movements are written in time order so the ledger reads in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.clients.models import CareTeamRole, Client, SexAtBirth
from kapcare.core.time import now as clock_now
from kapcare.core.time import practice_today, practice_zone
from kapcare.courses import services as course_services
from kapcare.courses.models import Appointment, Course, Kind, State
from kapcare.courses.rules import Gate
from kapcare.courses.selectors import course_gates
from kapcare.dosing import flowsheet, rems, rules, selectors, services
from kapcare.dosing.models import DosingSession, RemsForm, ScaleKind
from kapcare.measures.services import administration_record
from kapcare.safety.models import SafetyFlag
from kapcare.safety.services import vitals_flag_review
from kapcare.stock import services as stock_services
from kapcare.stock.models import Drug, Location, Lot
from kapcare.stock.selectors import balance_of
from kapcare.synthetic.demo_courses import PHQ9_BASELINE

MINUTE = dt.timedelta(minutes=1)
CADSS_VERSION = "cadss23"  # the version most ketamine trials use (clinical-facts §5.2)
SAFE = "Medication safe"
# The order the courses are charted in (each name as create_course_demo returns it).
SCENARIOS = ("completed", "maintenance", "discontinued", "held_back", "induction_at_risk")

# ---------------------------------------------------------------------------------------------
# Stock


@dataclass(frozen=True)
class LotPlan:
    drug: str
    product: str
    form: str
    lot_number: str
    received: int  # days before the demo's day
    expires: int  # days after the demo's day (negative: before it)
    units: int
    unit_mg: int
    routes: tuple[str, ...]


LOTS = (
    LotPlan(
        Drug.KETAMINE,
        "Ketamine HCl injection",
        "500 mg/5 mL (100 mg/mL) multi-dose vial",
        "KH24117",
        received=190,
        expires=400,
        units=10,
        unit_mg=500,
        routes=(rules.INTRAMUSCULAR, rules.INTRAVENOUS),
    ),
    # Compounded troches have a short use-by date: the first lot expired after the completed
    # course and what was left was destroyed with a witness; the second serves the courses now.
    LotPlan(
        Drug.KETAMINE,
        "Ketamine HCl sublingual troche (compounded)",
        "100 mg troche",
        "TR-2405-031",
        received=185,
        expires=-120,
        units=20,
        unit_mg=100,
        routes=(rules.SUBLINGUAL,),
    ),
    LotPlan(
        Drug.KETAMINE,
        "Ketamine HCl sublingual troche (compounded)",
        "100 mg troche",
        "TR-2410-112",
        received=35,
        expires=55,
        units=20,
        unit_mg=100,
        routes=(rules.SUBLINGUAL,),
    ),
    LotPlan(
        Drug.ESKETAMINE,
        "Spravato (esketamine) nasal spray",
        "28 mg nasal spray device",
        "ES4A0917",
        received=56,
        expires=300,
        units=6,
        unit_mg=rules.DEVICE_MG,
        routes=(rules.INTRANASAL,),
    ),
)
EXPIRED_LOT = "TR-2405-031"  # destroyed, with a witness, the day after it expired


@dataclass
class Stock:
    location: Location
    day: dt.date  # the demo's day
    lots: list[tuple[LotPlan, Lot]] = field(default_factory=list)

    def lot_for(self, route: str, day: dt.date) -> tuple[LotPlan, Lot]:
        """The lot a dose of `route` on `day` was drawn from: received by then, not expired."""
        for plan, lot in self.lots:
            received = self.day - dt.timedelta(days=plan.received)
            if route in plan.routes and received <= day <= lot.expires_on:
                return plan, lot
        raise LookupError(f"no demo lot for a {route} dose on {day}")


# ---------------------------------------------------------------------------------------------
# What happens in a session


@dataclass(frozen=True)
class Vitals:
    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int
    respiratory_rate: int = 14


@dataclass(frozen=True)
class Story:
    """One session as it went. Readings not given in `readings` (by minute after the dose) follow
    a curve from the pre-dose `baseline` up by `rise` (systolic, diastolic, heart rate) at 40
    minutes and back by two hours; the reading before discharge is back at the baseline."""

    baseline: Vitals
    intention: str
    rise: tuple[int, int, int] = (8, 5, 4)
    dose_mg: Decimal | None = None  # a fixed dose (sublingual, esketamine)
    mg_per_kg: Decimal | None = None  # weight-based (IM, IV)
    peak_moaas: int = 5
    peak_cadss: int = 8
    readings: Mapping[int, Vitals] = field(default_factory=dict)
    side_effects: tuple[tuple[int, str, str, str], ...] = ()  # minute, effect, severity, note
    work: tuple[tuple[int, str, str], ...] = ()  # minute, kind, detail
    minutes_since_food: int = 240
    minutes_since_liquid: int = 60
    medicines_today: tuple[str, ...] = ()
    adverse_event: tuple[int, str, str, str] | None = None  # minute, event, action, outcome
    flag_review: str = ""  # the prescriber's review of a vital-signs flag the session raises


MUSIC = (0, "music", "Eyeshade and headphones; the client's instrumental playlist.")

SUBLINGUAL = (
    Story(
        Vitals(126, 78, 68, 96),
        "Notice what is underneath the numbness without pushing it away.",
        dose_mg=Decimal(100),
        peak_cadss=6,
        medicines_today=("antihypertensive",),  # amlodipine as usual, as cleared
        work=(
            MUSIC,
            (
                50,
                "emdr",
                "Three sets of bilateral tapping on the target image from preparation; the "
                "client described the image as further away after the third set.",
            ),
        ),
    ),
    Story(
        Vitals(128, 80, 70, 97),
        "Stay with the heaviness in my chest and see what it wants.",
        dose_mg=Decimal(200),
        rise=(10, 6, 6),
        peak_moaas=4,
        peak_cadss=12,
        medicines_today=("antihypertensive",),
        side_effects=(
            (
                35,
                "dizziness",
                "mild",
                "On sitting up to drink water; settled lying back, steady on standing later.",
            ),
        ),
        work=(
            MUSIC,
            (
                55,
                "emdr",
                "Two sets of bilateral tapping once the dizziness settled; the client let the "
                "memory of the hospital corridor come and go.",
            ),
            (
                90,
                "note",
                "Tearful, then calm; spoke about his brother for the first time in the course. "
                "To pick up at integration.",
            ),
        ),
    ),
    Story(
        Vitals(124, 78, 66, 97),
        "Let the sadness be there and find what still matters.",
        dose_mg=Decimal(200),
        peak_moaas=4,
        peak_cadss=10,
        medicines_today=("antihypertensive",),
        work=(
            MUSIC,
            (
                45,
                "emdr",
                "Four sets of bilateral tapping; the client moved from the loss to memories of "
                "fishing with his brother.",
            ),
            (75, "somatic", "Paced breathing with a hand on the chest as the effects eased."),
        ),
    ),
)

COMPLETED = tuple(
    Story(
        Vitals(132, 80, 72, 96),
        intention,
        dose_mg=Decimal(mg),
        rise=(6 + mg // 50, 4 + mg // 100, 4),
        peak_moaas=5 if mg < 300 else 4,
        peak_cadss=4 + mg // 50,
        work=(
            MUSIC,
            (
                50,
                "emdr",
                "Bilateral tapping sets on the memory agreed in preparation; processing moved on "
                "between sets.",
            ),
        ),
    )
    for mg, intention in (
        (100, "Get to know the medicine and feel safe with it."),
        (200, "Come back to the memory of the flood, with support."),
        (200, "Find the part of me that got through it."),
        (300, "Let the guilt soften."),
        (300, "Say goodbye to the house."),
        (300, "Take what I have learned forward."),
    )
)

IM = Story(
    Vitals(122, 78, 70, 98),
    "Feel my body instead of thinking about it.",
    mg_per_kg=Decimal("0.5"),
    rise=(14, 8, 8),
    peak_moaas=4,
    peak_cadss=20,
    work=(
        MUSIC,
        (
            30,
            "somatic",
            "Body scan guided by the therapist; attention to the tightness in the throat, then "
            "slow movement of the arms as the client wished.",
        ),
    ),
)
MAINTENANCE = tuple(
    replace(IM, intention=intention, peak_cadss=cadss, rise=(rise, 8, 8))
    for intention, cadss, rise in (
        ("Feel my body instead of thinking about it.", 22, 16),
        ("Let my father's voice come back.", 20, 14),
        ("Meet the anger without being swept away.", 18, 14),
        ("Rest in the calm I found last time.", 18, 12),
        ("Notice where the grief lives in me.", 16, 12),
        ("Check in with the steadiness; keep it going.", 14, 10),
    )
)

IV_EXCURSION = Story(
    Vitals(124, 80, 78, 98, 16),
    "Rest, and notice if anything lifts.",
    mg_per_kg=Decimal("0.5"),
    peak_moaas=4,
    peak_cadss=18,
    readings={
        10: Vitals(132, 86, 82, 98, 16),
        20: Vitals(146, 92, 86, 97, 15),
        30: Vitals(162, 96, 88, 97, 15),
        40: Vitals(184, 102, 92, 97, 16),  # past the stop level: a vital-signs flag
        45: Vitals(176, 98, 90, 97, 15),  # the bedside recheck
        55: Vitals(158, 94, 86, 98, 15),
        70: Vitals(146, 88, 82, 98, 14),
        85: Vitals(138, 86, 80, 98, 14),
        100: Vitals(132, 84, 78, 98, 14),
        115: Vitals(130, 82, 78, 98, 14),
        130: Vitals(128, 82, 76, 98, 14),
        145: Vitals(126, 80, 76, 98, 14),
    },
    work=(
        MUSIC,
        (
            60,
            "note",
            "Aware of the extra blood pressure checks and reassured; spoke about the exhaustion "
            "of the last two years.",
        ),
    ),
    adverse_event=(
        40,
        "Blood pressure rise to 184/102 mmHg at the end of the infusion",
        "Infusion already complete. Bedside review by the prescriber; rechecked at 45 minutes, "
        "then at the scheduled checks. No antihypertensive needed.",
        "Falling from 45 minutes; back to the pre-dose 124/80 before discharge. No symptoms.",
    ),
    flag_review=(
        "Reviewed at the bedside: BP 184/102 at the end of the 40-minute infusion (pre-dose "
        "124/80), so no drug was still running. No headache, chest pain, shortness of breath, "
        "visual change or confusion. Rechecked at 45 minutes (176/98), then falling at every "
        "scheduled check: 146/88 at 70 minutes, back to 124/80 before discharge. No "
        "antihypertensive needed. Discussed with the client; the next infusion goes ahead only "
        "once the prescriber has seen the pre-dose reading."
    ),
)
IV_SECOND = Story(
    Vitals(122, 78, 76, 98, 16),
    "Rest, and notice if anything lifts.",
    mg_per_kg=Decimal("0.5"),
    rise=(18, 10, 6),
    peak_moaas=4,
    peak_cadss=14,
    work=(MUSIC,),
)

ESKETAMINE = Story(
    Vitals(138, 86, 74, 97),
    "Get through the winter without going under.",
    dose_mg=Decimal(56),
    rise=(18, 8, 6),
    peak_moaas=4,
    peak_cadss=18,
    minutes_since_food=180,
    minutes_since_liquid=45,
    side_effects=(
        (25, "nausea", "moderate", "Came on after the second device; no vomiting."),
        (70, "nausea", "mild", "Easing after the antiemetic."),
    ),
    work=(
        MUSIC,
        (28, "antiemetic", "Ondansetron orally disintegrating tablet, per the standing order."),
    ),
)

TODAY = Story(
    Vitals(132, 84, 72, 98),
    "Let the grief move through the body rather than sit in the chest.",
    mg_per_kg=Decimal("0.5"),
    readings={20: Vitals(138, 86, 78, 98), 40: Vitals(142, 88, 80, 97)},
    peak_moaas=4,
    peak_cadss=16,
    work=(
        MUSIC,
        (
            30,
            "somatic",
            "Grounding through the feet and hands; the client asked for the weighted blanket.",
        ),
    ),
)

STORIES: dict[str, tuple[Story, ...]] = {
    "induction_at_risk": SUBLINGUAL,
    "maintenance": MAINTENANCE,
    "held_back": (IV_EXCURSION, IV_SECOND),
    "completed": COMPLETED,
    "discontinued": (ESKETAMINE,),
}

# Course gates that fail today but passed on the session's day, with the prescriber's reason.
PAPER_SCREEN = (
    "Screened and cleared at intake on the practice's paper form, before screening was recorded "
    "in kapcare; the signed form is in the scanned documents. Session entered from the paper "
    "record."
)
GATE_REASONS: dict[str, dict[str, str]] = {
    "held_back": {
        "screening": "The screening clearance was in force on this day; it was withdrawn later, "
        "when an MAO inhibitor started elsewhere was entered. Session entered from the paper "
        "record."
    },
    "completed": {"screening": PAPER_SCREEN},
    "discontinued": {"screening": PAPER_SCREEN},
}


# ---------------------------------------------------------------------------------------------
# Charting one session


@dataclass(frozen=True)
class Team:
    monitor: User  # the appointment's monitoring clinician: its nurse, else the prescriber
    therapist: User
    prescriber: User


def _team(appointment: Appointment) -> Team | None:
    member = (
        appointment.client.care_team.filter(ended_at__isnull=True, role=CareTeamRole.PRESCRIBER)
        .select_related("staff")
        .order_by("id")
        .first()
    )
    therapist = appointment.second_clinician
    if member is None or therapist is None:
        return None
    return Team(appointment.clinician, therapist, member.staff)


def _weight(client: Client, day: dt.date) -> Decimal | None:
    latest = (
        client.weights.filter(measured_on__lte=day)
        .order_by("-measured_on", "-id")
        .values_list("weight_kg", flat=True)
        .first()
    )
    return Decimal(latest) if latest is not None else None


def _pregnancy_test(client: Client, day: dt.date) -> str:
    """As the demo's screening answers it: not applicable for men and from 55."""
    if client.sex_at_birth == SexAtBirth.MALE or client.age_on(day) >= 55:
        return "not_applicable"
    return "negative"


def _curve(story: Story, minute: int, *, final: bool) -> Vitals:
    """The reading `minute` after the dose: up to the peak at 40 minutes, back by two hours."""
    if minute in story.readings:
        return story.readings[minute]
    base = story.baseline
    if final:
        return replace(base, heart_rate=base.heart_rate - 2)
    share = minute / 40 if minute <= 40 else max(0.0, 1 - (minute - 40) / 80)
    up_systolic, up_diastolic, up_heart_rate = story.rise
    return Vitals(
        base.systolic + round(up_systolic * share),
        base.diastolic + round(up_diastolic * share),
        base.heart_rate + round(up_heart_rate * share),
        base.spo2 - (1 if 0.5 <= share < 1 else 0),
        base.respiratory_rate,
    )


def _failed_gates(appointment: Appointment) -> list[Gate]:
    """The course's gates that fail at this appointment (as the pre-dose check judges them)."""
    assert appointment.course is not None  # noqa: S101 - a dosing appointment of a course
    overridden = set(appointment.gate_overrides.values_list("gate", flat=True))
    gates = course_gates(appointment.course, dose_at=appointment.starts_at, excluding=appointment)
    return [gate for gate in gates if not gate.passed and gate.code not in overridden]


@dataclass
class Writes:
    """Service calls to make in time order (ties in the order they were added), so that the
    stock ledger and the audit log read in the order things happened."""

    items: list[tuple[dt.datetime, int, Callable[[], object]]] = field(default_factory=list)

    def add(self, at: dt.datetime, write: Callable[..., object], /, **arguments: Any) -> None:
        self.items.append((at, len(self.items), partial(write, **arguments)))

    def run(self, until: dt.datetime | None = None) -> None:
        for at, _order, write in sorted(self.items, key=lambda item: (item[0], item[1])):
            if until is None or at <= until:
                write()


@dataclass
class Charting:
    stock: Stock
    sessions: list[DosingSession] = field(default_factory=list)  # signed
    rems_forms: list[RemsForm] = field(default_factory=list)

    def past(self, appointment: Appointment, story: Story, reasons: Mapping[str, str]) -> None:
        """A held appointment's whole session, from the pre-dose check to the signatures."""
        team = _team(appointment)
        if team is None:
            return
        session = self.dose(appointment, story, team, reasons)
        if session is None:
            return
        observed_until = self.monitor(session, story, team, until=None)
        self.discharge_and_sign(session, story, team, observed_until)
        session.refresh_from_db()
        self.sessions.append(session)

    def dose(
        self, appointment: Appointment, story: Story, team: Team, reasons: Mapping[str, str]
    ) -> DosingSession | None:
        """Open the session, record the pre-dose check 5 minutes into the appointment and the
        dose 10 minutes later. None (nothing written) when a gate fails without a reason."""
        failed = _failed_gates(appointment)
        if any(gate.code not in reasons for gate in failed):
            return None
        overrides = {"gates": " ".join(reasons[gate.code] for gate in failed)} if failed else {}
        session = services.session_open(actor=team.monitor, appointment=appointment)
        route = selectors.session_route(session)
        day = timezone.localdate(appointment.starts_at, practice_zone())
        weight = _weight(session.client, day)
        base = story.baseline
        services.pre_check_record(
            # A prescriber records a check that overrides a gate; the monitoring nurse any other.
            actor=team.prescriber if overrides else team.monitor,
            session=session,
            identity_confirmed=True,
            escort_confirmed=True,
            intention=story.intention,
            weight_kg=weight,
            minutes_since_food=story.minutes_since_food,
            minutes_since_liquid=story.minutes_since_liquid,
            systolic=base.systolic,
            diastolic=base.diastolic,
            heart_rate=base.heart_rate,
            spo2=base.spo2,
            medicines_today=list(story.medicines_today),
            pregnancy_test=_pregnancy_test(session.client, day),
            overrides=overrides,
            checked_at=appointment.starts_at + 5 * MINUTE,
        )
        session.refresh_from_db()
        if not session.pre_check_passed:
            failing = [c["code"] for c in session.pre_check["checks"] if not c["passed"]]
            raise RuntimeError(f"The demo's pre-dose check did not pass: {failing}")
        plan, lot = self.stock.lot_for(route, day)
        params, _versions = selectors.parameters_in_force()
        if story.mg_per_kg is not None:
            if weight is None:
                raise RuntimeError("A weight-based demo dose needs the client's weight.")
            dose_mg = rules.dose_for(story.mg_per_kg, weight, params.dose_step_mg)
        elif story.dose_mg is not None:
            dose_mg = story.dose_mg
        else:
            raise RuntimeError("A demo story names a dose in mg or in mg/kg.")
        services.dose_record(
            actor=team.monitor,
            session=session,
            product=f"{plan.product}, {plan.form}",
            lot=lot.lot_number,
            expires_on=lot.expires_on,
            dose_mg=dose_mg,
            therapist_present=team.therapist,
            given_at=appointment.starts_at + 15 * MINUTE,
            # IM is drawn straight from the vial; an IV dose is diluted (no concentration kept).
            concentration_mg_per_ml=Decimal(100) if route == rules.INTRAMUSCULAR else None,
            infusion_minutes=params.iv_infusion_minutes if route == rules.INTRAVENOUS else None,
            location=self.stock.location,
        )
        session.refresh_from_db()
        return session

    def monitor(
        self, session: DosingSession, story: Story, team: Team, *, until: dt.datetime | None
    ) -> dt.datetime:
        """Chart what happened after the dose, up to `until` (None: all of it): a reading at each
        due time (a minute after it; the one before discharge two minutes before), the story's
        extra readings, MOAA/S and CADSS at the peak and before discharge, side effects, work
        and the adverse event. Returns the end of the observation minimum."""
        params, _versions = selectors.parameters_in_force()
        dose = session.dose
        given = dose.given_at
        lasting = int((flowsheet.dose_completed_at(dose, params) - given).total_seconds() // 60)
        dues = rules.vitals_due(dose.route, given, lasting, None, params)
        observed_until = max(due.at for due in dues)
        last = int((observed_until - given).total_seconds() // 60)
        minutes = {int((due.at - given).total_seconds() // 60) for due in dues} - {0}
        minutes |= set(story.readings)
        if dose.route != rules.INTRAVENOUS:
            minutes.add(80)  # the nurse's own look between the due checks
        writes = Writes()
        for minute in sorted(minutes):
            at = given + (minute - 2 if minute == last else minute + 1) * MINUTE
            reading = _curve(story, minute, final=minute == last)
            writes.add(at, _vitals, session=session, actor=team.monitor, at=at, reading=reading)
        peak = params.check_minutes.get(dose.route, 40)
        resolved = min(2, params.cadss_resolved_at_most)
        for minute, moaas, cadss in (
            (peak, story.peak_moaas, story.peak_cadss),
            (last - 5, params.discharge_moaas_at_least, resolved),
        ):
            at = given + (minute + 2) * MINUTE
            for actor, scale, score, version in (
                (team.monitor, ScaleKind.MOAAS, moaas, ""),
                (team.therapist, ScaleKind.CADSS, cadss, CADSS_VERSION),
            ):
                writes.add(
                    at,
                    services.scale_record,
                    actor=actor,
                    session=session,
                    scale=scale,
                    score=score,
                    version=version,
                    taken_at=at,
                )
        for minute, effect, severity, note in story.side_effects:
            at = given + minute * MINUTE
            writes.add(
                at,
                services.side_effect_record,
                actor=team.monitor,
                session=session,
                effect=effect,
                severity=severity,
                note=note,
                taken_at=at,
            )
        for minute, kind, detail in story.work:
            at = given + minute * MINUTE
            # Medicines are given by the nurse; the therapeutic work is the therapist's.
            by = team.monitor if kind in ("antiemetic", "antihypertensive") else team.therapist
            writes.add(
                at,
                services.work_record,
                actor=by,
                session=session,
                kind=kind,
                detail=detail,
                taken_at=at,
            )
        if story.adverse_event is not None:
            minute, event, action, outcome = story.adverse_event
            writes.add(
                given + (minute + 20) * MINUTE,  # written up once the recheck was done
                services.adverse_event_record,
                actor=team.monitor,
                session=session,
                event=event,
                onset_at=given + minute * MINUTE,
                severity="moderate",
                seriousness="not_serious",
                related="related",
                action=action,
                outcome=outcome,
            )
        writes.run(until)
        return observed_until

    def discharge_and_sign(
        self, session: DosingSession, story: Story, team: Team, observed_until: dt.datetime
    ) -> None:
        """Discharge when the observation minimum ends (every criterion met: the last due
        reading is the one before discharge), close the session's vital-signs flag with the
        prescriber's review, and sign as the dyad."""
        services.discharge_record(
            actor=team.monitor,
            session=session,
            escort_present=True,
            no_driving_counselled=True,
            discharged_at=observed_until,
        )
        if story.flag_review:
            for flag in SafetyFlag.objects.open().filter(source_session=session).order_by("id"):
                vitals_flag_review(actor=team.prescriber, flag=flag, note=story.flag_review)
        session.refresh_from_db()
        form = RemsForm.objects.filter(session=session).first()
        if form is not None:
            self.rems_forms.append(form)
        services.session_sign(actor=team.monitor, session=session)
        services.session_sign(actor=team.therapist, session=session)


def _vitals(session: DosingSession, actor: User, at: dt.datetime, reading: Vitals) -> None:
    services.vitals_record(
        actor=actor,
        session=session,
        taken_at=at,
        systolic=reading.systolic,
        diastolic=reading.diastolic,
        heart_rate=reading.heart_rate,
        spo2=reading.spo2,
        respiratory_rate=reading.respiratory_rate,
    )


# ---------------------------------------------------------------------------------------------
# The demo


@dataclass
class DosingDemo:
    sessions: list[DosingSession]  # signed, in time order
    rems_forms: list[RemsForm]
    today: DosingSession | None  # this morning's, being monitored


def create_dosing_demo(
    *, courses: Mapping[str, Course], staff: Mapping[str, User], now: dt.datetime
) -> DosingDemo:
    """The stock, a signed session for every held dosing appointment of the demo courses, the
    REMS form submitted, and this morning's session in progress. `courses` is what
    create_course_demo returned; `staff` the demo's accounts by username."""
    day = timezone.localdate(now, practice_zone())
    writes = Writes()
    stock = _stock(writes, director=staff["prescriber"], nurse=staff["nurse"], day=day)
    _certify_site(staff["admin"], day)
    charting = Charting(stock)
    for name in SCENARIOS:
        course = courses.get(name)
        if course is None:
            continue
        held = Appointment.objects.filter(
            course=course, kind=Kind.DOSING, state=State.HELD, starts_at__lt=now
        ).order_by("starts_at", "id")
        stories = STORIES[name]
        for index, appointment in enumerate(held):
            writes.add(
                appointment.starts_at,
                charting.past,
                appointment=appointment,
                story=stories[min(index, len(stories) - 1)],
                reasons=GATE_REASONS.get(name, {}),
            )
    writes.run()
    for form in charting.rems_forms:
        _submit(form)
    maintenance = courses.get("maintenance")
    today = _today(charting, maintenance, now) if maintenance is not None else None
    return DosingDemo(
        sorted(charting.sessions, key=lambda session: (session.appointment.starts_at, session.pk)),
        charting.rems_forms,
        today,
    )


def _local(day: dt.date, moment: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, moment, tzinfo=practice_zone())


def _stock(writes: Writes, *, director: User, nurse: User, day: dt.date) -> Stock:
    """The safe and the lots (the medical director adds them); their receipts, and the waste of
    the expired lot with the director as witness, go into `writes` to be made in time order
    with the doses."""
    location = Location.objects.filter(name__iexact=SAFE).first() or (
        stock_services.location_create(actor=director, name=SAFE)
    )
    stock = Stock(location=location, day=day)
    for plan in LOTS:
        lot = stock_services.lot_create(
            actor=director,
            drug=plan.drug,
            product=plan.product,
            form=plan.form,
            lot_number=plan.lot_number,
            expires_on=day + dt.timedelta(days=plan.expires),
        )
        stock.lots.append((plan, lot))
        received = _local(day - dt.timedelta(days=plan.received), dt.time(10, 30))
        writes.add(
            received,
            stock_services.movement_record,
            actor=nurse,
            lot=lot,
            location=location,
            kind="received",
            quantity_mg=Decimal(plan.units * plan.unit_mg),
            moved_at=received,
            reason=f"{plan.units} x {plan.form}; delivery counted against the invoice.",
        )
        if plan.lot_number == EXPIRED_LOT:
            wasted = _local(lot.expires_on + dt.timedelta(days=1), dt.time(16, 45))
            writes.add(
                wasted, _waste, lot=lot, location=location, nurse=nurse, witness=director, at=wasted
            )
    return stock


def _waste(*, lot: Lot, location: Location, nurse: User, witness: User, at: dt.datetime) -> None:
    """What is left of an expired lot, destroyed with a witness."""
    left = balance_of(lot, location)
    if left > 0:
        stock_services.movement_record(
            actor=nurse,
            lot=lot,
            location=location,
            kind="wasted",
            quantity_mg=left,
            moved_at=at,
            witness=witness,
            reason=f"Lot expired on {lot.expires_on:%Y-%m-%d}: the remaining troches were "
            "destroyed in the drug disposal container.",
        )


def _certify_site(admin: User, day: dt.date) -> None:
    """The practice's REMS certification, which the esketamine form names."""
    if rems.active_certification() is None:
        rems.rems_site_certify(
            actor=admin,
            number="DEMO-HCS-0001",
            certified_on=day - dt.timedelta(days=400),
            site_name=settings.PRACTICE_NAME,
        )


def _submit(form: RemsForm) -> None:
    """Sent to the REMS by the monitoring clinician two days after the session (on time)."""
    day = rems.session_day(form.session)
    submitted = day + dt.timedelta(days=2)
    if submitted <= practice_today():
        rems.rems_form_submit(
            actor=form.session.appointment.clinician,
            form=form,
            submitted_on=submitted,
            reference=f"DEMO-PMF-{day:%Y%m%d}",
        )


def _today(charting: Charting, course: Course, now: dt.datetime) -> DosingSession | None:
    """This morning's maintenance session, if the course's gates allow a dose now: dosed about
    45 minutes before `now`, the readings due so far charted, not discharged; its integration
    booked for tomorrow. The appointment has already started, so (like the demo's past
    sessions) it is written as a row: the booking service refuses a start in the past."""
    given = (now - 45 * MINUTE).replace(second=0, microsecond=0)
    given -= (given.minute % 5) * MINUTE
    starts = given - 15 * MINUTE
    if not all(gate.passed for gate in course_gates(course, dose_at=starts)):
        return None
    previous = (
        Appointment.objects.filter(course=course, kind=Kind.DOSING, state=State.HELD)
        .order_by("-starts_at", "-id")
        .first()
    )
    if previous is None or previous.second_clinician is None:
        return None
    client = course.client
    appointment = Appointment.objects.create(
        client=client,
        course=course,
        kind=Kind.DOSING,
        starts_at=starts,
        ends_at=starts + 180 * MINUTE,
        clinician=previous.clinician,
        second_clinician=previous.second_clinician,
        room=previous.room,
        state=State.BOOKED,
        created_by=previous.created_by,
        updated_by=previous.created_by,
    )
    team = _team(appointment)
    if team is None:
        return None
    # The morning's PHQ-9 from the self-report link, as before every dose (easing by now).
    administration_record(
        actor=None,
        client=client,
        instrument="phq9",
        answers=PHQ9_BASELINE | {"q1": 1, "q2": 1, "q4": 2, "q6": 1},
        completed_at=starts - 40 * MINUTE,
        self_report=True,
    )
    session = charting.dose(appointment, TODAY, team, {})
    if session is None:
        return None
    charting.monitor(session, TODAY, team, until=now)
    session.refresh_from_db()
    tomorrow = _local(timezone.localdate(now, practice_zone()) + dt.timedelta(days=1), dt.time(15))
    if tomorrow > clock_now():
        course_services.appointment_book(
            actor=team.therapist,
            client=client,
            course=course,
            kind=Kind.INTEGRATION,
            starts_at=tomorrow,
            minutes=60,
            clinician=team.therapist,
        )
    return session
