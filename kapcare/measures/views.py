"""Recording questionnaires and score entries on a client's chart."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.clients.access import access_client, open_chart
from kapcare.core.forms import add_service_errors
from kapcare.core.views import staff_user
from kapcare.measures import rules
from kapcare.measures.forms import SendLinkForm, answer_form
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import Administration
from kapcare.measures.self_report import link_send
from kapcare.measures.services import administration_record

SUICIDE_FLAG_MESSAGES = {
    rules.SUICIDE_ITEM_POSITIVE: (
        "The suicide item was answered above 0: a same-day suicide-risk assessment is needed, "
        "whatever the total."
    ),
    rules.SUICIDE_ITEM_MISSING: "The suicide item was not answered: review it with the client.",
    rules.CSSRS_RISK_FLAGS["moderate"]: "C-SSRS screener: moderate risk. Follow the risk protocol.",
    rules.CSSRS_RISK_FLAGS["high"]: (
        "C-SSRS screener: high risk. Immediate clinician evaluation; do not leave the client alone."
    ),
}


@require_http_methods(["GET", "POST"])
def record_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    instrument = INSTRUMENTS.get(request.GET.get("instrument", ""))
    if instrument is None:
        return render(
            request,
            "measures/choose.html",
            {"client": client, "instruments": INSTRUMENTS.values()},
        )
    replaces = None
    if request.GET.get("replaces"):
        try:
            replaces_id = uuid.UUID(request.GET["replaces"])
        except ValueError:
            raise Http404("No such form.") from None
        replaces = get_object_or_404(
            Administration.objects.current(),
            client=client,
            instrument=instrument.code,
            public_id=replaces_id,
        )
    form_class = answer_form(instrument, correcting=replaces is not None)
    initial = dict(replaces.answers) if replaces else {}
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        answers = {item_id: data.get(item_id) for item_id in instrument.item_ids}
        try:
            administration = administration_record(
                actor=user,
                client=client,
                instrument=instrument.code,
                answers=answers,
                completed_at=data["completed_at"],
                replaces=replaces,
                correction_reason=data.get("correction_reason", ""),
            )
        except ValidationError as error:
            renamed = {f"answers.{item_id}": item_id for item_id in instrument.item_ids}
            add_service_errors(form, error, renamed)
        else:
            total = "no total" if administration.total is None else administration.total
            band = f" ({administration.band})" if administration.band else ""
            messages.success(request, f"{instrument.name}: {total}{band} recorded.")
            for flag in administration.flags:
                if flag in SUICIDE_FLAG_MESSAGES:
                    messages.warning(request, SUICIDE_FLAG_MESSAGES[flag])
            return redirect("clients:chart", client_id=client.public_id)
    return render(
        request,
        "measures/record.html",
        {"client": client, "instrument": instrument, "form": form, "replaces": replaces},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def administration_view(
    request: HttpRequest, client_id: uuid.UUID, administration_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    client = open_chart(user, client_id, view="measure")
    administration = get_object_or_404(
        Administration.objects.select_related("entered_by", "replaces"),
        client=client,
        public_id=administration_id,
    )
    instrument = INSTRUMENTS[administration.instrument]
    answers = []
    for item in instrument.items:
        value = administration.answers.get(item.id)
        option = next((o.label for o in item.options if o.value == value), None)
        answers.append((item, value, option))
    return render(
        request,
        "measures/administration.html",
        {
            "client": client,
            "administration": administration,
            "instrument": instrument,
            "answers": answers,
            "replaced_by": Administration.objects.filter(replaces=administration).first(),
        },
    )


@require_POST
def send_link_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    form = SendLinkForm(request.POST)
    if form.is_valid():
        try:
            link = link_send(
                actor=user,
                client=client,
                instruments=form.cleaned_data["instruments"],
                channel=form.cleaned_data["channel"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            where = "by e-mail" if link.channel == "email" else "by text message"
            until = timezone.localtime(link.expires_at)
            messages.success(request, f"Link sent {where}; it works until {until:%b %d, %H:%M}.")
            return redirect("clients:chart", client_id=client.public_id)
    for field, problems in form.errors.items():
        for problem in problems:
            where = "" if field == "__all__" else f" ({field})"
            messages.error(request, f"Not sent{where}: {problem}")
    return redirect("clients:chart", client_id=client.public_id)
