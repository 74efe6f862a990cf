"""Course rules as pure functions: the integration window after a dose, and the gates a dosing
session must pass. No ORM, no clock: pass `now`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

# ---------------------------------------------------------------------------------------------
# Integration after each dose


def utc(moment: dt.datetime) -> dt.datetime:
    """The same instant in UTC. Python adds and compares datetimes that share a zone by their
    wall-clock reading, which is wrong across a daylight-saving change; in UTC it is elapsed
    time. Every rule here works in UTC; pages show the practice zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(dt.UTC)


def integration_window(dose_ended_at: dt.datetime, hours: int) -> tuple[dt.datetime, dt.datetime]:
    """From the end of the dosing session to `hours` later, in elapsed time (a daylight-saving
    change moves the local clock reading of the end, not the length). In UTC."""
    if hours <= 0:
        raise ValueError("the integration window must last more than 0 hours")
    opens = utc(dose_ended_at)
    return opens, opens + dt.timedelta(hours=hours)


@dataclass(frozen=True)
class Session:
    starts_at: dt.datetime
    state: str  # booked, held, cancelled, no_show


HELD_IN_WINDOW = "held"
BOOKED_IN_WINDOW = "booked"
AT_RISK = "at_risk"  # window open, nothing booked (or only cancelled / missed) inside it
MISSED = "missed"  # window closed without an integration session held inside it

INTEGRATION_LABELS = {
    HELD_IN_WINDOW: "Integration held within the window",
    BOOKED_IN_WINDOW: "Integration booked within the window",
    AT_RISK: "Integration at risk: none booked within the window",
    MISSED: "Integration missed: none held within the window",
}


def integration_state(
    dose_ended_at: dt.datetime,
    sessions: Sequence[Session],
    *,
    hours: int,
    needed: int = 1,
    now: dt.datetime,
) -> str:
    """Where a dose stands against the integration rule: `needed` sessions inside the window."""
    opens, closes = integration_window(dose_ended_at, hours)
    now = utc(now)
    inside = [s for s in sessions if opens <= utc(s.starts_at) <= closes]
    held = sum(1 for s in inside if s.state == "held")
    if held >= needed:
        return HELD_IN_WINDOW
    if now > closes:
        return MISSED
    # Still to come: a booked session whose time has passed without being marked held counts
    # as at risk, as does a window with too few sessions booked.
    booked = sum(1 for s in inside if s.state == "booked" and utc(s.starts_at) >= now)
    if held + booked >= needed:
        return BOOKED_IN_WINDOW
    return AT_RISK


def proposed_integration_slots(
    dose_ended_at: dt.datetime,
    *,
    hours: int,
    minutes: int,
    busy: Sequence[tuple[dt.datetime, dt.datetime]],
    day_starts: dt.time,
    day_ends: dt.time,
    zone: dt.tzinfo,
    step_minutes: int = 30,
    limit: int = 5,
    not_before: dt.datetime | None = None,
    per_day: int | None = None,
) -> list[dt.datetime]:
    """Free starts for an integration session inside the window, within working hours in the
    practice zone, avoiding the therapist's busy intervals, not before `not_before` (now: a
    past time is no proposal), at most `per_day` on one local day (so the choice spans the
    window); earliest first, in UTC."""
    opens, closes = integration_window(dose_ended_at, hours)
    if not_before is not None:
        opens = max(opens, utc(not_before))
    length = dt.timedelta(minutes=minutes)
    step = dt.timedelta(minutes=step_minutes)
    # Start at the first step boundary at or after the dose's end (steps are elapsed time, and
    # UTC half-hours are the practice zone's half-hours in every zone kapcare serves).
    step_seconds = step_minutes * 60
    start = dt.datetime.fromtimestamp(
        math.ceil(opens.timestamp() / step_seconds) * step_seconds, dt.UTC
    )
    slots: list[dt.datetime] = []
    moment = start
    while moment + length <= closes and len(slots) < limit:
        local = moment.astimezone(zone)
        local_end = (moment + length).astimezone(zone)
        in_hours = (
            local.date() == local_end.date()
            and day_starts <= local.time()
            and local_end.time() <= day_ends
        )
        clash = any(
            moment < utc(b_end) and utc(b_start) < moment + length for b_start, b_end in busy
        )
        full = per_day is not None and (
            sum(1 for slot in slots if slot.astimezone(zone).date() == local.date()) >= per_day
        )
        if in_hours and not clash and not full:
            slots.append(moment)
        moment += step
    return slots


# ---------------------------------------------------------------------------------------------
# Gates before a dose


@dataclass(frozen=True)
class Gate:
    code: str
    title: str
    passed: bool
    reason: str
    source: str
    overridden_by: str = ""
    override_reason: str = ""

    @property
    def open(self) -> bool:
        """Passed, or overridden by a named prescriber with a reason."""
        return self.passed or bool(self.overridden_by)


@dataclass(frozen=True)
class GateInputs:
    screening_cleared: bool
    screening_reason: str  # why not, when not cleared ("withdrawn: ...", "no decision yet")
    consent_signed: bool
    needs_rems: bool
    rems_enrolled: bool
    prep_done: int
    prep_required: int
    baseline_missing: tuple[str, ...]
    open_flags: tuple[str, ...]  # severities of open safety flags
    # Spacing, checked when a dose's time is known: the course's other doses (booked or held),
    # the protocol's minimum days apart, and the zone whose calendar days count.
    dose_at: dt.datetime | None = None
    other_doses: tuple[dt.datetime, ...] = ()
    min_days_between_doses: int = 0
    zone: dt.tzinfo = dt.UTC


GATE_SOURCES = {
    "screening": "Eligibility screen cleared by a prescriber and still valid (kapcare screening)",
    "consent": "Informed consent for the route signed before treatment (clinical-facts §7 intake)",
    "rems": "Spravato REMS: enrol each patient before treatment (clinical-facts §2a)",
    "preparation": "The protocol's minimum preparation sessions before the first dose (§7)",
    "baseline": "Baseline measures before treatment, to judge response (clinical-facts §6.2)",
    "spacing": "The protocol's minimum days between dosing sessions (clinical-facts §2, §7)",
    "safety": "An open safety flag blocks dosing until a clinician has assessed the risk "
    "(clinical-facts §6.1)",
}


def dosing_gates(inputs: GateInputs) -> list[Gate]:
    """Every gate with whether it passes and why, in the order a clinician would fix them."""

    def gate(code: str, title: str, passed: bool, reason: str) -> Gate:
        return Gate(code=code, title=title, passed=passed, reason=reason, source=GATE_SOURCES[code])

    gates = [
        gate(
            "screening",
            "Screening cleared",
            inputs.screening_cleared,
            "Cleared and still valid." if inputs.screening_cleared else inputs.screening_reason,
        ),
        gate(
            "consent",
            "Informed consent for this route",
            inputs.consent_signed,
            "Signed." if inputs.consent_signed else "No signed consent for this route.",
        ),
    ]
    if inputs.needs_rems:
        gates.append(
            gate(
                "rems",
                "REMS patient enrolment",
                inputs.rems_enrolled,
                "Enrolled." if inputs.rems_enrolled else "The patient is not enrolled in the REMS.",
            )
        )
    prep_ok = inputs.prep_done >= inputs.prep_required
    gates.append(
        gate(
            "preparation",
            "Preparation sessions",
            prep_ok,
            f"{inputs.prep_done} of {inputs.prep_required} preparation sessions held.",
        )
    )
    gates.append(
        gate(
            "baseline",
            "Baseline measures",
            not inputs.baseline_missing,
            "Done."
            if not inputs.baseline_missing
            else "Missing: " + ", ".join(inputs.baseline_missing) + ".",
        )
    )
    if inputs.dose_at is not None:
        gates.append(_spacing_gate(inputs, inputs.dose_at, gate))
    gates.append(
        gate(
            "safety",
            "No open safety flag",
            not inputs.open_flags,
            "None open."
            if not inputs.open_flags
            else f"{len(inputs.open_flags)} open ({', '.join(inputs.open_flags)}): a clinician "
            "records a risk assessment first.",
        )
    )
    return gates


def days_apart(first: dt.datetime, second: dt.datetime, zone: dt.tzinfo) -> int:
    """Calendar days between two moments in the practice's zone (Monday to Thursday is 3,
    whatever the hours): the way a clinic counts "3 days between doses"."""
    return abs((second.astimezone(zone).date() - first.astimezone(zone).date()).days)


def _spacing_gate(
    inputs: GateInputs, dose_at: dt.datetime, gate: Callable[[str, str, bool, str], Gate]
) -> Gate:
    minimum = inputs.min_days_between_doses
    close = sorted(
        (
            other
            for other in inputs.other_doses
            if days_apart(other, dose_at, inputs.zone) < minimum
        ),
        key=lambda other: abs(utc(other) - utc(dose_at)),
    )
    if not close:
        return gate("spacing", "Spacing between doses", True, f"At least {minimum} days apart.")
    nearest = close[0].astimezone(inputs.zone)
    apart = days_apart(nearest, dose_at, inputs.zone)
    return gate(
        "spacing",
        "Spacing between doses",
        False,
        f"Another dose is on {nearest:%a %b %-d}, {apart} day{'s' if apart != 1 else ''} away; "
        f"the protocol asks for at least {minimum}.",
    )


def with_overrides(gates: Sequence[Gate], overrides: Mapping[str, tuple[str, str]]) -> list[Gate]:
    """Apply prescribers' overrides: {gate code: (prescriber, reason)}. A gate that passes needs
    no override; an override without a reason or a name is ignored."""
    result = []
    for item in gates:
        by, why = overrides.get(item.code, ("", ""))
        if not item.passed and by.strip() and why.strip():
            item = replace(item, overridden_by=by, override_reason=why)
        result.append(item)
    return result


def may_dose(gates: Sequence[Gate]) -> bool:
    return all(item.open for item in gates)


# ---------------------------------------------------------------------------------------------
# Booking conflicts


@dataclass(frozen=True)
class Booking:
    ref: str
    label: str  # how the conflict is named to the person booking ("Dosing, Room 2, 10:00–13:00")
    starts_at: dt.datetime
    ends_at: dt.datetime
    clinicians: frozenset[str]
    room: str = ""


@dataclass(frozen=True)
class Conflict:
    kind: str  # "clinician" or "room"
    who: str  # the clinician or room double-booked
    with_ref: str
    with_label: str


def conflicts(new: Booking, existing: Sequence[Booking]) -> list[Conflict]:
    """Every existing booking that shares a clinician or the room with `new` and overlaps it in
    time. Touching ends (one ends at 10:00, the next starts at 10:00) do not overlap."""
    starts, ends = utc(new.starts_at), utc(new.ends_at)
    if ends <= starts:
        raise ValueError("a booking ends after it starts")
    found = []
    for other in existing:
        if other.ref == new.ref:
            continue  # moving a booking does not clash with itself
        if not (starts < utc(other.ends_at) and utc(other.starts_at) < ends):
            continue
        for person in sorted(new.clinicians & other.clinicians):
            found.append(Conflict("clinician", person, other.ref, other.label))
        if new.room and new.room == other.room:
            found.append(Conflict("room", new.room, other.ref, other.label))
    return found
