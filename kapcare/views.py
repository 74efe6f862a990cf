"""The home page: what each person needs first, by role."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kapcare.clients.access import visible_clients
from kapcare.clients.models import CareTeamMember, ClientStatus
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.core.views import staff_user
from kapcare.courses.plan import integration_at_risk, todays_appointments
from kapcare.dosing.selectors import serious_awaiting_follow_up
from kapcare.intake.access import can_work_on_inquiries
from kapcare.intake.selectors import new_inquiry_count
from kapcare.measures.selectors import outstanding_questionnaires
from kapcare.screening.selectors import decisions_waiting

MY_CLIENTS_SHOWN = 12


@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    memberships = (
        CareTeamMember.objects.filter(staff=user, ended_at__isnull=True)
        .exclude(client__status=ClientStatus.DISCHARGED)
        .select_related("client")
        .order_by("-client__updated_at")
    )
    status_counts = {
        row["status"]: row["n"]
        for row in visible_clients(user).values("status").annotate(n=Count("id"))
    }
    context: dict[str, object] = {
        "my_memberships": memberships[:MY_CLIENTS_SHOWN],
        "my_client_count": memberships.count(),
        "status_counts": [(status, status_counts.get(status.value, 0)) for status in ClientStatus],
    }
    context["outstanding"] = outstanding_questionnaires(user, at=now())
    if can_work_on_inquiries(user):
        context["new_inquiries"] = new_inquiry_count()
    if user.is_prescriber:
        context["screening_waiting"] = decisions_waiting(user)
    if user.is_clinician:
        context["today"] = todays_appointments(user)
        context["integration_at_risk"] = integration_at_risk(user, now=now())
        context["adverse_waiting"] = serious_awaiting_follow_up(user)
    if user.is_practice_admin:
        context["recent_events"] = AuditEvent.objects.select_related("actor")[:10]
    return render(request, "home.html", context)
