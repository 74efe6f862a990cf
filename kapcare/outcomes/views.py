"""The client's progress page and the treatment summary PDF for the referring provider.

Both start from the chart's access-checked getter: anyone outside the care team gets 404, and
each look is written to the audit log. The scores are shown to whoever may open the chart (as the
measures on the chart are); the doses, the integration adherence and the summary PDF, which
hold dosing detail, are for the clinicians (therapist, prescriber, nurse), as the dose markers
and dosing timeline on the chart are.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kapcare.accounts.models import User
from kapcare.accounts.reauth import describe_export, fresh_authentication_required
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.time import now
from kapcare.core.views import staff_user
from kapcare.outcomes.progress import SOURCE, client_progress
from kapcare.outcomes.summary_pdf import summary_response


@require_GET
def progress_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = open_chart(user, client_id, view="progress")
    clinician = user.is_clinician
    progress = client_progress(client, now=now())
    markers = progress.doses if clinician else ()
    context = {
        "client": client,
        "progress": progress,
        "clinician": clinician,
        "source": SOURCE,
        "rows": [(item, item.chart(markers)) for item in progress.instruments],
    }
    return render(request, "outcomes/progress.html", context)


@require_GET
@describe_export("the treatment summary for the referring provider (PDF)")
def summary_pdf_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    # Who may see the client is answered first, so that anyone outside the care team gets the
    # same "not found" as for a client that does not exist, before any password is asked.
    user = staff_user(request)
    client = access_client(user, client_id)
    if not user.is_clinician:
        raise Http404("Not found.")
    return _summary_pdf(request, user=user, client=client)


@fresh_authentication_required
def _summary_pdf(request: HttpRequest, *, user: User, client: Client) -> HttpResponse:
    progress = client_progress(client, now=now())
    response = summary_response(progress)
    audit.record_read(
        actor=user,
        action="outcomes.summary_pdf",
        subject_type="client",
        subject_public_id=client.public_id,
        client_public_id=client.public_id,
        detail={
            "format": "pdf",
            "course": str(progress.course.public_id) if progress.course else None,
        },
    )
    return response
