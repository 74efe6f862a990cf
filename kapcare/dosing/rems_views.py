"""The esketamine REMS Patient Monitoring Form pages: the queue of forms with their deadlines, a
form with every section (PDF, refresh from the session, the submission), and the site's REMS
certification.

Clinicians and practice admins see the forms of the clients they may see; anyone else gets 404,
as for a client outside their care team. Every look at a form, and every PDF, is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.core import audit
from kapcare.core.forms import add_service_errors
from kapcare.core.views import practice_admin_required, staff_user
from kapcare.dosing import rems
from kapcare.dosing.models import RemsForm, RemsSiteCertification
from kapcare.dosing.rems import record_form_read
from kapcare.dosing.rems_forms import SiteCertificationForm, SubmissionForm
from kapcare.dosing.rems_pdf import pdf_response
from kapcare.dosing.rules import REMS_SOURCE

PAGE_SIZE = 50


def rems_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """REMS pages are for clinicians and practice admins; others get 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not rems.may_see_rems(staff_user(request)):
            raise Http404("Not found.")
        return view(request, *args, **kwargs)

    return wrapped


@rems_required
@require_GET
def queue_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    page = Paginator(rems.rems_forms(user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = rems.queue_rows(page.object_list)
    # The queue names clients: recorded like a client list (which page, which clients).
    audit.record_read(
        actor=user,
        action="rems_form.list",
        subject_type="rems_form",
        detail={
            "page": page.number,
            "clients": sorted({str(row.client.public_id) for row in rows}),
        },
    )
    return render(
        request, "dosing/rems_queue.html", {"rows": rows, "page": page, "source": REMS_SOURCE}
    )


def _form_page(
    request: HttpRequest,
    form: RemsForm,
    submission: SubmissionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = staff_user(request)
    record_form_read(user, form, "rems_form.read")
    submitted = form.submitted_on is not None
    context = {
        "form": form,
        "client": form.session.client,
        "status": rems.form_status(form),
        "sections": rems.form_sections(form.data),
        "missing": form.data.get("missing") or [],
        "missing_text": rems.MISSING_TEXT,
        "can_refresh": user.is_clinician and not submitted,
        "can_submit": rems.may_submit(user) and not submitted,
        "submission": submission or SubmissionForm(),
        "source": REMS_SOURCE,
    }
    return render(request, "dosing/rems_form.html", context, status=status)


@rems_required
@require_GET
def form_view(request: HttpRequest, form_id: uuid.UUID) -> HttpResponse:
    return _form_page(request, rems.rems_form_for(staff_user(request), form_id))


@rems_required
@require_GET
def pdf_view(request: HttpRequest, form_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    form = rems.rems_form_for(user, form_id)
    record_form_read(user, form, "rems_form.export", format="pdf")
    return pdf_response(form)


@rems_required
@require_POST
def refresh_view(request: HttpRequest, form_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    form = rems.rems_form_for(user, form_id)
    try:
        rems.rems_form_refresh(actor=user, form=form)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"Not refreshed: {message}")
    else:
        messages.success(request, "The form was filled again from the session record.")
    return redirect("rems:form", form.public_id)


@rems_required
@require_POST
def submit_view(request: HttpRequest, form_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    form = rems.rems_form_for(user, form_id)
    submission = SubmissionForm(request.POST)
    if submission.is_valid():
        try:
            rems.rems_form_submit(actor=user, form=form, **submission.cleaned_data)
        except ValidationError as error:
            add_service_errors(submission, error, rename={"submitted_by": "reference"})
        else:
            messages.success(request, "The submission is recorded.")
            return redirect("rems:form", form.public_id)
    return _form_page(request, form, submission, status=400)


@practice_admin_required
@require_http_methods(["GET", "POST"])
def site_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = SiteCertificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            certification = rems.rems_site_certify(actor=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Certification {certification.number} recorded.")
            return redirect("rems:site")
    context = {
        "form": form,
        "certifications": RemsSiteCertification.objects.select_related("created_by"),
        "source": rems.SITE_SOURCE,
    }
    return render(
        request,
        "dosing/rems_site.html",
        context,
        status=400 if request.method == "POST" else 200,
    )
