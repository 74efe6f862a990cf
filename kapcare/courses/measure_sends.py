"""Sending a course's measurement schedule: when a window of the course's plan opens, kapcare
sends the client a self-report link for what is due in it (kapcare.measures.self_report).

The events a course's schedule hangs on (kapcare.courses.schedule.CourseEvents) are read from
its records:

- the course starts at the start of its start date in the practice's zone;
- its doses are its dosing appointments that are booked or held (a cancelled or missed dose
  anchors nothing);
- the induction series ends, once the course has moved on to maintenance or is completed, at the
  protocol's number of induction doses (or the last dose, if there were fewer);
- the last dose, which the follow-ups 1, 3 and 6 months later hang on, is the last held dose
  once the course is completed.

An open course has everything in its plan sent; a completed course only its follow-ups after the
last dose; a discontinued course nothing. For each opening of a window (a time at which one or
more questionnaires fall due) a `MeasureSend` row is inserted first, in the transaction that
sends; its unique (course, opening) constraint lets only one of several workers through, so each
opening is sent at most once. Openings of one course that are due at the same time share one
link and one message. A questionnaire already completed inside its window is not sent;
questionnaires whose wording is licensed cannot be sent to a client and are recorded as not sent.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils.timezone import make_aware

from kapcare.core import audit
from kapcare.core.time import now, practice_zone
from kapcare.courses.models import Appointment, Course, Kind, MeasureSend, Phase, State
from kapcare.courses.protocols import PROTOCOLS
from kapcare.courses.reminders import contact_channel
from kapcare.courses.rules import utc
from kapcare.courses.schedule import DUE, Anchor, CourseEvents, MeasureRule, assess, due_list
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import Administration, Channel
from kapcare.measures.self_report import link_send, sendable_instruments

NO_CONTACT = "no contact: no e-mail address or phone number on record"


def course_started_at(course: Course) -> dt.datetime:
    return make_aware(dt.datetime.combine(course.started_on, dt.time()), practice_zone())


def course_events(course: Course, doses: Sequence[tuple[dt.datetime, str]]) -> CourseEvents:
    """The course's events from its dosing appointments, given as (starts_at, state) pairs of
    the booked and held ones."""
    times = sorted(utc(starts_at) for starts_at, _ in doses)
    held = sorted(utc(starts_at) for starts_at, state in doses if state == State.HELD)
    induction_ends_at = None
    if course.phase in (Phase.MAINTENANCE, Phase.COMPLETED) and times:
        series = max(course.plan.induction_doses.value, 1)
        induction_ends_at = times[min(series, len(times)) - 1]
    last_dose_at = held[-1] if course.phase == Phase.COMPLETED and held else None
    return CourseEvents(
        started_at=course_started_at(course),
        doses=tuple(times),
        induction_ends_at=induction_ends_at,
        last_dose_at=last_dose_at,
    )


def course_rules(course: Course) -> tuple[MeasureRule, ...]:
    """What the schedule sends for this course: its whole plan while open, the follow-ups after
    the last dose once completed, nothing once discontinued."""
    if course.is_open:
        return course.plan.measures
    if course.phase == Phase.COMPLETED:
        return tuple(r for r in course.plan.measures if r.anchor == Anchor.AFTER_LAST_DOSE)
    return ()


def _follow_up_horizon() -> dt.timedelta:
    """How long after a course's end a follow-up window can still be open (the latest follow-up
    opening plus its window, over the shipped protocols)."""
    hours = [
        offset + rule.window_hours
        for protocol in PROTOCOLS
        for rule in protocol.measures
        if rule.anchor == Anchor.AFTER_LAST_DOSE
        for offset in rule.offsets_hours
    ]
    return dt.timedelta(hours=max(hours, default=0))


def _courses(at: dt.datetime, course_ids: Sequence[uuid.UUID | str] | None) -> list[Course]:
    """Courses that may have a window open at `at`, with their doses and sends (three queries)."""
    horizon_start = (at - _follow_up_horizon()).astimezone(practice_zone()).date()
    found = Course.objects.filter(
        ~Q(phase__in=(Phase.COMPLETED, Phase.DISCONTINUED))
        | Q(phase=Phase.COMPLETED, ended_on__gte=horizon_start - dt.timedelta(days=1))
    )
    if course_ids is not None:
        found = found.filter(public_id__in=list(course_ids))
    doses = Appointment.objects.filter(kind=Kind.DOSING, state__in=(State.BOOKED, State.HELD))
    return list(
        found.select_related("client")
        .prefetch_related(
            Prefetch("appointments", queryset=doses, to_attr="doses"),
            Prefetch("measure_sends", queryset=MeasureSend.objects.only("course", "opens_at")),
        )
        .order_by("id")
    )


def openings_to_send(course: Course, at: dt.datetime) -> dict[dt.datetime, list[str]]:
    """Each opening of the course whose window is open at `at` and that has not been sent, with
    the instruments due in it that were not completed inside their window (one query, and none
    when nothing is open)."""
    doses: list[Appointment] | None = getattr(course, "doses", None)  # prefetched by _courses
    if doses is None:
        doses = _doses(course)
    events = course_events(course, [(a.starts_at, a.state) for a in doses])
    at = utc(at)
    sent = {utc(send.opens_at) for send in course.measure_sends.all()}
    open_now = [
        due
        for due in due_list(events, course_rules(course))
        if due.opens_at <= at < due.closes_at and due.opens_at not in sent
    ]
    if not open_now:
        return {}
    completed: dict[str, list[dt.datetime]] = defaultdict(list)
    for instrument, completed_at in (
        Administration.objects.current()
        .filter(
            client_id=course.client_id,
            instrument__in={due.instrument for due in open_now},
            completed_at__gte=min(due.opens_at for due in open_now),
            completed_at__lte=max(due.closes_at for due in open_now),
        )
        .values_list("instrument", "completed_at")
    ):
        completed[instrument].append(completed_at)
    wanted: dict[dt.datetime, list[str]] = defaultdict(list)
    for due, state in assess(open_now, completed, at):
        if state == DUE:
            wanted[due.opens_at].append(due.instrument)
    return dict(wanted)


def _doses(course: Course) -> list[Appointment]:
    return list(course.appointments.filter(kind=Kind.DOSING, state__in=(State.BOOKED, State.HELD)))


_SHORT = re.compile(r"\(([A-Z][A-Za-z0-9/-]+)")


def _names(codes: Sequence[str]) -> str:
    """ "PHQ-9, GAD-7" from the codes."""
    names = []
    for code in codes:
        name = INSTRUMENTS[code].name if code in INSTRUMENTS else code
        short = _SHORT.search(name)
        names.append(short.group(1) if short else name)
    return ", ".join(names)


def _outcome(instruments: Sequence[str], allowed: set[str], channel: str | None) -> str:
    sendable = [code for code in instruments if code in allowed]
    licensed = [code for code in instruments if code not in allowed]
    parts = []
    if channel is None:
        parts.append(NO_CONTACT)
    elif sendable:
        how = "e-mail" if channel == Channel.EMAIL else "text message"
        parts.append(f"sent by {how}: {_names(sendable)}")
    if licensed:
        parts.append(f"not sent (licensed wording, give in the clinic): {_names(licensed)}")
    return "; ".join(parts)


def _send(course: Course, openings: dict[dt.datetime, list[str]]) -> int:
    """Record the course's openings that are due and send what they ask for in one message;
    returns how many were recorded (0 when another worker got there first)."""
    client = course.client
    allowed = set(sendable_instruments())
    channel = contact_channel(client)
    wanted = [code for _, codes in sorted(openings.items()) for code in codes]
    sendable = [code for code in dict.fromkeys(wanted) if code in allowed]
    try:
        with transaction.atomic():
            # The rows first: a second worker's insert fails here (or waits for this
            # transaction and then fails), before it could send anything.
            sends = [
                MeasureSend.objects.create(course=course, opens_at=opens_at, instruments=codes)
                for opens_at, codes in sorted(openings.items())
            ]
            link = None
            if channel is not None and sendable:
                link = link_send(actor=None, client=client, instruments=sendable, channel=channel)
            for send in sends:
                if any(code in allowed for code in send.instruments):
                    send.link = link
                send.outcome = _outcome(send.instruments, allowed, channel)
                send.save(update_fields=["link", "outcome", "updated_at"])
                audit.record(
                    actor=None,
                    action="measure_send.create",
                    subject_type="measure_send",
                    subject_public_id=send.public_id,
                    client_public_id=client.public_id,
                    after={
                        "course": str(course.public_id),
                        "opens_at": send.opens_at,
                        "instruments": send.instruments,
                        "link": str(send.link.public_id) if send.link else None,
                        "outcome": send.outcome,
                    },
                )
    except IntegrityError:
        return 0
    return len(sends)


def measures_send_due(
    *, at: dt.datetime | None = None, course_ids: Sequence[uuid.UUID | str] | None = None
) -> int:
    """Send what every course's schedule has due at `at` (default: now), or only the courses
    with `course_ids`: one message per course for all its openings due then. Returns how many
    openings were recorded."""
    moment = at or now()
    recorded = 0
    for course in _courses(moment, course_ids):
        openings = openings_to_send(course, moment)
        if openings:
            recorded += _send(course, openings)
    return recorded


def dose_openings(course: Course, dose_at: dt.datetime) -> list[dt.datetime]:
    """When the windows anchored on one dose open (before and after it), for queueing the send
    at those times."""
    rules = [
        rule
        for rule in course.plan.measures
        if rule.anchor in (Anchor.BEFORE_EACH_DOSE, Anchor.AFTER_EACH_DOSE)
    ]
    events = CourseEvents(started_at=course_started_at(course), doses=(dose_at,))
    return sorted({due.opens_at for due in due_list(events, rules)})


def start_openings(course: Course) -> list[dt.datetime]:
    """When the windows anchored on the course's start open."""
    rules = [rule for rule in course.plan.measures if rule.anchor == Anchor.COURSE_START]
    events = CourseEvents(started_at=course_started_at(course))
    return sorted({due.opens_at for due in due_list(events, rules)})
