"""Client pages. Every client-scoped view starts from access_client/open_chart (habit 3)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.accounts.models import User, name_fields
from kapcare.clients import chart_reads, services
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.forms import (
    CareTeamAddForm,
    ClientCreateForm,
    ClientForm,
    ClientSearchForm,
    StatusForm,
    WeightForm,
)
from kapcare.clients.models import CareTeamRole, Client
from kapcare.clients.selectors import ClientFilters, chart, chart_timeline, client_list
from kapcare.core import audit
from kapcare.core.forms import add_service_errors
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.core.views import is_htmx, practice_admin_required, staff_user
from kapcare.dosing.selectors import chart_dosing
from kapcare.measures.forms import SendLinkForm
from kapcare.measures.selectors import current_administrations, measure_history
from kapcare.notes.selectors import latest_signed_notes
from kapcare.outcomes.progress import client_progress
from kapcare.safety.forms import RiskAssessmentForm
from kapcare.safety.models import FlagKind
from kapcare.safety.selectors import open_flags_listed
from kapcare.safety.services import can_assess_risk, can_review_vitals_flag
from kapcare.screening.selectors import trauma_profile


@require_GET
def client_list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = ClientSearchForm(request.GET)
    form.is_valid()
    # A filter that does not validate (an old link, a hand-edited URL) is dropped on its own;
    # the others still apply.
    valid = form.cleaned_data
    filters = ClientFilters(
        query=valid.get("q", ""),
        status=valid.get("status", ""),
        clinician=valid.get("clinician"),
    )
    paginator = Paginator(client_list(user, filters), settings.CLIENT_LIST_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    audit.record_read(
        actor=user,
        action="client.list",
        subject_type="client",
        detail={
            "query": filters.query,
            "status": filters.status,
            "clinician": str(filters.clinician.public_id) if filters.clinician else "",
            "page": page.number,
            "shown": len(page.object_list),
        },
    )
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {"form": form, "page": page, "query_string": query_string.urlencode()}
    template = "clients/list.html#results" if is_htmx(request) else "clients/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def client_create_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = ClientCreateForm(request.POST or None)
    duplicate = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team: list[tuple[User, str]] = []
        if data.get("primary_therapist"):
            team.append((data["primary_therapist"], CareTeamRole.PRIMARY_THERAPIST))
        if data.get("prescriber") and data["prescriber"] != data.get("primary_therapist"):
            team.append((data["prescriber"], CareTeamRole.PRESCRIBER))
        try:
            client = services.client_create(
                actor=user,
                fields={name: data[name] for name in services.CLIENT_FIELDS},
                care_team=team,
                acknowledge_duplicate=data["acknowledge_duplicate"],
            )
        except services.PossibleDuplicate as error:
            duplicate = True
            add_service_errors(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{client.display_name} was added.")
            if user.is_practice_admin or client.care_team.filter(staff=user).exists():
                return redirect("clients:chart", client_id=client.public_id)
            return redirect("clients:list")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "clients/create.html", {"form": form, "duplicate": duplicate}, status=status
    )


def _chart_context(client: Client, user: User, **forms: object) -> dict[str, object]:
    """What the chart shows, for `client` as `chart()` loaded it. The client's questionnaires
    and courses are read once here and handed to each section that shows them."""
    flags = open_flags_listed(client)
    clinician = user.is_clinician
    # Dosing sessions hold clinical detail: on the timeline and charts for clinicians.
    dosing = chart_dosing(client) if clinician else None
    administrations = current_administrations(client)
    courses = chart_reads.courses(client.pk)
    weights = getattr(client, "weight_history")  # noqa: B009 - set by chart()
    context: dict[str, object] = {
        "client": client,
        "timeline": chart_timeline(client, dosing.timeline if dosing else ()),
        "weight_form": WeightForm(initial={"measured_on": practice_today()}),
        "status_form": StatusForm(initial={"status": client.status}),
        "weights": weights,
        "latest_weight": weights[0] if weights else None,
        "measures": measure_history(client, dosing.markers if dosing else (), administrations),
        "self_report_links": chart_reads.self_report_links(client.pk),
        "send_link_form": SendLinkForm(),
        "safety_flags": flags,
        "has_suicide_flags": any(flag.kind == FlagKind.SUICIDE_RISK for flag in flags),
        "risk_assessments": chart_reads.risk_assessments(client.pk),
        "risk_form": RiskAssessmentForm(),
        "can_assess_risk": can_assess_risk(user),
        "can_review_vitals_flag": can_review_vitals_flag(user),
        "screening_run": next(iter(chart_reads.screening_run(client.pk)), None),
        "screening_decision": next(iter(chart_reads.screening_decision(client.pk)), None),
        "trauma": trauma_profile(client, administrations=administrations),
        # The course that started last (a new course starts only once the last has closed).
        "course": courses[-1] if courses else None,
        # The compact progress line in the header (scores, doses, integration): clinicians.
        "progress": (
            client_progress(client, now=now(), courses=courses, administrations=administrations)
            if clinician
            else None
        ),
        "session_notes": latest_signed_notes(user, client),
        "next_appointments": list(
            client.appointments.filter(state="booked", starts_at__gte=now())
            .select_related("clinician")
            .only("client", "kind", "starts_at", *name_fields("clinician"))
            .order_by("starts_at")[:3]
        ),
    }
    context.update(forms)
    return context


@require_GET
def client_chart_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = chart(open_chart(user, client_id))
    return render(request, "clients/chart.html", _chart_context(client, user))


@require_http_methods(["GET", "POST"])
def client_edit_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    if request.method == "GET":
        open_chart(user, client_id, view="edit")  # the edit form shows the whole record
    client = access_client(user, client_id, write=True)
    form = ClientForm(request.POST or None, initial=ClientForm.initial_from(client))
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(actor=user, client=client, changes=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Details saved.")
            return redirect("clients:chart", client_id=client.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "clients/edit.html", {"client": client, "form": form}, status=status)


def _chart_with_errors(request: HttpRequest, client_id: uuid.UUID, **forms: object) -> HttpResponse:
    """Re-show the chart with a failed form in place, so the message sits beside the field."""
    user = staff_user(request)
    client = chart(open_chart(user, client_id))
    return render(request, "clients/chart.html", _chart_context(client, user, **forms), status=400)


def _submit_chart_form(
    request: HttpRequest,
    client_id: uuid.UUID,
    *,
    form: forms.Form,
    form_name: str,
    save: Callable[[User, Client], str],
    rename: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The small forms on the chart: validate, call the service through `save` (which returns
    the message to show), then back to the chart, or the chart again with the form's errors."""
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    if form.is_valid():
        try:
            message = save(user, client)
        except ValidationError as error:
            add_service_errors(form, error, rename)
        else:
            messages.success(request, message)
            return redirect("clients:chart", client_id=client.public_id)
    return _chart_with_errors(request, client_id, **{form_name: form})


@require_http_methods(["GET", "POST"])
def care_team_add_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """The care team with the form to add someone: a page of its own, as the staff list holds
    everyone in the practice (well over a thousand people in a network of clinics) and the chart
    is opened far more often than the team changes."""
    user = staff_user(request)
    if request.method == "GET":
        client = open_chart(user, client_id, view="care_team")
        return _care_team_page(request, client, CareTeamAddForm())
    client = access_client(user, client_id, write=True)
    form = CareTeamAddForm(request.POST)
    if form.is_valid():
        try:
            member = services.care_team_add(
                actor=user,
                client=client,
                staff=form.cleaned_data["staff"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{member.staff} joined the care team.")
            return redirect("clients:chart", client_id=client.public_id)
    return _care_team_page(request, client, form, status=400)


def _care_team_page(
    request: HttpRequest, client: Client, form: CareTeamAddForm, status: int = 200
) -> HttpResponse:
    team = client.care_team.filter(ended_at__isnull=True).select_related("staff")
    return render(
        request,
        "clients/care_team.html",
        {
            "client": client,
            "team": list(team.order_by("role", "started_at")),
            "care_team_form": form,
        },
        status=status,
    )


@require_POST
def care_team_end_view(
    request: HttpRequest, client_id: uuid.UUID, member_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    member = get_object_or_404(client.care_team.select_related("staff"), public_id=member_id)
    try:
        services.care_team_end(actor=user, member=member)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{member.staff} left the care team.")
    if member.staff_id == user.pk and not user.is_practice_admin:
        return redirect("clients:list")
    return redirect("clients:chart", client_id=client.public_id)


@require_POST
def weight_add_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    form = WeightForm(request.POST)

    def save(user: User, client: Client) -> str:
        services.weight_record(
            actor=user,
            client=client,
            measured_on=form.cleaned_data["measured_on"],
            weight_kg=form.weight_kg(),
            note=form.cleaned_data["note"],
        )
        return "Weight recorded."

    return _submit_chart_form(
        request,
        client_id,
        form=form,
        form_name="weight_form",
        save=save,
        rename={"weight_kg": "weight"},
    )


@require_POST
def status_change_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    form = StatusForm(request.POST)

    def save(user: User, client: Client) -> str:
        services.client_change_status(
            actor=user,
            client=client,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
        return f"Status changed to {client.get_status_display()}."

    return _submit_chart_form(request, client_id, form=form, form_name="status_form", save=save)


@require_GET
@practice_admin_required
def client_audit_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id)
    # Recorded before the page is built, so the listing includes this look at it.
    audit.record_read(
        actor=user,
        action="audit.read",
        subject_type="client",
        subject_public_id=client.public_id,
        client_public_id=client.public_id,
    )
    events = Paginator(
        AuditEvent.objects.filter(client_public_id=client.public_id).select_related("actor"), 50
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/audit.html",
        {"client": client, "events": events, "title": f"Audit log: {client.display_name}"},
    )
