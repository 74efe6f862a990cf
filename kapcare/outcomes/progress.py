"""A client's progress through their current course, read from the record in a fixed number of
queries (three with a course, two without): the scores on each instrument judged by the pure
rules (`kapcare.outcomes.rules.progress`), the doses received and the integration adherence.

Which course: the open one, else the one that started last. Its scores are the current
(uncorrected) administrations with a total from the start of the course's start day in the
practice zone (`kapcare.courses.measure_sends.course_started_at`, the moment the baseline gate
counts from) up to the start of the client's next course, if there is one, and never later than
`now`. The baseline is the first of those scores, as the baseline gate counts them.

Without any course, progress runs over all the client's scores, the first one being the baseline.

Doses received are the course's dosing sessions with a dose recorded (a session that took place:
its appointment need not be marked held yet). Integration adherence is judged against each dose's
session end (when the integration window opens, as on the course plan) and the integration
sessions of the course marked held, with the window pinned by the course
(`plan.integration_within_hours`); a window still open with nothing held is pending.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from kapcare.clients.models import Client
from kapcare.core.prepared import prepared
from kapcare.core.time import practice_zone
from kapcare.courses.measure_sends import course_started_at
from kapcare.courses.models import Appointment, Course, Kind, State
from kapcare.courses.selectors import short_instrument_name
from kapcare.dosing.models import AdverseEvent, DoseRoute, Seriousness
from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.models import Administration
from kapcare.measures.rules import RemissionRule
from kapcare.measures.selectors import remission_rules
from kapcare.outcomes import rules

# Where the response and remission definitions come from (shown beside every judgement).
SOURCE = "clinical-facts §6.2"
MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True)
class DoseReceived:
    """One dose of the course: when it was given, the route and the amount, and when its dosing
    session ended (the integration window opens then)."""

    given_at: dt.datetime
    session_ends_at: dt.datetime
    route: str  # the route's label
    dose_mg: decimal.Decimal
    mg_per_kg: decimal.Decimal | None
    devices: int | None

    @property
    def amount(self) -> str:
        text = f"{self.dose_mg.normalize():f} mg"
        if self.mg_per_kg is not None:
            text += f" ({self.mg_per_kg.normalize():f} mg/kg)"
        if self.devices:
            text += f", {self.devices} device{'s' if self.devices != 1 else ''}"
        return text


@dataclass(frozen=True)
class Standing:
    """A durability window as people read it: kept, lost or not yet judged, and why."""

    label: str
    days: int
    status: str  # "kept", "lost", "not yet judged"
    reason: str


def percent_text(value: decimal.Decimal | None) -> str:
    """-61.1 as "-61.1%", -61.0 as "-61%", 12.5 as "+12.5%", with a true minus sign (U+2212)."""
    if value is None:
        return ""
    text = f"{abs(value).normalize():f}"
    sign = MINUS if value < 0 else "+" if value > 0 else ""
    return f"{sign}{text}%"


def _signed(value: int) -> str:
    return f"{MINUS}{abs(value)}" if value < 0 else f"+{value}" if value > 0 else "0"


@dataclass(frozen=True)
class InstrumentProgress:
    """One instrument's progress over the course, with the previous score (the second latest)."""

    instrument: Instrument
    progress: rules.Progress
    settings: rules.ProgressSettings
    zone: dt.tzinfo

    @property
    def code(self) -> str:
        return self.instrument.code

    @property
    def short_name(self) -> str:
        return short_instrument_name(self.instrument.code)

    @property
    def baseline(self) -> rules.Score | None:
        return self.progress.baseline

    @property
    def latest(self) -> rules.Score | None:
        return self.progress.latest

    @property
    def previous(self) -> rules.Score | None:
        """The score before the latest (None with fewer than two scores)."""
        scores = self.progress.scores
        return scores[-2] if len(scores) >= 2 else None

    @property
    def change(self) -> rules.Change | None:
        return self.progress.change

    @property
    def change_text(self) -> str:
        change = self.progress.change
        if change is None:
            return ""
        percent = percent_text(change.percent)
        return _signed(change.absolute) + (f" ({percent})" if percent else "")

    @property
    def remission_rule(self) -> RemissionRule | None:
        return self.settings.remission.get(self.code)

    @property
    def defined(self) -> bool:
        """Whether clinical-facts §6.2 defines response and remission for this instrument (the
        instruments with a remission rule: PHQ-9, QIDS-SR16, MADRS). Other instruments show
        their change only."""
        return self.remission_rule is not None

    @property
    def response_definition(self) -> str:
        percent = f"{decimal.Decimal(self.settings.response_percent).normalize():f}"
        return f"≥{percent}% reduction from baseline ({SOURCE})"

    @property
    def remission_definition(self) -> str:
        rule = self.remission_rule
        if rule is None:
            return ""
        return f"total ≤{rule.at_most} ({rule.source}; {SOURCE})"

    @property
    def response(self) -> bool | None:
        return self.progress.response if self.defined else None

    @property
    def remission(self) -> bool | None:
        # A single score is the baseline: remission is judged against later scores.
        if not self.defined or len(self.progress.scores) < 2:
            return None
        return self.progress.remission

    @property
    def response_reason(self) -> str:
        return self.progress.reasons.get("response", "")

    @property
    def remission_reason(self) -> str:
        if len(self.progress.scores) < 2:
            return "Only the baseline so far: no later score to judge."
        return self.progress.reasons.get("remission", "")

    @property
    def durability(self) -> list[Standing]:
        rows = []
        for item in self.progress.durability:
            months = round(item.days / 30.4)
            label = f"{months} months ({item.days} days)"
            if item.kept is True:
                rows.append(
                    Standing(label, item.days, "kept", f"No relapse through day {item.days}.")
                )
            elif item.kept is False:
                rows.append(Standing(label, item.days, "lost", item.reason))
            else:
                rows.append(Standing(label, item.days, "not yet judged", item.reason))
        return rows

    def _day(self, score: rules.Score) -> str:
        return f"{score.at.astimezone(self.zone):%Y-%m-%d}"

    def status_words(self) -> list[str]:
        """ "response", "remission", "relapse" and their negatives, as far as they are judged."""
        words = []
        if self.response is not None:
            words.append("response" if self.response else "no response")
        if self.remission is not None:
            words.append("remission" if self.remission else "not in remission")
        if self.progress.relapse is not None:
            words.append(f"relapse on {self._day(self.progress.relapse)}")
        return words

    @property
    def note_line(self) -> str:
        """What a session note says of this instrument, e.g. "PHQ-9: baseline 18 (2026-03-02),
        previous 11 (2026-04-01), latest 7 (2026-04-15), -61.1% from baseline; response;
        remission"."""
        base, latest, previous = self.baseline, self.latest, self.previous
        if base is None or latest is None:
            return f"{self.short_name}: no scores."
        parts = [f"baseline {base.total} ({self._day(base)})"]
        if previous is not None and previous != base:
            parts.append(f"previous {previous.total} ({self._day(previous)})")
        if latest != base:
            parts.append(f"latest {latest.total} ({self._day(latest)})")
        text = f"{self.short_name}: " + ", ".join(parts)
        change = self.progress.change
        if change is None:
            return text + "; no later score yet."
        if change.percent is not None:
            text += f", {percent_text(change.percent)} from baseline"
        else:
            text += f", {_signed(change.absolute)} from baseline"
        return "; ".join([text, *self.status_words()])

    @property
    def header_text(self) -> str:
        """The compact form for the chart's header: "PHQ-9 18 → 7 (-61.1%)"."""
        base, latest = self.baseline, self.latest
        if base is None or latest is None:
            return self.short_name
        if latest == base:
            return f"{self.short_name} {base.total} (baseline)"
        percent = percent_text(self.change.percent) if self.change else ""
        return f"{self.short_name} {base.total} → {latest.total}" + (
            f" ({percent})" if percent else ""
        )

    def chart(self, doses: Sequence[DoseReceived] = ()) -> dict[str, object] | None:
        """The trajectory for kapcare/measures/static/measures/trajectory.js (the same shape
        as the chart page's), with `doses` drawn as markers; None with nothing to plot."""
        scores = self.progress.scores
        instrument = self.instrument
        if not scores or instrument.total_range is None:
            return None
        start = scores[0].at

        def days(moment: dt.datetime) -> float:
            return round((moment - start).total_seconds() / 86400, 2)

        rule = self.remission_rule
        return {
            "name": instrument.name,
            "start": start.isoformat(),
            "range": list(instrument.total_range),
            "bands": [
                {"low": band.low, "high": band.high, "label": band.label}
                for band in instrument.bands
            ],
            "points": [{"days": days(score.at), "total": score.total} for score in scores],
            "markers": [
                {"days": days(dose.given_at), "label": f"{dose.dose_mg.normalize():f} mg"}
                for dose in doses
                if dose.given_at >= start
            ],
            "baseline": scores[0].total if self.defined else None,
            "remission_at": rule.at_most if rule else None,
        }


@dataclass(frozen=True)
class ClientProgress:
    client: Client
    course: Course | None
    # The scores' window: from (None: the first score) until (None: now).
    since: dt.datetime | None
    until: dt.datetime | None
    next_course: Course | None
    instruments: tuple[InstrumentProgress, ...]
    doses: tuple[DoseReceived, ...]
    adherence: rules.Adherence | None  # None without a course
    now: dt.datetime

    def get(self, code: str) -> InstrumentProgress | None:
        return next((item for item in self.instruments if item.code == code), None)

    @property
    def main(self) -> InstrumentProgress | None:
        """The instrument the header leads with: the first with response and remission
        definitions (PHQ-9, then QIDS-SR16, then MADRS), else the first with scores."""
        defined = [item for item in self.instruments if item.defined]
        return next(iter(defined or self.instruments), None)

    @property
    def adherence_text(self) -> str:
        adherence = self.adherence
        if adherence is None or not adherence.doses:
            return ""
        text = f"integration {adherence.met}/{adherence.evaluated}"
        if adherence.pending:
            text += f" ({adherence.pending} pending)"
        return text

    @property
    def header(self) -> str:
        """ "PHQ-9 18 → 7 (-61.1%) · response · remission · 4 doses · integration 4/4"; the
        dose and integration parts only with a course."""
        parts: list[str] = []
        main = self.main
        if main is not None:
            parts.append(main.header_text)
            parts += [word for word in main.status_words() if not word.startswith("relapse")]
            if main.progress.relapse is not None:
                parts.append("relapse")
        if self.course is not None:
            count = len(self.doses)
            parts.append(f"{count} dose{'' if count == 1 else 's'}")
            if self.adherence_text:
                parts.append(self.adherence_text)
        return " · ".join(parts)

    @property
    def note_text(self) -> str:
        """One line per instrument with scores, for a session note."""
        return "\n".join(item.note_line for item in self.instruments)


def _current_course(courses: Sequence[Course]) -> tuple[Course | None, Course | None]:
    """(the current course, the one that started after it) from the client's courses sorted
    by start."""
    if not courses:
        return None, None
    current = next((course for course in courses if course.is_open), courses[-1])
    index = courses.index(current)
    later = courses[index + 1 :]
    return current, later[0] if later else None


def _doses_and_adherence(
    course: Course, now: dt.datetime
) -> tuple[tuple[DoseReceived, ...], rules.Adherence]:
    appointments = _dosing_and_integration(course.pk)
    routes = dict(DoseRoute.choices)
    doses: list[DoseReceived] = []
    held: list[dt.datetime] = []
    for kind, state, starts_at, ends_at, given_at, route, dose_mg, per_kg, devices in appointments:
        if kind == Kind.INTEGRATION:
            if state == State.HELD:
                held.append(starts_at)
            continue
        if given_at is None:  # no session yet, or no dose given in it
            continue
        doses.append(
            DoseReceived(
                given_at=given_at,
                session_ends_at=ends_at,
                route=routes[route],
                dose_mg=dose_mg,
                mg_per_kg=per_kg,
                devices=devices,
            )
        )
    doses.sort(key=lambda item: item.given_at)
    adherence = rules.integration_adherence(
        [dose.session_ends_at for dose in doses],
        held,
        int(course.plan.integration_within_hours.value),
        now=now,
    )
    return tuple(doses), adherence


@prepared(arguments=1)
def _dosing_and_integration(course_id: int) -> QuerySet[Any]:
    # Plain values: a dosing session's row also holds its whole pre-dose check and discharge.
    # Read on every chart: compiled once (kapcare.core.prepared).
    return (
        Appointment.objects.filter(course_id=course_id, kind__in=(Kind.DOSING, Kind.INTEGRATION))
        .exclude(state__in=(State.CANCELLED, State.NO_SHOW))
        .order_by("starts_at", "id")
        .values_list(
            "kind",
            "state",
            "starts_at",
            "ends_at",
            "dosing_session__dose__given_at",
            "dosing_session__dose__route",
            "dosing_session__dose__dose_mg",
            "dosing_session__dose__mg_per_kg",
            "dosing_session__dose__devices",
        )
    )


def _scores(
    client: Client,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    now: dt.datetime,
    administrations: Sequence[Administration] | None,
) -> list[tuple[str, dt.datetime, int | None]]:
    """(instrument, completed at, total) of the current scored administrations in the window,
    oldest first: from `administrations` (the client's current ones, oldest first) when given."""
    if administrations is not None:
        return [
            (a.instrument, a.completed_at, a.total)
            for a in administrations
            if a.total is not None
            and a.completed_at <= now
            and (since is None or a.completed_at >= since)
            and (until is None or a.completed_at < until)
        ]
    found = Administration.objects.current().filter(
        client=client, total__isnull=False, completed_at__lte=now
    )
    if since is not None:
        found = found.filter(completed_at__gte=since)
    if until is not None:
        found = found.filter(completed_at__lt=until)
    return list(
        found.order_by("completed_at", "id").values_list("instrument", "completed_at", "total")
    )


def _instruments(
    client: Client,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    now: dt.datetime,
    administrations: Sequence[Administration] | None = None,
) -> tuple[InstrumentProgress, ...]:
    grouped: dict[str, list[rules.Score]] = {}
    for code, at, total in _scores(
        client, since=since, until=until, now=now, administrations=administrations
    ):
        if code in INSTRUMENTS and total is not None:
            grouped.setdefault(code, []).append(rules.Score(at=at, total=total))
    settings = rules.ProgressSettings(remission=remission_rules())
    zone = practice_zone()
    found = [
        InstrumentProgress(
            instrument=INSTRUMENTS[code],
            progress=rules.progress(scores, instrument=code, now=now, zone=zone, settings=settings),
            settings=settings,
            zone=zone,
        )
        for code, scores in grouped.items()
    ]
    order = list(INSTRUMENTS)
    found.sort(key=lambda item: order.index(item.code))
    return tuple(found)


def progress_for_course(
    course: Course,
    *,
    now: dt.datetime,
    next_course: Course | None = None,
    administrations: Sequence[Administration] | None = None,
) -> ClientProgress:
    """Progress through one course (its scores stop at `next_course`'s start, if given)."""
    since = course_started_at(course)
    until = course_started_at(next_course) if next_course is not None else None
    doses, adherence = _doses_and_adherence(course, now)
    return ClientProgress(
        client=course.client,
        course=course,
        since=since,
        until=until,
        next_course=next_course,
        instruments=_instruments(
            course.client, since=since, until=until, now=now, administrations=administrations
        ),
        doses=doses,
        adherence=adherence,
        now=now,
    )


def client_progress(
    client: Client,
    *,
    now: dt.datetime,
    courses: Sequence[Course] | None = None,
    administrations: Sequence[Administration] | None = None,
) -> ClientProgress:
    """The client's progress through their current course (the open one, else the one that
    started last); without any course, over all their scores. Three queries with a course,
    two without, however long the history; one, when the caller passes what it has read
    already: the client's `courses` (oldest first) and current `administrations` (oldest
    first, as `measures.selectors.current_administrations` reads them)."""
    if courses is None:
        courses = list(Course.objects.filter(client=client).order_by("started_on", "id"))
    course, following = _current_course(courses)
    if course is None:
        return ClientProgress(
            client=client,
            course=None,
            since=None,
            until=None,
            next_course=None,
            instruments=_instruments(
                client, since=None, until=None, now=now, administrations=administrations
            ),
            doses=(),
            adherence=None,
            now=now,
        )
    course.client = client  # already loaded: no query for it
    return progress_for_course(
        course, now=now, next_course=following, administrations=administrations
    )


@dataclass(frozen=True)
class AdverseEventCount:
    total: int
    serious: int


def adverse_events_during(progress: ClientProgress) -> AdverseEventCount:
    """The adverse events recorded for the client with an onset inside the progress window (the
    course's, or any time without a course), and how many were serious (one query)."""
    events = AdverseEvent.objects.filter(client=progress.client, onset_at__lte=progress.now)
    if progress.since is not None:
        events = events.filter(onset_at__gte=progress.since)
    if progress.until is not None:
        events = events.filter(onset_at__lt=progress.until)
    counts = events.aggregate(
        total=Count("id"), serious=Count("id", filter=Q(seriousness=Seriousness.SERIOUS))
    )
    return AdverseEventCount(total=counts["total"], serious=counts["serious"])
