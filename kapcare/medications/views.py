"""The medication catalogue: every staff member can read it; practice admins edit it."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from kapcare.core.forms import add_service_errors
from kapcare.core.views import practice_admin_required, staff_user
from kapcare.medications.forms import MedicationForm
from kapcare.medications.interactions import BY_CODE
from kapcare.medications.models import Medication
from kapcare.medications.services import medication_save


@require_GET
def medication_list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    rows = [
        (medication, [BY_CODE[code].label for code in medication.interaction_categories])
        for medication in Medication.objects.order_by("kind", "name")
    ]
    return render(
        request,
        "medications/list.html",
        {"rows": rows, "can_edit": user.is_practice_admin},
    )


@practice_admin_required
@require_http_methods(["GET", "POST"])
def medication_edit_view(
    request: HttpRequest, medication_id: uuid.UUID | None = None
) -> HttpResponse:
    user = staff_user(request)
    medication = get_object_or_404(Medication, public_id=medication_id) if medication_id else None
    form = MedicationForm(request.POST or None, instance=medication)
    if request.method == "POST" and form.is_valid():
        try:
            saved = medication_save(actor=user, fields=form.cleaned_data, medication=medication)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{saved.name} saved.")
            return redirect("medications:list")
    if medication is not None and medication.pk is None:
        raise Http404
    return render(
        request,
        "medications/edit.html",
        {"form": form, "medication": medication},
        status=400 if request.method == "POST" else 200,
    )
