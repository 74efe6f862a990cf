"""Each client's way through a clinic of a synthetic network, from the first inquiry to
discharge: the free consultation, screening with a prescriber, then one treatment course (some
clients a second one after the first ended) with its preparation sessions, dosing sessions,
integration sessions, a review, maintenance boosters for some, and follow-ups.

Every appointment is placed in the clinic's calendar (kapcare.synthetic.network_calendar) with
the client's own care team, so the clinicians on a client's appointments are always on the
client's care team, and nobody is double-booked. What happened before today is held, missed or
cancelled; what comes in the next three weeks is booked; a course still running today stays
open (one open course per client at most). Protocol settings are pinned on each course as the
course service pins them (kapcare.courses.parameters.snapshot).

The mixes below (how many clients drop out at each step, which protocol, how many doses, who
has maintenance or a second course, how often a session is missed) are plausible synthetic
choices, not clinical figures. Clinical values come from the protocols and rule parameters.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kapcare.clients.models import CareTeamRole, ClientStatus
from kapcare.courses.models import Kind, Modality, Phase, State
from kapcare.courses.protocols import Protocol
from kapcare.dosing import rules
from kapcare.measures.rules import SUICIDE_ITEM_POSITIVE
from kapcare.synthetic.network_calendar import ANY, EARLY, LATE, Calendar, Clock, Placed
from kapcare.synthetic.network_draw import Weighted, between, one
from kapcare.synthetic.network_measures import Measures, Reviewer, Trajectory
from kapcare.synthetic.network_people import Person, Pools, person
from kapcare.synthetic.network_sessions import Charting, Visit, Vitals
from kapcare.synthetic.network_stock import ClinicStock
from kapcare.synthetic.network_tables import NetworkTables
from kapcare.synthetic.network_writer import JsonText, PublicIds, json_text

HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
HORIZON_DAYS = 21  # appointments are booked up to three weeks ahead

PROTOCOL_MIX = (
    ("kap_sublingual", 58),
    ("kap_intramuscular", 15),
    ("iv_racemic", 12),
    ("esketamine", 15),
)
# Doses in the induction series besides the protocol's own number (4 to 8 for racemic ketamine;
# the esketamine label's 8, sometimes fewer).
INDUCTION_DOSES = {
    "racemic": ((4, 3), (5, 3), (6, 3), (7, 1), (8, 1)),
    "esketamine": ((6, 1), (7, 1), (8, 4)),
}
MAINTENANCE_CHANCE = {"responder": 0.25, "partial": 0.3, "relapse": 0.25, "non_responder": 0.1}
SECOND_COURSE_CHANCE = {"responder": 0.35, "partial": 0.6, "relapse": 0.85, "non_responder": 0.45}
GOALS = (
    "Feel less numb; return to work.",
    "Steadier mood; grieve my father.",
    "Understand the grief under the depression.",
    "Fewer days in bed.",
    "Come back to myself.",
    "Get through the winter.",
    "Be present with my children again.",
    "Loosen the hold of the accident on my days.",
    "Sleep through the night and stop dreading mornings.",
    "Find some hope about the future.",
)
PROTOCOLS = Weighted(PROTOCOL_MIX)
OTHER_PROTOCOLS = {
    code: Weighted([(p, w) for p, w in PROTOCOL_MIX if p != code]) for code, _ in PROTOCOL_MIX
}
INDUCTION = {family: Weighted(options) for family, options in INDUCTION_DOSES.items()}
# Preparation sessions beyond the protocol's minimum.
EXTRA_PREPARATION = Weighted(((0, 5), (1, 3), (2, 2), (3, 1)))
SOMATIC = (Modality.BREATHWORK, Modality.BODY_AWARENESS, Modality.MOVEMENT)
CANCELLED = (
    "Client unwell",
    "Childcare fell through",
    "Rescheduled at the client's request",
    "No ride home available",
    "Clinician unwell",
)
DOSE_CANCELLED = (
    *CANCELLED[:4],
    "Blood pressure above the hold level on arrival; rebooked",
)
DISCONTINUED = (
    "Client chose to stop: travel to the clinic too hard to keep up.",
    "No benefit after the doses so far; referred back to the referring psychiatrist.",
    "Side effects (nausea) not tolerated despite an antiemetic.",
    "Moved out of the area.",
    "Pregnancy planned: treatment paused.",
    "Blood pressure repeatedly above the hold level; referred to primary care.",
)
DISCHARGED_AFTER = {
    "completed": "Completed the course; follow-up with referring psychiatrist",
    "maintenance": "Completed maintenance; remission sustained",
    "discontinued": "Course stopped; care returned to the referring clinician",
    "no_consultation": "Did not book a consultation after the inquiry",
    "after_consultation": "Chose not to proceed after consultation",
    "not_eligible": "Not eligible after screening",
}
CONSENT_VERSION = "KAP informed consent v{version} ({year})"


@dataclass
class ClinicTeam:
    """A clinic's staff (user ids) and rooms."""

    index: int  # 1-based
    location: int
    therapists: list[int]
    prescribers: list[int]
    nurses: list[int]
    front_desk: list[int]
    rooms: list[int]


@dataclass
class Plan:
    """A protocol with the settings pinned on its courses, and the session lengths used."""

    protocol: Protocol
    settings: dict[str, Any]
    dosing_minutes: int
    settings_json: JsonText = field(init=False)  # as every course of it stores them

    def __post_init__(self) -> None:
        self.settings_json = json_text(self.settings)


@dataclass
class Network:
    """What every clinic shares while a network is generated."""

    tables: NetworkTables
    rng: random.Random
    now: dt.datetime
    today: dt.date
    start: dt.datetime  # the earliest first contact
    clock: Clock
    pools: Pools
    public_ids: PublicIds
    plans: dict[str, Plan]
    measures: Measures
    charting: Charting
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, by: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + by


@dataclass
class ClientState:
    id: int
    person: Person
    coordinator: int
    therapist: int
    prescriber: int
    nurse: int
    history: list[tuple[str, dt.datetime, str, int]] = field(default_factory=list)
    team: list[tuple[int, str, dt.datetime]] = field(default_factory=list)
    weight: Decimal = Decimal(0)
    weights: list[tuple[dt.date, Decimal, int]] = field(default_factory=list)
    consented: set[str] = field(default_factory=set)
    rems: tuple[str, dt.date] | None = None
    vitals: Vitals | None = None
    dose_target: int = 200
    im_rate: Decimal = Decimal("0.5")

    @property
    def status(self) -> str:
        return self.history[-1][0] if self.history else ""

    def move(self, status: str, at: dt.datetime, by: int, reason: str = "") -> None:
        if status != self.status:
            self.history.append((status, at, reason, by))


@dataclass
class CourseEnd:
    """How a course ended (or that it is still open)."""

    open: bool
    kind: str = ""  # completed, maintenance, discontinued
    ended_on: dt.date | None = None
    last_dose: dt.datetime | None = None


class ClinicSimulation:
    """Generates the clients of one clinic into the network's tables."""

    def __init__(self, network: Network, team: ClinicTeam, stock: ClinicStock) -> None:
        self.net = network
        self.team = team
        self.stock = stock
        self.calendar = Calendar(network.rng)
        network.charting.clinic = team.index
        self.horizon = network.today + dt.timedelta(days=HORIZON_DAYS)

    # -- helpers --------------------------------------------------------------------------------

    def _local_day(self, moment: dt.datetime) -> dt.date:
        return self.net.clock.local_day(moment)

    def _appointment(
        self,
        c: ClientState,
        course: int | None,
        kind: str,
        placed: Placed,
        minutes: int,
        clinician: int,
        state: str,
        *,
        second: int | None = None,
        reason: str = "",
        booked_by: int | None = None,
    ) -> tuple[int, dt.datetime, dt.datetime]:
        net = self.net
        starts = net.clock.slot(placed.day, placed.slot)
        ends = starts + minutes * MINUTE
        by = booked_by if booked_by is not None else clinician
        created = starts - dt.timedelta(days=between(net.rng, 1, 10), hours=between(net.rng, 0, 6))
        created = max(min(created, net.now - HOUR), c.history[0][1])
        reminded = starts - DAY if state in (State.HELD, State.NO_SHOW) else None
        if reminded is not None and reminded < created:
            reminded = None
        updated = created if state == State.BOOKED else max(created, min(ends, net.now))
        appointment = net.tables.appointment.add(
            c.id,
            course,
            kind,
            starts,
            ends,
            clinician,
            second,
            placed.room,
            state,
            reason,
            reminded,
            created,
            updated,
            by,
            by,
        )
        net.count(f"appointments.{kind}.{state}")
        return appointment, starts, ends

    def _state(self, held: float, no_show: float) -> str:
        draw = self.net.rng.random()
        if draw < held:
            return State.HELD
        if draw < held + no_show:
            return State.NO_SHOW
        return State.CANCELLED

    def _evening(self, day: dt.date) -> dt.datetime:
        """When a client sends back a questionnaire from a link: in the evening, after the day's
        sessions (so a form sent back on a dosing day comes after that day's pre-dose check,
        which reads the morning's form)."""
        return self.net.clock.at(day, between(self.net.rng, 17 * 60, 21 * 60))

    def _future(self, placed: Placed) -> bool:
        return placed.day >= self.net.today

    def _bookable(self, placed: Placed) -> bool:
        return self.net.today < placed.day <= self.horizon

    def _weigh(self, c: ClientState, day: dt.date, by: int) -> Decimal:
        drift = Decimal(between(self.net.rng, -15, 15)) / 10
        weight = c.weight + drift
        if not c.weights or c.weights[-1][0] != day:
            c.weights.append((day, weight, by))
        return weight

    def _latest_weight(self, c: ClientState, day: dt.date) -> Decimal | None:
        found = [w for d, w, _ in c.weights if d <= day]
        return found[-1] if found else None

    def _form(
        self,
        c: ClientState,
        instrument: str,
        level: int,
        at: dt.datetime,
        entered_by: int | None,
        reviewer: Reviewer,
    ) -> bool | None:
        """Record a form if its time has come; returns whether a PHQ-9's item 9 was positive
        (None: not recorded)."""
        net = self.net
        if at > net.now:
            return None
        pool = net.measures.pool
        if instrument == "phq9":
            form = pool.phq9(level)
        elif instrument == "gad7":
            form = pool.gad7(level)
        else:
            form = pool.madrs(level)
        net.measures.record(client=c.id, form=form, at=at, entered_by=entered_by, reviewer=reviewer)
        net.count(f"forms.{instrument}")
        return SUICIDE_ITEM_POSITIVE in form.score.flags

    # -- a client -------------------------------------------------------------------------------

    def client(self) -> None:
        net = self.net
        rng = net.rng
        team = self.team
        tables = net.tables
        client_id = tables.client.reserve()
        public_id = net.public_ids.next()
        who = person(net.pools, rng, net.today)
        c = ClientState(
            client_id,
            who,
            coordinator=one(rng, team.front_desk),
            therapist=one(rng, team.therapists),
            prescriber=one(rng, team.prescribers),
            nurse=one(rng, team.nurses),
        )
        span = (net.now - net.start).total_seconds()
        first = net.start + dt.timedelta(seconds=rng.uniform(0, span - 3600))
        first_day = self._local_day(first)
        first = max(net.clock.at(first_day, between(rng, 9 * 60, 17 * 60)), net.start)
        first = min(first, net.now - HOUR)
        c.history.append((ClientStatus.INQUIRY, first, "Record created", c.coordinator))
        c.team.append((c.coordinator, CareTeamRole.COORDINATOR, first))
        self._pathway(c, first)
        self._write_client(c, public_id)
        net.count("clients")
        net.count(f"clients.{c.status}")

    def _pathway(self, c: ClientState, first: dt.datetime) -> None:
        """Inquiry, consultation, screening, then the courses."""
        net = self.net
        rng = net.rng
        if rng.random() < 0.04:
            self._discharge(c, first + dt.timedelta(days=between(rng, 14, 60)), "no_consultation")
            return
        booked = first + dt.timedelta(days=between(rng, 1, 5), hours=between(rng, 0, 3))
        if booked > net.now:
            return
        c.move(ClientStatus.CONSULTATION, booked, c.coordinator)
        c.team.append((c.therapist, CareTeamRole.PRIMARY_THERAPIST, booked))
        consulted = self._consultation(c, self._local_day(booked) + dt.timedelta(days=3))
        if consulted is None:
            return
        if rng.random() < 0.05:
            self._discharge(
                c, consulted + dt.timedelta(days=between(rng, 7, 30)), "after_consultation"
            )
            return
        screening = consulted + dt.timedelta(days=between(rng, 1, 7), hours=between(rng, 1, 4))
        if screening > net.now:
            return
        c.move(ClientStatus.SCREENING, screening, c.therapist)
        c.team.append((c.prescriber, CareTeamRole.PRESCRIBER, screening))
        trajectory = Trajectory.draw(rng)
        visit = self._screening_visit(
            c, self._local_day(screening) + dt.timedelta(days=between(rng, 5, 20)), trajectory
        )
        if visit is None:
            return
        if rng.random() < 0.05:
            self._discharge(c, visit + dt.timedelta(days=between(rng, 1, 10)), "not_eligible")
            return
        start = self._local_day(visit) + dt.timedelta(days=between(rng, 3, 20))
        self._courses(c, start, trajectory)

    def _consultation(self, c: ClientState, day: dt.date) -> dt.datetime | None:
        """The free consultation with the client's therapist; None unless it was held."""
        rng = self.net.rng
        for _ in range(3):
            placed = self.calendar.place(day, 30, (c.therapist,), prefer=ANY)
            if self._future(placed):
                if self._bookable(placed):
                    self._appointment(
                        c, None, Kind.CONSULTATION, placed, 30, c.therapist, State.BOOKED
                    )
                return None
            state = self._state(0.93, 0.05)
            reason = one(rng, CANCELLED) if state == State.CANCELLED else ""
            _, _, ends = self._appointment(
                c, None, Kind.CONSULTATION, placed, 30, c.therapist, state, reason=reason
            )
            if state == State.HELD:
                return ends
            day = placed.day + dt.timedelta(days=between(rng, 3, 7))
        return None

    def _screening_visit(
        self, c: ClientState, day: dt.date, trajectory: Trajectory
    ) -> dt.datetime | None:
        """The prescriber's screening visit: weight, vitals, PHQ-9 and GAD-7."""
        net = self.net
        rng = net.rng
        for _ in range(3):
            placed = self.calendar.place(day, 45, (c.prescriber,), prefer=ANY)
            if self._future(placed):
                if self._bookable(placed):
                    self._appointment(
                        c, None, Kind.PRESCRIBER_VISIT, placed, 45, c.prescriber, State.BOOKED
                    )
                return None
            state = self._state(0.95, 0.03)
            reason = one(rng, CANCELLED) if state == State.CANCELLED else ""
            _, starts, ends = self._appointment(
                c, None, Kind.PRESCRIBER_VISIT, placed, 45, c.prescriber, state, reason=reason
            )
            if state == State.HELD:
                c.weight = Decimal(between(rng, 520, 1150)) / 10
                c.weights.append((placed.day, c.weight, c.prescriber))
                systolic = between(rng, 104, 134)
                c.vitals = Vitals(
                    systolic,
                    min(systolic - 30, between(rng, 64, 86)),
                    between(rng, 58, 90),
                    between(rng, 96, 99),
                )
                c.dose_target = one(rng, (200, 200, 250, 300))
                c.im_rate = one(rng, (Decimal("0.5"), Decimal("0.75"), Decimal("1.0")))
                at = starts + 10 * MINUTE
                level = trajectory.phq9_total(0, rng)
                reviewer = Reviewer(c.prescriber, 20)
                self._form(c, "phq9", level, at, c.prescriber, reviewer)
                self._form(c, "gad7", level, at + 3 * MINUTE, c.prescriber, reviewer)
                return ends
            day = placed.day + dt.timedelta(days=between(rng, 3, 7))
        return None

    def _discharge(self, c: ClientState, at: dt.datetime, why: str) -> None:
        if at <= self.net.now:
            c.move(
                ClientStatus.DISCHARGED,
                at,
                c.therapist if why != "no_consultation" else c.coordinator,
                DISCHARGED_AFTER[why],
            )

    # -- courses --------------------------------------------------------------------------------

    def _courses(self, c: ClientState, start: dt.date, trajectory: Trajectory) -> None:
        net = self.net
        rng = net.rng
        protocol = PROTOCOLS(rng)
        for number in (1, 2):
            end = self._course(c, protocol, start, trajectory, number)
            if end.open or end.ended_on is None:
                return
            second = number == 1 and rng.random() < SECOND_COURSE_CHANCE[trajectory.shape]
            if second:
                start = end.ended_on + dt.timedelta(days=between(rng, 45, 300))
                if start < net.today - dt.timedelta(days=7):
                    # A prescriber visit before a new course, then the course.
                    self._review(c, None, start - dt.timedelta(days=between(rng, 7, 20)), None, 0)
                    if rng.random() < 0.4:
                        protocol = OTHER_PROTOCOLS[protocol](rng)
                    trajectory = Trajectory.draw(rng)
                    continue
            when = dt.timedelta(days=between(rng, 35, 200))
            self._discharge(c, net.clock.at(end.ended_on, 17 * 60) + when, end.kind)
            return

    def _course(
        self, c: ClientState, code: str, start: dt.date, trajectory: Trajectory, number: int
    ) -> CourseEnd:
        net = self.net
        rng = net.rng
        tables = net.tables
        if start >= net.today:
            return CourseEnd(open=True)
        plan = net.plans[code]
        protocol = plan.protocol
        route = protocol.route
        course = tables.course.reserve()
        net.count("courses")
        trauma = rng.random() < 0.33
        modalities: list[str] = [Modality.EMDR] if trauma else []
        modalities += rng.sample(SOMATIC, one(rng, (0, 1, 1, 2)))
        if rng.random() < 0.3:
            modalities.append(Modality.MUSIC)
        goals = one(rng, GOALS)
        madrs = rng.random() < 0.3
        started = net.clock.at(start, 8 * 60)
        # Consent for the route (and the esketamine REMS enrolment) before the course starts.
        if route not in c.consented:
            signed = start - dt.timedelta(days=between(rng, 0, 3))
            at = net.clock.at(signed, 12 * 60)
            tables.consent.add(
                c.id,
                route,
                signed,
                CONSENT_VERSION.format(version=signed.year - 2020, year=signed.year),
                at,
                at,
                c.prescriber,
                c.prescriber,
            )
            c.consented.add(route)
        if protocol.needs_rems and c.rems is None:
            enrolled = start - dt.timedelta(days=between(rng, 1, 5))
            reference = f"SYN-REMS-{self.team.index:03d}-{c.id:06d}"
            at = net.clock.at(enrolled, 12 * 60)
            tables.rems_enrollment.add(
                c.id, enrolled, reference, at, at, c.prescriber, c.prescriber
            )
            c.rems = (reference, enrolled)
        c.move(ClientStatus.ACTIVE, started, c.prescriber)
        if not any(role == CareTeamRole.NURSE for _, role, _ in c.team):
            c.team.append((c.nurse, CareTeamRole.NURSE, started))

        state = CourseState(course, code, plan, trajectory, madrs, modalities, number)
        end = self._run_course(c, state, start)
        phase = state.phase
        ended_on = end.ended_on
        reason = ""
        if not end.open:
            phase = Phase.DISCONTINUED if end.kind == "discontinued" else Phase.COMPLETED
            reason = state.end_reason
        updated = net.clock.at(ended_on, 17 * 60) if ended_on else state.updated
        tables.course.add_reserved(
            course,
            c.id,
            code,
            phase,
            start,
            plan.settings_json,
            goals,
            modalities,
            ended_on,
            reason,
            started,
            max(started, min(updated, net.now)),
            c.therapist,
            c.therapist if phase != Phase.DISCONTINUED else c.prescriber,
        )
        net.count(f"courses.{phase}")
        if not end.open and end.last_dose is not None:
            self._after_course(c, state, end)
        return end

    def _run_course(self, c: ClientState, s: CourseState, start: dt.date) -> CourseEnd:
        """Preparation, induction, review, maintenance: until the course ends or today."""
        net = self.net
        rng = net.rng
        protocol = s.plan.protocol
        # Preparation.
        low, high = protocol.prep_min.value, protocol.prep_max.value
        wanted = min(high, max(low, low + EXTRA_PREPARATION(rng)))
        held = 0
        day = start
        last_prep = start
        while held < wanted:
            placed = self.calendar.place(day, protocol.prep_minutes.value, (c.therapist,))
            if self._future(placed):
                if self._bookable(placed):
                    self._appointment(
                        c,
                        s.course,
                        Kind.PREPARATION,
                        placed,
                        protocol.prep_minutes.value,
                        c.therapist,
                        State.BOOKED,
                    )
                return CourseEnd(open=True)
            state = self._state(0.88, 0.05)
            reason = one(rng, CANCELLED) if state == State.CANCELLED else ""
            _, starts, ends = self._appointment(
                c,
                s.course,
                Kind.PREPARATION,
                placed,
                protocol.prep_minutes.value,
                c.therapist,
                state,
                reason=reason,
            )
            s.updated = ends
            if state == State.HELD:
                if held == 0:
                    # The course's baseline (the gate before the first dose asks for it).
                    at = starts + 5 * MINUTE
                    level = s.trajectory.phq9_total(0, rng)
                    reviewer = Reviewer(c.therapist, 40)
                    self._form(c, "phq9", level, at, c.therapist, reviewer)
                    self._form(c, "gad7", level, at + 4 * MINUTE, c.therapist, reviewer)
                    if c.weight:
                        self._weigh(c, placed.day, c.therapist)
                held += 1
                last_prep = placed.day
                if rng.random() < 0.006:
                    return self._end(
                        s,
                        "discontinued",
                        placed.day,
                        None,
                        "Chose not to continue after preparation.",
                    )
            day = placed.day + dt.timedelta(days=between(rng, 2, 7))

        # Induction.
        family = "esketamine" if protocol.needs_rems else "racemic"
        doses = INDUCTION[family](rng)
        day = last_prep + dt.timedelta(days=between(rng, 2, 7))
        spacing = protocol.min_days_between_doses.value
        stop_chance = 0.04 if s.trajectory.shape == "non_responder" else 0.015
        while s.doses < doses:
            result = self._dose_day(c, s, day)
            if result is None:
                return CourseEnd(open=True)
            placed, given = result
            if given is None:
                day = placed.day + dt.timedelta(days=between(rng, 1, 3))
                continue
            if s.doses >= 2 and s.doses < doses and rng.random() < stop_chance:
                return self._end(s, "discontinued", placed.day, given, one(rng, DISCONTINUED))
            extra = one(rng, (0, 0, 1, 1, 2)) if family == "racemic" else one(rng, (1, 2))
            day = placed.day + dt.timedelta(days=spacing + extra)

        # The review after the series.
        last = s.last_dose
        assert last is not None  # noqa: S101 - the loop above gave at least one dose
        review = self._review(
            c,
            s,
            self._local_day(last) + dt.timedelta(days=between(rng, 2, 10)),
            s.trajectory,
            s.first_dose_week(last),
        )
        if review is None:
            return CourseEnd(open=True)
        shape = s.trajectory.shape
        if rng.random() >= MAINTENANCE_CHANCE[shape]:
            if shape == "non_responder" and rng.random() < 0.4:
                return self._end(s, "discontinued", review, last, DISCONTINUED[1])
            return self._end(s, "completed", review, last)

        # Maintenance boosters.
        s.phase = Phase.MAINTENANCE
        c.move(ClientStatus.MAINTENANCE, net.clock.at(review, 17 * 60), c.therapist)
        boosters = between(rng, 1, 3) if family == "racemic" else between(rng, 2, 5)
        interval = protocol.maintenance_days_between_doses.value
        day = self._local_day(last) + dt.timedelta(days=interval)
        for index in range(boosters):
            while True:
                result = self._dose_day(c, s, day)
                if result is None:
                    return CourseEnd(open=True)
                placed, given = result
                if given is not None:
                    break
                day = placed.day + dt.timedelta(days=between(rng, 1, 3))
            step = interval + (7 * index if family == "racemic" else (7 if index >= 3 else 0))
            day = placed.day + dt.timedelta(days=step + between(rng, -2, 3))
        assert s.last_dose is not None  # noqa: S101
        done = self._local_day(s.last_dose)
        if rng.random() < 0.15:
            return self._end(s, "discontinued", done, s.last_dose, one(rng, DISCONTINUED))
        return self._end(s, "maintenance", done, s.last_dose)

    def _end(
        self,
        s: CourseState,
        kind: str,
        day: dt.date,
        last_dose: dt.datetime | None,
        reason: str = "",
    ) -> CourseEnd:
        ended = day + dt.timedelta(days=between(self.net.rng, 3, 14))
        if ended >= self.net.today:
            return CourseEnd(open=True)
        s.end_reason = reason
        return CourseEnd(open=False, kind=kind, ended_on=ended, last_dose=last_dose)

    def _review(
        self,
        c: ClientState,
        s: CourseState | None,
        day: dt.date,
        trajectory: Trajectory | None,
        weeks: float,
    ) -> dt.date | None:
        """A prescriber visit (the review after the induction series, or before a new course);
        the day it was held, None if it is still to come."""
        rng = self.net.rng
        course = s.course if s is not None else None
        for _ in range(3):
            placed = self.calendar.place(day, 30, (c.prescriber,))
            if self._future(placed):
                if self._bookable(placed):
                    self._appointment(
                        c, course, Kind.PRESCRIBER_VISIT, placed, 30, c.prescriber, State.BOOKED
                    )
                return None
            state = self._state(0.95, 0.03)
            reason = one(rng, CANCELLED) if state == State.CANCELLED else ""
            _, starts, ends = self._appointment(
                c, course, Kind.PRESCRIBER_VISIT, placed, 30, c.prescriber, state, reason=reason
            )
            if state == State.HELD:
                if s is not None:
                    s.updated = ends
                if s is not None and s.madrs and trajectory is not None:
                    level = trajectory.phq9_total(weeks, rng)
                    self._form(
                        c,
                        "madrs",
                        level,
                        starts + 20 * MINUTE,
                        c.prescriber,
                        Reviewer(c.prescriber, 5),
                    )
                return placed.day
            day = placed.day + dt.timedelta(days=between(rng, 1, 4))
        return None

    # -- a dose ---------------------------------------------------------------------------------

    def _dose_day(
        self, c: ClientState, s: CourseState, day: dt.date
    ) -> tuple[Placed, dt.datetime | None] | None:
        """One dosing appointment from `day` on: None when it is still to come (booked if soon,
        with its integration); else where it was placed and when the dose was given (None if
        the appointment was cancelled or missed)."""
        net = self.net
        rng = net.rng
        plan = s.plan
        placed = self.calendar.place(
            day, plan.dosing_minutes, (c.nurse, c.therapist), rooms=self.team.rooms, prefer=EARLY
        )
        if self._future(placed):
            if self._bookable(placed):
                _, _, ends = self._appointment(
                    c,
                    s.course,
                    Kind.DOSING,
                    placed,
                    plan.dosing_minutes,
                    c.nurse,
                    State.BOOKED,
                    second=c.therapist,
                    booked_by=c.prescriber,
                )
                self._integration(c, s, placed.day, ends, booked_only=True)
            return None
        state = self._state(0.94, 0.02)
        reason = one(rng, DOSE_CANCELLED) if state == State.CANCELLED else ""
        appointment, starts, ends = self._appointment(
            c,
            s.course,
            Kind.DOSING,
            placed,
            plan.dosing_minutes,
            c.nurse,
            state,
            second=c.therapist,
            reason=reason,
            booked_by=c.prescriber,
        )
        s.updated = ends
        if state != State.HELD:
            return placed, None
        if s.doses == 0:
            s.phase = Phase.INDUCTION
        given = self._dose(c, s, placed.day, appointment, starts)
        self._integration(c, s, placed.day, ends)
        s.doses += 1
        s.last_dose = given
        return placed, given

    def _dose(
        self, c: ClientState, s: CourseState, day: dt.date, appointment: int, starts: dt.datetime
    ) -> dt.datetime:
        net = self.net
        rng = net.rng
        route = s.plan.protocol.route
        first = s.doses == 0
        if first:
            s.first_dose = starts
        weeks = s.first_dose_week(starts)
        # The morning's PHQ-9 from the self-report link, reviewed before the check if item 9 is
        # positive; a clinician's MADRS on the first day of a course that uses it.
        item9: bool | None = None
        reviewed = False
        if rng.random() < 0.95:
            at = starts - between(rng, 60, 180) * MINUTE
            level = s.trajectory.phq9_total(weeks, rng)
            reviewer = Reviewer(c.therapist, int((starts - at) / MINUTE) - 10)
            item9 = self._form(c, "phq9", level, at, None, reviewer)
            reviewed = bool(item9)
        if first and s.madrs:
            level = s.trajectory.phq9_total(weeks, rng)
            self._form(
                c, "madrs", level, starts - 30 * MINUTE, c.prescriber, Reviewer(c.prescriber, 10)
            )
        if route in rules.WEIGHT_BASED:
            weight: Decimal | None = self._weigh(c, day, c.nurse)
        else:
            if c.weights and (day - c.weights[-1][0]).days >= 28:
                self._weigh(c, day, c.nurse)
            weight = self._latest_weight(c, day)
        lot = self.stock.lot_for(route, day)
        person_ = c.person
        assert c.vitals is not None  # noqa: S101 - set at the screening visit
        charted = net.charting.chart(
            Visit(
                client=c.id,
                legal_name=f"{person_.given} {person_.family}",
                born=person_.born,
                sex=person_.sex,
                course=s.course,
                route=route,
                modalities=s.modalities,
                first_dose_of_course=first,
                dose_index=s.doses,
                appointment=appointment,
                starts_at=starts,
                day=day,
                monitor=c.nurse,
                therapist=c.therapist,
                prescriber=c.prescriber,
                weight=weight,
                item9_today=item9,
                reviewed_today=reviewed,
                baseline=c.vitals,
                dose_target=c.dose_target if route != rules.INTRANASAL else one(rng, (56, 84)),
                im_rate=c.im_rate,
                product=lot.product.label,
                lot=lot.number,
                expires_on=lot.expires,
                rems_reference=c.rems[0] if c.rems and c.rems[1] <= day else None,
                rems_enrolled_on=c.rems[1] if c.rems and c.rems[1] <= day else None,
            )
        )
        lot.doses.append((charted.given_at, charted.dose, charted.dose_mg, charted.given_by))
        net.count("sessions")
        # PHQ-9 a day and three days after the dose (some are never sent back).
        for hours, chance in ((24, 0.9), (72, 0.85)):
            if rng.random() < chance:
                at = self._evening(self._local_day(charted.given_at + hours * HOUR))
                level = s.trajectory.phq9_total(s.first_dose_week(at), rng)
                self._form(c, "phq9", level, at, None, Reviewer(c.therapist, between(rng, 30, 120)))
        return charted.given_at

    def _integration(
        self,
        c: ClientState,
        s: CourseState,
        day: dt.date,
        dose_ends: dt.datetime,
        *,
        booked_only: bool = False,
    ) -> None:
        """The integration session after a dose: in the next day or two for most, later than
        the window for some, never for a few."""
        rng = self.net.rng
        draw = rng.random()
        if draw < 0.05:
            return
        offset = between(rng, 4, 6) if draw < 0.10 else (1 if rng.random() < 0.7 else 2)
        minutes = s.plan.protocol.integration_minutes.value
        placed = self.calendar.place(
            day + dt.timedelta(days=offset), minutes, (c.therapist,), prefer=LATE, search_days=2
        )
        if self._future(placed):
            if self._bookable(placed):
                self._appointment(
                    c, s.course, Kind.INTEGRATION, placed, minutes, c.therapist, State.BOOKED
                )
            return
        if booked_only:
            return
        state = self._state(0.95, 0.03)
        reason = one(rng, CANCELLED) if state == State.CANCELLED else ""
        self._appointment(
            c, s.course, Kind.INTEGRATION, placed, minutes, c.therapist, state, reason=reason
        )

    def _after_course(self, c: ClientState, s: CourseState, end: CourseEnd) -> None:
        """Follow-up sessions a month and three months after a course, and the questionnaires
        the schedule sends 30, 91 and 182 days after the last dose."""
        net = self.net
        rng = net.rng
        assert end.ended_on is not None  # noqa: S101 - a closed course
        assert end.last_dose is not None  # noqa: S101 - only called after a dose
        if end.kind != "discontinued":
            for days in (30, 90):
                placed = self.calendar.place(
                    end.ended_on + dt.timedelta(days=days + between(rng, -5, 5)),
                    30,
                    (c.therapist,),
                )
                if self._future(placed):
                    if self._bookable(placed):
                        self._appointment(
                            c, s.course, Kind.FOLLOW_UP, placed, 30, c.therapist, State.BOOKED
                        )
                    break
                state = self._state(0.9, 0.06)
                reason = one(rng, CANCELLED) if state == State.CANCELLED else ""
                _, starts, _ = self._appointment(
                    c, s.course, Kind.FOLLOW_UP, placed, 30, c.therapist, state, reason=reason
                )
                if state == State.HELD and days == 30 and s.madrs:
                    level = s.trajectory.phq9_total(s.first_dose_week(starts), rng)
                    self._form(
                        c,
                        "madrs",
                        level,
                        starts + 15 * MINUTE,
                        c.therapist,
                        Reviewer(c.therapist, 20),
                    )
        for days in (30, 91, 182):
            if rng.random() < 0.8:
                day = self._local_day(end.last_dose) + dt.timedelta(days=days + between(rng, 0, 4))
                at = self._evening(day)
                level = s.trajectory.phq9_total(s.first_dose_week(at), rng)
                reviewer = Reviewer(c.therapist, between(rng, 30, 120))
                self._form(c, "phq9", level, at, None, reviewer)
                self._form(c, "gad7", level, at + 3 * MINUTE, None, reviewer)

    # -- writing the client ---------------------------------------------------------------------

    def _write_client(self, c: ClientState, public_id: bytes) -> None:
        net = self.net
        tables = net.tables
        p = c.person
        status, changed, _, changed_by = c.history[-1]
        first = c.history[0][1]
        tables.client.add_reserved(
            c.id,
            p.given,
            p.family,
            p.preferred,
            p.pronouns,
            p.born,
            p.sex,
            p.identity,
            p.email,
            p.phone,
            p.address,
            p.channel,
            p.emergency_name,
            p.emergency_relationship,
            p.emergency_phone,
            p.primary_care,
            p.primary_care_contact,
            p.referring,
            p.access_needs,
            status,
            changed,
            public_id,
            first,
            changed,
            c.coordinator,
            changed_by,
        )
        previous = ""
        for to, at, reason, by in c.history:
            tables.status_change.add(c.id, previous, to, reason, at, by)
            previous = to
        for staff, role, started in c.team:
            tables.care_team.add(
                c.id, staff, role, started, started, started, c.coordinator, c.coordinator
            )
        for day, weight, by in c.weights:
            at = net.clock.at(day, 9 * 60)
            tables.weight.add(c.id, day, weight, at, at, by, by)


@dataclass
class CourseState:
    course: int
    code: str
    plan: Plan
    trajectory: Trajectory
    madrs: bool
    modalities: Sequence[str]
    number: int
    phase: str = Phase.PREPARATION
    doses: int = 0
    first_dose: dt.datetime | None = None
    last_dose: dt.datetime | None = None
    updated: dt.datetime = EARLIEST
    end_reason: str = ""

    def first_dose_week(self, at: dt.datetime) -> float:
        """Weeks since the course's first dose (0 before it)."""
        if self.first_dose is None:
            return 0.0
        return max(0.0, (at - self.first_dose).total_seconds() / (7 * 86400))
