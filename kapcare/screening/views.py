"""The screening page: history, questions, blood pressure, medications, the result with every
finding's reason and source, the trauma profile, and the prescriber's decision."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.accounts.models import User
from kapcare.clients.access import access_client, open_chart
from kapcare.clients.models import Client
from kapcare.core.forms import add_service_errors
from kapcare.core.time import practice_today
from kapcare.core.views import staff_user
from kapcare.screening import rules, services
from kapcare.screening.forms import (
    HISTORY_FORMS,
    BloodPressureForm,
    CurrentMedicationForm,
    DecisionForm,
    EpisodeForm,
    QuestionsForm,
    RemoveForm,
    StopMedicationForm,
)
from kapcare.screening.models import HistoryItem
from kapcare.screening.selectors import Screening, screening_for


def empty_history_forms() -> dict[str, forms.BaseForm]:
    return {kind: form() for kind, form in HISTORY_FORMS.items()}


def _context(screening: Screening, user: User, **bound: object) -> dict[str, object]:
    assessments = screening.trial_assessments
    context: dict[str, object] = {
        "client": screening.client,
        "s": screening,
        "trial_rows": [(trial, assessments[str(trial.public_id)]) for trial in screening.trials],
        "findings_by_class": [
            (klass, [f for f in screening.result.findings if f.klass == klass])
            for klass in rules.CLASS_ORDER
        ],
        "can_edit": services.can_edit_screening(user),
        "can_decide": services.can_decide(user),
        "episode_form": EpisodeForm(
            initial={
                "started_on": screening.episode.started_on,
                "severity": screening.episode.severity,
            }
            if screening.episode
            else None
        ),
        "history_forms": empty_history_forms(),
        "medication_form": CurrentMedicationForm(),
        "bp_form": BloodPressureForm(),
        "decision_form": DecisionForm(initial={"seen_signature": screening.result.signature()}),
        "result_labels": rules.RESULT_LABELS,
    }
    history_form = bound.pop("history_form", None)
    if isinstance(history_form, tuple):
        kind, form = history_form
        context["history_forms"] = {**empty_history_forms(), kind: form}
        context["open_history"] = kind
    context.update(bound)
    # A summary at the top: the page is long, and a form the person may not use is not shown.
    shown_forms = [form for form in bound.values() if isinstance(form, forms.BaseForm)]
    if isinstance(history_form, tuple):
        shown_forms.append(history_form[1])
    context["not_saved"] = [
        message
        for form in shown_forms
        for messages_ in form.errors.values()
        for message in messages_
    ]
    return context


@require_GET
def screening_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    client = open_chart(user, client_id, view="screening")
    return render(request, "screening/screening.html", _context(screening_for(client), user))


def _page_with_errors(
    request: HttpRequest, client: Client, user: User, **bound: object
) -> HttpResponse:
    return render(
        request,
        "screening/screening.html",
        _context(screening_for(client), user, **bound),
        status=400,
    )


def _submit(
    request: HttpRequest,
    client_id: uuid.UUID,
    *,
    form: forms.BaseForm,
    form_name: str,
    save: Callable[[User, Client], str],
    anchor: str,
) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    if form.is_valid():
        try:
            message = save(user, client)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, message)
            return redirect(reverse("screening:page", args=[client.public_id]) + anchor)
    bound: dict[str, Any] = {form_name: form}
    return _page_with_errors(request, client, user, **bound)


@require_POST
def episode_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    form = EpisodeForm(request.POST)

    def save(user: User, client: Client) -> str:
        services.episode_start(actor=user, client=client, **form.cleaned_data)
        return "Episode start recorded."

    return _submit(
        request, client_id, form=form, form_name="episode_form", save=save, anchor="#history"
    )


@require_POST
def history_add_view(request: HttpRequest, client_id: uuid.UUID, kind: str) -> HttpResponse:
    form = HISTORY_FORMS[kind](request.POST)
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    if form.is_valid():
        try:
            services.history_save(actor=user, client=client, kind=kind, fields=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{services.HISTORY_KINDS[kind].label.capitalize()} added.")
            return redirect(reverse("screening:page", args=[client.public_id]) + "#history")
    return _page_with_errors(request, client, user, history_form=(kind, form))


def _history_item(client: Client, kind: str, item_id: uuid.UUID) -> HistoryItem:
    model = services.HISTORY_KINDS[kind].model
    return get_object_or_404(model, client=client, public_id=item_id, removed_at__isnull=True)


@require_http_methods(["GET", "POST"])
def history_edit_view(
    request: HttpRequest, client_id: uuid.UUID, kind: str, item_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=request.method == "POST")
    item = _history_item(client, kind, item_id)
    form_class = HISTORY_FORMS[kind]
    form = form_class(request.POST or None, instance=item)
    if request.method == "GET":
        open_chart(user, client_id, view=f"screening.{kind}")
    elif form.is_valid():
        try:
            services.history_save(
                actor=user, client=client, kind=kind, fields=form.cleaned_data, item=item
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Correction saved.")
            return redirect(reverse("screening:page", args=[client.public_id]) + "#history")
    status = 400 if request.method == "POST" else 200
    return _history_page(request, client, item, kind, form, RemoveForm(), status)


@require_POST
def history_remove_view(
    request: HttpRequest, client_id: uuid.UUID, kind: str, item_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    item = _history_item(client, kind, item_id)
    form = RemoveForm(request.POST)
    if form.is_valid():
        try:
            services.history_remove(
                actor=user, client=client, kind=kind, item=item, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Entry removed as entered in error.")
            return redirect(reverse("screening:page", args=[client.public_id]) + "#history")
    return _history_page(request, client, item, kind, HISTORY_FORMS[kind](instance=item), form, 400)


def _history_page(
    request: HttpRequest,
    client: Client,
    item: HistoryItem,
    kind: str,
    form: forms.BaseForm,
    remove_form: forms.BaseForm,
    status: int,
) -> HttpResponse:
    """One history entry: its correction form and its removal form."""
    context = {
        "client": client,
        "item": item,
        "kind": kind,
        "label": services.HISTORY_KINDS[kind].label,
        "form": form,
        "remove_form": remove_form,
    }
    return render(request, "screening/history_edit.html", context, status=status)


@require_POST
def medication_add_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    form = CurrentMedicationForm(request.POST)

    def save(user: User, client: Client) -> str:
        item = services.medication_add(actor=user, client=client, fields=form.cleaned_data)
        return f"{item.drug_name} added to the current medications."

    return _submit(
        request, client_id, form=form, form_name="medication_form", save=save, anchor="#medications"
    )


@require_POST
def medication_stop_view(
    request: HttpRequest, client_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    user = staff_user(request)
    client = access_client(user, client_id, write=True)
    item = get_object_or_404(client.current_medications, public_id=item_id)
    form = StopMedicationForm(request.POST)
    if form.is_valid():
        try:
            services.medication_stop(actor=user, client=client, item=item, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{item.drug_name} stopped.")
            return redirect(reverse("screening:page", args=[client.public_id]) + "#medications")
    return _page_with_errors(request, client, user, stop_form=form, stop_item=item)


@require_POST
def bp_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    form = BloodPressureForm(request.POST)

    def save(user: User, client: Client) -> str:
        reading = services.bp_record(actor=user, client=client, **form.cleaned_data)
        return f"Blood pressure {reading} recorded."

    return _submit(request, client_id, form=form, form_name="bp_form", save=save, anchor="#bp")


@require_http_methods(["GET", "POST"])
def questions_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    if request.method == "GET":
        client = open_chart(user, client_id, view="screening.questions")
        screening = screening_for(client)
        form = QuestionsForm(initial=screening.answers)
    else:
        client = access_client(user, client_id, write=True)
        form = QuestionsForm(request.POST)
        if form.is_valid():
            try:
                services.answers_save(actor=user, client=client, answers=form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Screening questions saved.")
                return redirect(reverse("screening:page", args=[client.public_id]) + "#result")
    return render(
        request,
        "screening/questions.html",
        {
            "client": client,
            "form": form,
            "can_edit": services.can_edit_screening(user),
            "today": practice_today(),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def decision_view(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    form = DecisionForm(request.POST)

    def save(user: User, client: Client) -> str:
        decision = services.decision_record(actor=user, client=client, **form.cleaned_data)
        return f"Decision recorded: {decision.get_decision_display()} (version {decision.version})."

    return _submit(
        request, client_id, form=form, form_name="decision_form", save=save, anchor="#decision"
    )
