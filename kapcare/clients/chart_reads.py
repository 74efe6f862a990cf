"""The chart's own small reads, compiled once per process (kapcare.core.prepared): the chart is
the most opened page, and each of these costs Django more to build than the database to
answer. Each returns what the chart's template shows, nothing more."""

from __future__ import annotations

from django.db.models import QuerySet

from kapcare.accounts.models import name_fields
from kapcare.core.prepared import prepared
from kapcare.courses.models import Course
from kapcare.measures.models import SelfReportLink
from kapcare.safety.models import RiskAssessment
from kapcare.screening.models import ScreeningDecision, ScreenRun

SHOWN = 5  # sent links and risk assessments listed on the chart


@prepared(arguments=1)
def courses(client_id: int) -> QuerySet[Course]:
    return Course.objects.filter(client_id=client_id).order_by("started_on", "id")


@prepared(arguments=1)
def self_report_links(client_id: int) -> QuerySet[SelfReportLink]:
    return SelfReportLink.objects.filter(client_id=client_id)[:SHOWN]


@prepared(arguments=1)
def risk_assessments(client_id: int) -> QuerySet[RiskAssessment]:
    return (
        RiskAssessment.objects.filter(client_id=client_id)
        .select_related("assessed_by")
        .only(
            "client",
            "assessed_at",
            "risk_level",
            "actions",
            "safety_plan",
            *name_fields("assessed_by"),
        )[:SHOWN]
    )


@prepared(arguments=1)
def screening_run(client_id: int) -> QuerySet[ScreenRun]:
    return ScreenRun.objects.filter(client_id=client_id).only("client", "status", "ran_at")[:1]


@prepared(arguments=1)
def screening_decision(client_id: int) -> QuerySet[ScreeningDecision]:
    return (
        ScreeningDecision.objects.filter(client_id=client_id)
        .select_related("decided_by")
        .only(
            "client",
            "decision",
            "decided_at",
            "invalidated_at",
            "invalidation_reason",
            *name_fields("decided_by"),
        )[:1]
    )
