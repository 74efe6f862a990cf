from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kapcare.clients.access import access_client
from kapcare.core.forms import add_service_errors
from kapcare.core.views import staff_user
from kapcare.safety.forms import RiskAssessmentForm
from kapcare.safety.models import SafetyFlag
from kapcare.safety.selectors import open_flags
from kapcare.safety.services import risk_assessment_record, vitals_flag_review


@require_POST
def risk_assessment_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    form = RiskAssessmentForm(request.POST)
    if form.is_valid():
        try:
            risk_assessment_record(actor=user, client=client, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Risk assessment recorded; the open suicide-risk flags are closed."
            )
            return redirect("clients:chart", client_id=client.public_id)
    return render(
        request,
        "safety/assessment.html",
        {"client": client, "form": form, "flags": open_flags(client)},
        status=400,
    )


@require_POST
def vitals_flag_review_view(
    request: HttpRequest, client_id: uuid.UUID, flag_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    flag = get_object_or_404(SafetyFlag, client=client, public_id=flag_id)
    try:
        vitals_flag_review(actor=user, flag=flag, note=request.POST.get("review_note", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Vital-signs flag reviewed and closed.")
    return redirect(reverse("clients:chart", args=[client.public_id]) + "#safety-h")
