"""The program dashboard, the courses behind each figure, and their CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from kapcare.accounts.models import User
from kapcare.accounts.reauth import fresh_authentication_required
from kapcare.core import audit
from kapcare.core.time import now, practice_zone
from kapcare.core.views import staff_user
from kapcare.courses.protocols import PROTOCOLS
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.outcomes import dashboard as figures
from kapcare.outcomes.dashboard_forms import DashboardFilterForm
from kapcare.outcomes.drilldown import FIGURES, Figure, drill_down, rows_for
from kapcare.outcomes.summaries import progress_settings


def _viewer(request: HttpRequest) -> User:
    user = staff_user(request)
    if not figures.can_view_dashboard(user):
        raise Http404("No such page.")
    return user


def _form(request: HttpRequest) -> DashboardFilterForm:
    return DashboardFilterForm(request.GET or None, today=now().astimezone(practice_zone()).date())


def _cohort(request: HttpRequest, user: User) -> tuple[DashboardFilterForm, figures.Filters | None]:
    form = _form(request)
    if request.GET:
        if not form.is_valid():
            return form, None
    else:
        form = DashboardFilterForm({}, today=form.today)
        form.is_valid()
    return form, figures.scoped(form.filters(), user)


def _query(request: HttpRequest, **changes: str) -> str:
    query = QueryDict(mutable=True)
    query.update(request.GET)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    form, cohort = _cohort(request, user)
    context: dict[str, Any] = {
        "form": form,
        "whole_practice": figures.sees_whole_practice(user),
        "query": _query(request),
    }
    if cohort is not None:
        board = figures.dashboard(cohort)
        instrument = INSTRUMENTS[cohort.instrument]
        remission = progress_settings().remission.get(cohort.instrument)
        context.update(
            board=board,
            instrument=instrument,
            remission_at_most=remission.at_most if remission else None,
            remission_source=remission.source if remission else "",
            response_percent=progress_settings().response_percent,
            as_of=board.as_of,
            protocol_rows=[
                (dict(_protocol_names())[row.protocol], row) for row in board.by_protocol
            ],
            charts={
                "protocols": [
                    {
                        "protocol": row.protocol,
                        "label": dict(_protocol_names())[row.protocol],
                        "response": _percent(row.response.rate),
                        "response_ci": _interval(row.response.interval),
                        "remission": _percent(row.remission.rate),
                        "remission_ci": _interval(row.remission.interval),
                    }
                    for row in board.by_protocol
                ],
                "months": figures.months(board.by_month),
                "safety": [
                    {"label": f"{row.label} ({row.severity_label.lower()})", "per100": row.per_100}
                    for row in board.safety
                ],
            },
        )
    return render(request, "outcomes/dashboard.html", context)


def _protocol_names() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in PROTOCOLS]


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _interval(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [round(interval[0] * 100, 1), round(interval[1] * 100, 1)]


def _figure(key: str) -> Figure:
    try:
        return FIGURES[key]
    except KeyError:
        raise Http404("No such figure.") from None


@require_GET
def drill_down_view(request: HttpRequest, figure: str) -> HttpResponse:
    user = _viewer(request)
    chosen = _figure(figure)
    form, cohort = _cohort(request, user)
    if cohort is None:
        return render(request, "outcomes/dashboard.html", {"form": form, "query": ""}, status=400)
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    found = drill_down(chosen, cohort, user, page=page)
    audit.record_read(
        actor=user,
        action="outcomes.drill_down",
        subject_type="practice",
        detail={"figure": chosen.key, "rows": len(found.rows), "page": found.page},
    )
    return render(
        request,
        "outcomes/drill_down.html",
        {
            "found": found,
            "cohort": cohort,
            "instrument": INSTRUMENTS[cohort.instrument],
            "query": _query(request),
            "previous": _query(request, page=str(found.page - 1)) if found.page > 1 else "",
            "next": _query(request, page=str(found.page + 1)) if found.page < found.pages else "",
            "export_url": reverse("outcomes_dashboard:export", args=[chosen.key]),
        },
    )


CSV_COLUMNS = (
    "client_id",
    "client",
    "date_of_birth",
    "protocol",
    "route",
    "started_on",
    "ended_on",
    "phase",
    "therapist",
    "prescriber",
    "location",
    "age_band",
    "trauma_focused",
    "instrument",
    "baseline",
    "latest",
    "change",
    "responded",
    "remitted",
    "days_to_response",
    "relapsed",
    "dosing_sessions",
    "integration_met",
    "integration_doses",
    "measures_done",
    "measures_expected",
    "appointments_attended",
    "appointments_no_show",
    "adverse_events",
    "bp_excursion_sessions",
    "rems_forms_on_time",
    "rems_forms_due",
)


def _csv_row(row: Any, instrument: str) -> list[object]:
    def name(person: User | None) -> str:
        return person.display_name if person else ""

    def flag(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    return [
        row.client.public_id,
        row.client.display_name,
        row.client.date_of_birth.isoformat(),
        row.protocol,
        row.route,
        row.started_on.isoformat(),
        row.ended_on.isoformat() if row.ended_on else "",
        row.phase,
        name(row.therapist),
        name(row.prescriber),
        row.location.name if row.location else "",
        row.age_band,
        flag(row.trauma_focused),
        instrument,
        "" if row.outcome_baseline is None else row.outcome_baseline,
        "" if row.outcome_latest is None else row.outcome_latest,
        "" if row.outcome_change is None else row.outcome_change,
        flag(row.outcome_responded),
        flag(row.outcome_remitted),
        "" if row.outcome_days_to_response is None else row.outcome_days_to_response,
        flag(row.outcome_relapsed),
        row.dosing_sessions,
        row.integration_met,
        row.integration_doses,
        row.measures_done,
        row.measures_expected,
        row.appointments_attended,
        row.appointments_no_show,
        row.adverse_events,
        row.bp_excursion_sessions,
        row.rems_forms_on_time,
        row.rems_forms_due,
    ]


@require_GET
@fresh_authentication_required
def export_view(request: HttpRequest, figure: str) -> HttpResponse:
    """The figure's rows (the reader's clients only) as CSV: an export, so audited and behind a
    fresh password confirmation."""
    user = _viewer(request)
    chosen = _figure(figure)
    _, cohort = _cohort(request, user)
    if cohort is None:
        raise Http404("No such figure.")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows_for(chosen, cohort, user).iterator(chunk_size=2000):
        writer.writerow(_csv_row(row, cohort.instrument))
        count += 1
    audit.record_read(
        actor=user,
        action="outcomes.export_csv",
        subject_type="practice",
        detail={
            "figure": chosen.key,
            "rows": count,
            "start": cohort.start.isoformat(),
            "end": cohort.end.isoformat(),
        },
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = now().astimezone(practice_zone()).date().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="kapcare-{slugify(chosen.label)}-{stamp}.csv"'
    )
    response["Cache-Control"] = "no-store"
    return response
