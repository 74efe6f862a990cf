"""The adverse-event queue: serious events highlighted until their follow-up is recorded."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from kapcare.clients.access import access_client
from kapcare.core.views import staff_user
from kapcare.dosing.models import AdverseEvent
from kapcare.dosing.selectors import adverse_events_for
from kapcare.dosing.services import adverse_event_follow_up


@require_GET
def adverse_events_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not user.is_clinician:
        raise Http404("No such page.")
    events = adverse_events_for(user)
    return render(
        request,
        "dosing/adverse_events.html",
        {"events": events, "waiting": sum(1 for event in events if event.awaits_follow_up)},
    )


@require_POST
def follow_up_view(request: HttpRequest, client_id: uuid.UUID, event_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    event = get_object_or_404(AdverseEvent, client=client, public_id=event_id)
    try:
        adverse_event_follow_up(actor=user, event=event, outcome=request.POST.get("outcome", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"Outcome: {message}")
    else:
        messages.success(request, "Follow-up recorded.")
    return redirect("dosing_adverse:list")
