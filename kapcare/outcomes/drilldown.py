"""The courses behind each dashboard figure, limited to the clients the reader may see.

A figure's list is the cohort (`Filters.courses()`) narrowed by the figure's own condition; the
rows a user gets are those of clients on their care teams (all clients for practice admins), and
the page says how many more courses lie behind the figure that the user may not open.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, FilteredRelation, Q, QuerySet

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.outcomes.dashboard import Filters
from kapcare.outcomes.models import CourseSummary, SafetyCategory


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    condition: Q
    needs_outcome: bool = False


FIGURES: dict[str, Figure] = {
    figure.key: figure
    for figure in (
        Figure("started", "Courses started", Q()),
        Figure("completed", "Courses completed", Q(completed=True)),
        Figure("judged", "Courses with a response judged", Q(o__responded__isnull=False), True),
        Figure("responders", "Responders", Q(o__responded=True), True),
        Figure("non_responders", "Not responding (yet)", Q(o__responded=False), True),
        Figure("remitters", "In remission", Q(o__remitted=True), True),
        Figure("not_remitted", "Not in remission", Q(o__remitted=False), True),
        Figure(
            "time_to_response", "With a first response", Q(o__days_to_response__isnull=False), True
        ),
        Figure("kept_3_months", "Remission kept 3 months", Q(o__kept_3_months=True), True),
        Figure("lost_3_months", "Remission lost within 3 months", Q(o__kept_3_months=False), True),
        Figure("kept_6_months", "Remission kept 6 months", Q(o__kept_6_months=True), True),
        Figure("lost_6_months", "Remission lost within 6 months", Q(o__kept_6_months=False), True),
        Figure("relapsed", "Relapsed after remission", Q(o__relapsed=True), True),
        Figure("change", "With a change from baseline", Q(o__change__isnull=False), True),
        Figure(
            "measures_missed",
            "Missed a scheduled questionnaire",
            Q(measures_done__lt=F("measures_expected")),
        ),
        Figure(
            "integration_missed",
            "A dose without integration inside the window",
            Q(integration_met__lt=F("integration_doses")),
        ),
        Figure("adverse_events", "With an adverse event", Q(adverse_events__gt=0)),
        Figure(
            "side_effects",
            "With a side effect",
            Q(safety__category=SafetyCategory.SIDE_EFFECT),
        ),
        Figure("bp_excursions", "With a BP stop-level excursion", Q(bp_excursion_sessions__gt=0)),
        Figure(
            "rems_late",
            "A REMS form late or missing",
            Q(rems_forms_on_time__lt=F("rems_forms_due")),
        ),
        Figure("no_shows", "With a missed appointment", Q(appointments_no_show__gt=0)),
    )
}

PAGE = 100


@dataclass(frozen=True)
class DrillDown:
    figure: Figure
    rows: list[CourseSummary]  # with `outcome_*` attributes for the instrument
    total: int  # courses behind the figure, whoever may see them
    visible: int  # of which on the reader's care teams
    page: int
    pages: int


def figure_courses(figure: Figure, filters: Filters) -> QuerySet[CourseSummary]:
    found = filters.courses()
    if figure.needs_outcome:
        found = found.annotate(
            o=FilteredRelation("outcomes", condition=Q(outcomes__instrument=filters.instrument))
        )
    return (
        found.filter(figure.condition).distinct()
        if figure.key == "side_effects"
        else (found.filter(figure.condition))
    )


def rows_for(figure: Figure, filters: Filters, user: User) -> QuerySet[CourseSummary]:
    """The figure's courses the user may see, each with its outcome on the chosen instrument."""
    courses = figure_courses(figure, filters).filter(client__in=visible_clients(user))
    if not figure.needs_outcome:
        courses = courses.annotate(
            o=FilteredRelation("outcomes", condition=Q(outcomes__instrument=filters.instrument))
        )
    return (
        courses.select_related("client", "therapist", "prescriber", "location")
        .annotate(
            outcome_baseline=F("o__baseline"),
            outcome_latest=F("o__latest"),
            outcome_change=F("o__change"),
            outcome_responded=F("o__responded"),
            outcome_remitted=F("o__remitted"),
            outcome_days_to_response=F("o__days_to_response"),
            outcome_relapsed=F("o__relapsed"),
        )
        .order_by("-started_on", "id")
    )


def drill_down(figure: Figure, filters: Filters, user: User, *, page: int = 1) -> DrillDown:
    """One page of the figure's visible courses, in four queries whatever the numbers."""
    total = figure_courses(figure, filters).count()
    visible_rows = rows_for(figure, filters, user)
    visible = visible_rows.count()
    pages = max(1, -(-visible // PAGE))
    page = min(max(page, 1), pages)
    rows = list(visible_rows[(page - 1) * PAGE : page * PAGE])
    return DrillDown(figure, rows, total, visible, page, pages)
