"""The program dashboard's figures, aggregated in the database over the per-course summaries.

A dashboard describes a cohort: the courses that started in the period and match the filters.
Every figure is about those courses (their outcomes, their sessions, their forms), so numerators
and denominators always come from the same courses. Each figure is a handful of aggregate
queries whatever the number of courses (no per-course work in Python); the confidence intervals
and rates are then arithmetic on the counts (`kapcare.outcomes.rules`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from kapcare.accounts.models import User
from kapcare.courses.protocols import PROTOCOLS
from kapcare.dosing.models import Seriousness, Severity, SideEffect
from kapcare.outcomes import rules
from kapcare.outcomes.models import (
    CourseOutcome,
    CourseSafetyCount,
    CourseSummary,
    SafetyCategory,
)

INSTRUMENTS = ("phq9", "qids_sr16", "madrs")  # those with response and remission (§6.2)
YES, NO = "yes", "no"


@dataclass(frozen=True)
class Filters:
    """The cohort: courses started between `start` and `end` (both included)."""

    start: dt.date
    end: dt.date
    instrument: str = "phq9"
    protocol: str = ""
    route: str = ""
    clinician: int | None = None  # the course's therapist or prescriber
    location: int | None = None
    age_band: str = ""
    trauma_focused: str = ""  # "yes", "no" or "" for both

    def cohort(self, via: str = "") -> Q:
        """The cohort's conditions on the course summary, reached through `via` ("summary__"
        from the outcomes and safety counts: one join, not a subquery joined again)."""
        at = {
            "started_on__gte": self.start,
            "started_on__lte": self.end,
            "protocol": self.protocol,
            "route": self.route,
            "location_id": self.location,
            "age_band": self.age_band,
        }
        found = Q(
            **{f"{via}{name}": value for name, value in at.items() if value not in ("", None)}
        )
        if self.clinician is not None:
            found &= Q(**{f"{via}therapist_id": self.clinician}) | Q(
                **{f"{via}prescriber_id": self.clinician}
            )
        if self.trauma_focused:
            found &= Q(**{f"{via}trauma_focused": self.trauma_focused == YES})
        return found

    def courses(self) -> QuerySet[CourseSummary]:
        return CourseSummary.objects.filter(self.cohort())

    def outcomes(self) -> QuerySet[CourseOutcome]:
        return CourseOutcome.objects.filter(self.cohort("summary__"), instrument=self.instrument)


@dataclass(frozen=True)
class Proportion:
    """`part` of `whole`, with its Wilson 95% interval."""

    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return rules.wilson_interval(self.part, self.whole)


@dataclass(frozen=True)
class Spread:
    n: int
    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class SafetyRow:
    category: str
    kind: str
    severity: str
    count: int
    per_100: float | None

    @property
    def label(self) -> str:
        """ "Adverse event, serious" or "Nausea", as the dosing records name them."""
        if self.category == SafetyCategory.ADVERSE_EVENT:
            kind = dict(Seriousness.choices).get(self.kind, self.kind)
            return f"Adverse event, {kind.lower()}"
        return str(dict(SideEffect.choices).get(self.kind, self.kind.replace("_", " ").title()))

    @property
    def severity_label(self) -> str:
        return str(dict(Severity.choices).get(self.severity, self.severity))


@dataclass(frozen=True)
class ProtocolRow:
    protocol: str
    courses: int
    response: Proportion
    remission: Proportion


@dataclass(frozen=True)
class Dashboard:
    filters: Filters
    courses_started: int
    courses_completed: int
    response: Proportion
    remission: Proportion
    median_days_to_response: float | None
    responders_with_days: int
    kept_3_months: Proportion
    kept_6_months: Proportion
    relapse: Proportion
    change: Spread
    measurement: Proportion
    integration: Proportion
    dosing_sessions: int
    adverse_events: int
    adverse_per_100: float | None
    bp_excursions: int
    bp_per_100: float | None
    rems: Proportion
    no_show: Proportion
    safety: tuple[SafetyRow, ...] = ()
    by_protocol: tuple[ProtocolRow, ...] = ()
    by_month: tuple[tuple[dt.date, int], ...] = ()
    as_of: dt.datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _sum(name: str) -> Coalesce:
    return Coalesce(Sum(name), 0)


# The course counts summed over the cohort (besides `started` and `completed`).
SUMMED = {
    "sessions": "dosing_sessions",
    "integration_doses": "integration_doses",
    "integration_met": "integration_met",
    "expected": "measures_expected",
    "done": "measures_done",
    "attended": "appointments_attended",
    "no_show": "appointments_no_show",
    "bp": "bp_excursion_sessions",
    "rems_due": "rems_forms_due",
    "rems_on_time": "rems_forms_on_time",
    "adverse": "adverse_events",
}
# The outcome counts (and the sums for the mean change), per protocol and, added up, over the
# cohort. (Django copies an expression into each query that uses it.)
JUDGED = {
    "courses": Count("id"),
    "response_n": Count("id", filter=Q(responded__isnull=False)),
    "responders": Count("id", filter=Q(responded=True)),
    "remission_n": Count("id", filter=Q(remitted__isnull=False)),
    "remitters": Count("id", filter=Q(remitted=True)),
    "kept3_n": Count("id", filter=Q(kept_3_months__isnull=False)),
    "kept3": Count("id", filter=Q(kept_3_months=True)),
    "kept6_n": Count("id", filter=Q(kept_6_months__isnull=False)),
    "kept6": Count("id", filter=Q(kept_6_months=True)),
    "relapse_n": Count("id", filter=Q(relapsed__isnull=False)),
    "relapsed": Count("id", filter=Q(relapsed=True)),
    "change_n": Count("change"),
    "change_sum": _sum("change"),
    "change_squares": Coalesce(Sum(F("change") * F("change")), 0),
    "with_days": Count("days_to_response"),
}


def dashboard(filters: Filters) -> Dashboard:
    """Every figure for the cohort, in four queries whatever its size.

    The cohort is read twice in groups (by month, and its outcomes by protocol): the monthly
    rows are the month chart and, added up, the totals; the protocol rows are the protocol
    chart and, added up, the outcome figures. Adding a few dozen group rows in Python is exact
    (every figure is a count or a sum of integers) and spares the database a scan per figure."""
    courses = filters.courses()
    monthly = list(
        courses.annotate(month=TruncMonth("started_on"))
        .values("month")
        .annotate(
            started=Count("id"),
            completed=Count("id", filter=Q(completed=True)),
            oldest=Min("refreshed_at"),
            **{key: _sum(column) for key, column in SUMMED.items()},
        )
        .order_by("month")
    )
    totals: dict[str, int] = {
        key: sum(row[key] for row in monthly)  # type: ignore[literal-required]
        for key in ("started", "completed", *SUMMED)
    }
    protocols = _by_protocol(filters)
    judged = {key: sum(row[key] for row in protocols.values()) for key in JUDGED}
    median = _median(filters.outcomes().filter(days_to_response__isnull=False), judged["with_days"])
    n = judged["change_n"]
    sessions = totals["sessions"]
    return Dashboard(
        filters=filters,
        courses_started=totals["started"],
        courses_completed=totals["completed"],
        response=Proportion(judged["responders"], judged["response_n"]),
        remission=Proportion(judged["remitters"], judged["remission_n"]),
        median_days_to_response=median,
        responders_with_days=judged["with_days"],
        kept_3_months=Proportion(judged["kept3"], judged["kept3_n"]),
        kept_6_months=Proportion(judged["kept6"], judged["kept6_n"]),
        relapse=Proportion(judged["relapsed"], judged["relapse_n"]),
        change=_spread(
            n,
            judged["change_sum"] / n if n else None,
            judged["change_squares"] / n if n else None,
        ),
        measurement=Proportion(totals["done"], totals["expected"]),
        integration=Proportion(totals["integration_met"], totals["integration_doses"]),
        dosing_sessions=sessions,
        adverse_events=totals["adverse"],
        adverse_per_100=rules.rate_per_100(totals["adverse"], sessions),
        bp_excursions=totals["bp"],
        bp_per_100=rules.rate_per_100(totals["bp"], sessions),
        rems=Proportion(totals["rems_on_time"], totals["rems_due"]),
        no_show=Proportion(totals["no_show"], totals["attended"] + totals["no_show"]),
        safety=_safety(filters, sessions),
        by_protocol=tuple(
            ProtocolRow(
                protocol.code,
                row["courses"],
                Proportion(row["responders"], row["response_n"]),
                Proportion(row["remitters"], row["remission_n"]),
            )
            for protocol in PROTOCOLS
            if (row := protocols.get(protocol.code)) is not None
        ),
        by_month=tuple((row["month"], row["started"]) for row in monthly),
        as_of=min((row["oldest"] for row in monthly if row["oldest"] is not None), default=None),
    )


def _median(values: QuerySet[CourseOutcome], n: int) -> float | None:
    """The median of days to first response, read from the database's sort (one query)."""
    if n == 0:
        return None
    middle = [
        days
        for days in values.order_by("days_to_response").values_list("days_to_response", flat=True)[
            (n - 1) // 2 : n // 2 + 1
        ]
        if days is not None
    ]
    return sum(middle) / len(middle)


def _spread(n: int, mean: float | None, mean_square: float | None) -> Spread:
    """Mean and sample standard deviation from the mean and the mean of squares."""
    if n == 0 or mean is None or mean_square is None:
        return Spread(n, None, None)
    if n == 1:
        return Spread(n, mean, None)
    variance = max(0.0, (mean_square - mean * mean) * n / (n - 1))
    return Spread(n, mean, math.sqrt(variance))


def _safety(filters: Filters, sessions: int) -> tuple[SafetyRow, ...]:
    rows = (
        CourseSafetyCount.objects.filter(filters.cohort("summary__"))
        .values("category", "kind", "severity")
        .annotate(total=Sum("count"))
        .order_by("category", "-total", "kind", "severity")
    )
    return tuple(
        SafetyRow(
            row["category"],
            row["kind"],
            row["severity"],
            row["total"],
            rules.rate_per_100(row["total"], sessions),
        )
        for row in rows
    )


def _by_protocol(filters: Filters) -> dict[str, dict[str, Any]]:
    """The cohort's outcome counts (and the sums for the mean change) by protocol."""
    return {
        row["summary__protocol"]: dict(row)
        for row in filters.outcomes().values("summary__protocol").annotate(**JUDGED).order_by()
    }


# ---------------------------------------------------------------------------------------------
# Who may see what


def can_view_dashboard(user: User) -> bool:
    """Practice admins and prescribers see the whole practice's figures; therapists see the
    figures of their own courses (the clinician filter fixed to themselves)."""
    return user.is_active and (user.is_practice_admin or user.is_prescriber or user.is_therapist)


def sees_whole_practice(user: User) -> bool:
    return user.is_practice_admin or user.is_prescriber


def scoped(filters: Filters, user: User) -> Filters:
    """The filters a user may use: a therapist's are always their own courses."""
    if sees_whole_practice(user):
        return filters
    return replace(filters, clinician=user.id)


def months(values: Sequence[tuple[dt.date, int]]) -> list[dict[str, object]]:
    return [{"month": f"{day:%Y-%m}", "courses": n} for day, n in values]
