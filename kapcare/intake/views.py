"""The public inquiry form, and the front desk's inquiry pages."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.clients.models import CareTeamRole
from kapcare.clients.services import PossibleDuplicate
from kapcare.core import audit
from kapcare.core.forms import add_service_errors
from kapcare.core.middleware import client_ip
from kapcare.core.time import now, practice_zone
from kapcare.core.views import staff_user
from kapcare.intake import protection, rules, services
from kapcare.intake.access import intake_staff_required
from kapcare.intake.forms import (
    BookForm,
    CloseForm,
    ContactForm,
    ConvertForm,
    InquiryForm,
    OutcomeForm,
)
from kapcare.intake.models import Inquiry, InquiryStatus
from kapcare.intake.selectors import OPEN_FILTER, get_inquiry, inquiry_list

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 25
STATUS_FILTERS = [("", "All"), (OPEN_FILTER, "Open"), *InquiryStatus.choices]


# The public side -------------------------------------------------------------------------------


def _public_context(form: InquiryForm | None = None) -> dict[str, object]:
    return {"form": form, "crisis_text": settings.CRISIS_TEXT}


@login_not_required
@require_http_methods(["GET", "POST"])
def inquire_view(request: HttpRequest) -> HttpResponse:
    at = now()
    if request.method == "GET":
        form = InquiryForm(initial={protection.STAMP_FIELD: protection.issue_stamp(at)})
        return render(request, "intake/inquire.html", _public_context(form))

    caller = protection.caller_key(client_ip(request))
    if protection.rate_limited(caller, at):
        return render(request, "intake/too_many.html", _public_context(), status=429)
    reason = protection.spam_reason(request.POST, at)
    if reason:
        # Counted, then answered exactly as a real inquiry is, so nothing tells a bot it failed.
        protection.note_attempt(caller, at)
        logger.info("inquiry form: submission dropped (%s)", reason)
        return redirect("inquire_thanks")
    form = InquiryForm(request.POST)
    if form.is_valid():
        try:
            services.inquiry_create(
                actor=None, fields=form.inquiry_fields(), consent=form.cleaned_data["consent"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            protection.note_attempt(caller, at)
            return redirect("inquire_thanks")
    return render(request, "intake/inquire.html", _public_context(form), status=400)


@login_not_required
@require_GET
def inquire_thanks_view(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/thanks.html", _public_context())


# The front desk's pages ------------------------------------------------------------------------


@intake_staff_required
@require_GET
def inquiry_list_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    status = request.GET.get("status", "")
    if status not in dict(STATUS_FILTERS):
        status = ""  # an old or hand-edited link shows everything rather than failing
    page = Paginator(inquiry_list(status), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_read(
        actor=user,
        action="inquiry.list",
        subject_type="inquiry",
        detail={"status": status, "page": page.number, "shown": len(page.object_list)},
    )
    return render(
        request,
        "intake/list.html",
        {"page": page, "status": status, "status_filters": STATUS_FILTERS},
    )


def _open_inquiry(user: User, inquiry_id: uuid.UUID) -> Inquiry:
    """The inquiry, with the look at it recorded in the audit log."""
    inquiry = get_inquiry(inquiry_id)
    audit.record_read(
        actor=user,
        action="inquiry.read",
        subject_type="inquiry",
        subject_public_id=inquiry.public_id,
        client_public_id=inquiry.client.public_id if inquiry.client else None,
    )
    return inquiry


def _detail(
    request: HttpRequest, inquiry_id: uuid.UUID, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    user = staff_user(request)
    inquiry = _open_inquiry(user, inquiry_id)
    allowed = {action for action, starts in rules.ALLOWED_FROM.items() if inquiry.status in starts}
    book_initial: dict[str, object] = {}
    if inquiry.consultation_with is not None:
        book_initial["clinician"] = inquiry.consultation_with.public_id
    if inquiry.status == InquiryStatus.BOOKED and inquiry.consultation_at is not None:
        booked = timezone.localtime(inquiry.consultation_at, practice_zone())
        book_initial.update(consultation_date=booked.date(), consultation_time=booked.time())
    context: dict[str, object] = {
        "inquiry": inquiry,
        "steps": inquiry.steps.select_related("created_by"),
        "allowed": allowed,
        "contact_form": ContactForm(prefix="contact"),
        "book_form": BookForm(prefix="book", initial=book_initial),
        "outcome_form": OutcomeForm(prefix="outcome"),
        "close_form": CloseForm(prefix="close"),
        "client_visible": (
            inquiry.client is not None
            and visible_clients(user).filter(pk=inquiry.client.pk).exists()
        ),
    }
    context.update(bound)
    return render(request, "intake/detail.html", context, status=status)


@intake_staff_required
@require_GET
def inquiry_detail_view(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    return _detail(request, inquiry_id)


def _refused(request: HttpRequest, inquiry: Inquiry, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("intake:detail", inquiry_id=inquiry.public_id)


def _act(
    request: HttpRequest,
    inquiry_id: uuid.UUID,
    *,
    action: str,
    form: forms.Form,
    form_name: str,
    save: Callable[[User, Inquiry], str],
    rename: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The small forms on an inquiry's page: validate, call the service through `save` (which
    returns the message to show), then back to the page; or the page again with the form's
    errors. An action the inquiry's state does not allow is said at the top of the page."""
    user = staff_user(request)
    inquiry = get_inquiry(inquiry_id)
    refused = rules.refusal(action, inquiry.status)
    if refused is not None:
        return _refused(request, inquiry, refused[1])
    if form.is_valid():
        try:
            message = save(user, inquiry)
        except ValidationError as error:
            if set(error.message_dict) == {"status"}:
                return _refused(request, inquiry, " ".join(error.messages))
            add_service_errors(form, error, rename)
        else:
            messages.success(request, message)
            return redirect("intake:detail", inquiry_id=inquiry.public_id)
    return _detail(request, inquiry_id, status=400, **{form_name: form})


@intake_staff_required
@require_POST
def inquiry_contact_view(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    form = ContactForm(request.POST, prefix="contact")

    def save(user: User, inquiry: Inquiry) -> str:
        services.inquiry_contact(actor=user, inquiry=inquiry, note=form.cleaned_data["note"])
        return "Contact recorded."

    return _act(
        request, inquiry_id, action="contact", form=form, form_name="contact_form", save=save
    )


@intake_staff_required
@require_POST
def inquiry_book_view(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    form = BookForm(request.POST, prefix="book")

    def save(user: User, inquiry: Inquiry) -> str:
        services.inquiry_book_consultation(
            actor=user,
            inquiry=inquiry,
            starts_at=form.starts_at(),
            clinician=form.cleaned_data["clinician"],
            note=form.cleaned_data["note"],
        )
        return "Consultation booked."

    return _act(
        request,
        inquiry_id,
        action="book",
        form=form,
        form_name="book_form",
        save=save,
        rename={"consultation_at": "consultation_date"},
    )


@intake_staff_required
@require_POST
def inquiry_outcome_view(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    form = OutcomeForm(request.POST, prefix="outcome")

    def save(user: User, inquiry: Inquiry) -> str:
        services.inquiry_record_outcome(
            actor=user,
            inquiry=inquiry,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
        )
        return "Consultation outcome recorded."

    return _act(
        request, inquiry_id, action="outcome", form=form, form_name="outcome_form", save=save
    )


@intake_staff_required
@require_POST
def inquiry_close_view(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    form = CloseForm(request.POST, prefix="close")

    def save(user: User, inquiry: Inquiry) -> str:
        services.inquiry_close(
            actor=user,
            inquiry=inquiry,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
        return "Inquiry closed."

    return _act(request, inquiry_id, action="close", form=form, form_name="close_form", save=save)


@intake_staff_required
@require_http_methods(["GET", "POST"])
def inquiry_convert_view(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    inquiry = (
        _open_inquiry(user, inquiry_id) if request.method == "GET" else get_inquiry(inquiry_id)
    )
    refused = rules.refusal("convert", inquiry.status)
    if refused is not None:
        return _refused(request, inquiry, refused[1])
    initial = ConvertForm.initial_from(inquiry, services.client_fields_from(inquiry))
    form = ConvertForm(request.POST or None, initial=initial)
    duplicate = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team: list[tuple[User, str]] = []
        if data.get("primary_therapist"):
            team.append((data["primary_therapist"], CareTeamRole.PRIMARY_THERAPIST))
        if data.get("prescriber") and data["prescriber"] != data.get("primary_therapist"):
            team.append((data["prescriber"], CareTeamRole.PRESCRIBER))
        try:
            client = services.inquiry_convert(
                actor=user,
                inquiry=inquiry,
                fields=form.client_fields(),
                care_team=team,
                acknowledge_duplicate=data["acknowledge_duplicate"],
            )
        except PossibleDuplicate as error:
            duplicate = True
            add_service_errors(form, error)
        except ValidationError as error:
            if set(error.message_dict) == {"status"}:
                return _refused(request, inquiry, " ".join(error.messages))
            add_service_errors(form, error)
        else:
            messages.success(request, f"{client.display_name} is now a client.")
            if visible_clients(user).filter(pk=client.pk).exists():
                return redirect("clients:chart", client_id=client.public_id)
            return redirect("intake:detail", inquiry_id=inquiry.public_id)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "intake/convert.html",
        {"inquiry": inquiry, "form": form, "duplicate": duplicate},
        status=status,
    )
