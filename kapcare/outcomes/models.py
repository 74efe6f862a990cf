"""Per-course outcome summaries: derived rows the program dashboard aggregates in the database.

They are never entered by anyone: `kapcare.outcomes.summaries` computes them from the records
(courses, appointments, dosing sessions, scores, flags, REMS forms) with the same pure rules the
client's progress page uses, and rewrites a course's rows whenever one of those records changes
(and nightly, for what time alone changes: an integration window closing, a durability date
passing). Being derived, they carry no audit trail of their own and may be rebuilt at any time
(`kapcare refresh_outcomes --all`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kapcare.clients.models import Client
from kapcare.courses.models import Course
from kapcare.courses.protocols import PROTOCOLS


class AgeBand(models.TextChoices):
    # Reporting bands (not clinical thresholds): ten-year bands, with the youngest and oldest
    # adults grouped so small cells are rarer.
    UNDER_25 = "18-24", "18–24"
    FROM_25 = "25-34", "25–34"
    FROM_35 = "35-44", "35–44"
    FROM_45 = "45-54", "45–54"
    FROM_55 = "55-64", "55–64"
    FROM_65 = "65+", "65 and over"
    UNKNOWN = "unknown", "Unknown"


class CourseSummary(models.Model):
    """One course's figures, with the dimensions the dashboard filters on."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="summary")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # Dimensions
    protocol = models.CharField(max_length=30, choices=[(p.code, p.name) for p in PROTOCOLS])
    route = models.CharField(max_length=20)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    phase = models.CharField(max_length=20)
    completed = models.BooleanField(default=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        "stock.Location", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    age_band = models.CharField(max_length=8, choices=AgeBand.choices)
    trauma_focused = models.BooleanField(default=False)
    # Counts
    dosing_sessions = models.PositiveIntegerField(default=0)  # sessions with a dose given
    integration_doses = models.PositiveIntegerField(default=0)  # doses whose window has closed
    integration_met = models.PositiveIntegerField(default=0)  # ... with a held session inside
    measures_expected = models.PositiveIntegerField(default=0)  # items done or whose window closed
    measures_done = models.PositiveIntegerField(default=0)
    appointments_attended = models.PositiveIntegerField(default=0)
    appointments_no_show = models.PositiveIntegerField(default=0)
    bp_excursion_sessions = models.PositiveIntegerField(default=0)
    rems_forms_due = models.PositiveIntegerField(default=0)  # submitted or past their deadline
    rems_forms_on_time = models.PositiveIntegerField(default=0)
    adverse_events = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["started_on"], name="summary_started"),
            models.Index(fields=["protocol", "started_on"], name="summary_protocol"),
        ]

    def __str__(self) -> str:
        return f"Summary of course {self.course_id}"


class CourseOutcome(models.Model):
    """One course's progress on one instrument, as `kapcare.outcomes.rules.progress` judged it.

    The dashboard filters these through their summary's dimensions."""

    summary = models.ForeignKey(  # one_outcome_each leads with it: no index of its own
        CourseSummary, on_delete=models.CASCADE, related_name="outcomes", db_index=False
    )
    instrument = models.CharField(max_length=40)
    scores = models.PositiveIntegerField()
    baseline = models.IntegerField()
    latest = models.IntegerField()
    change = models.IntegerField(null=True)  # latest - baseline; None with only the baseline
    responded = models.BooleanField(null=True)  # latest meets response; None: not judged
    remitted = models.BooleanField(null=True)  # latest at or below the remission threshold
    days_to_response = models.IntegerField(null=True)  # first response, days from baseline
    days_to_remission = models.IntegerField(null=True)
    relapsed = models.BooleanField(null=True)  # None: no remission to lose
    kept_3_months = models.BooleanField(null=True)  # None: not judged yet (or no remission)
    kept_6_months = models.BooleanField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["summary", "instrument"], name="one_outcome_each")
        ]
        indexes = [models.Index(fields=["instrument"], name="outcome_instrument")]

    def __str__(self) -> str:
        return f"{self.instrument} of summary {self.summary_id}"


class SafetyCategory(models.TextChoices):
    ADVERSE_EVENT = "adverse_event", "Adverse event"
    SIDE_EFFECT = "side_effect", "Side effect"


class CourseSafetyCount(models.Model):
    """How many adverse events (by seriousness) or side effects (by effect) of one severity a
    course's dosing sessions recorded."""

    summary = models.ForeignKey(CourseSummary, on_delete=models.CASCADE, related_name="safety")
    category = models.CharField(max_length=14, choices=SafetyCategory.choices)
    kind = models.CharField(max_length=40)  # seriousness, or the side effect
    severity = models.CharField(max_length=10)
    count = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.count} {self.kind} ({self.severity})"
