"""The esketamine REMS Patient Monitoring Forms in the JSON API: the queue, one form, its PDF,
and recording its submission, with the same rules, services and audit as the pages.

Clinicians and practice admins see the forms of the clients they may see; any other form id,
and every endpoint for anyone else, is 404. Reading a form is audited as `rems_form.read`, its
PDF as `rems_form.export`, the queue as `rems_form.list`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router, Schema

from kapcare.accounts.api_auth import api_caller
from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.api_schemas import StrictSchema
from kapcare.dosing import rems
from kapcare.dosing.models import RemsForm
from kapcare.dosing.rems import record_form_read
from kapcare.dosing.rems_pdf import pdf_response

router = Router(tags=["rems"])


def _caller(request: HttpRequest) -> User:
    user = api_caller(request)
    if not rems.may_see_rems(user):
        raise Http404("Not found.")
    return user


class RemsStatusOut(Schema):
    state: str  # due, overdue, on_time, submitted_late
    label: str
    reason: str
    source: str


class RemsFormSummaryOut(Schema):
    id: uuid.UUID
    client: uuid.UUID
    session: uuid.UUID
    session_date: dt.date
    due_on: dt.date
    status: RemsStatusOut
    submitted_on: dt.date | None
    reference: str
    missing: list[str]


class RemsFormOut(RemsFormSummaryOut):
    submitted_by: str | None
    data: dict[str, Any]


class SubmissionIn(StrictSchema):
    submitted_on: dt.date
    reference: str


def _status(status: Any) -> dict[str, Any]:
    return {
        "state": status.state,
        "label": status.label,
        "reason": status.reason,
        "source": status.source,
    }


def summary_out(row: rems.QueueRow) -> dict[str, Any]:
    form = row.form
    return {
        "id": form.public_id,
        "client": row.client.public_id,
        "session": form.session.public_id,
        "session_date": row.session_date,
        "due_on": form.due_on,
        "status": _status(row.status),
        "submitted_on": form.submitted_on,
        "reference": form.reference,
        "missing": [item["code"] for item in form.data.get("missing", [])],
    }


def form_out(form: RemsForm) -> dict[str, Any]:
    row = rems.queue_rows([form])[0]
    return summary_out(row) | {
        "submitted_by": form.submitted_by.display_name if form.submitted_by else None,
        "data": form.data,
    }


@router.get(
    "/dosing/rems/forms",
    response=list[RemsFormSummaryOut],
    summary="The REMS monitoring forms of your clients: not submitted first, by due day",
)
def list_forms(request: HttpRequest, pending: bool = False) -> list[dict[str, Any]]:
    user = _caller(request)
    forms = rems.rems_forms(user)
    if pending:
        forms = forms.filter(submitted_on__isnull=True)
    rows = rems.queue_rows(forms)
    audit.record_read(
        actor=user,
        action="rems_form.list",
        subject_type="rems_form",
        detail={"clients": sorted({str(row.client.public_id) for row in rows})},
    )
    return [summary_out(row) for row in rows]


@router.get(
    "/dosing/rems/forms/{form_id}",
    response=RemsFormOut,
    summary="One REMS monitoring form with every section",
)
def get_form(request: HttpRequest, form_id: uuid.UUID) -> dict[str, Any]:
    user = _caller(request)
    form = rems.rems_form_for(user, form_id)
    record_form_read(user, form, "rems_form.read")
    return form_out(form)


@router.get(
    "/dosing/rems/forms/{form_id}/pdf",
    summary="The form as a PDF, for submission to the REMS",
    response={200: None},
)
def get_form_pdf(request: HttpRequest, form_id: uuid.UUID) -> HttpResponse:
    user = _caller(request)
    form = rems.rems_form_for(user, form_id)
    record_form_read(user, form, "rems_form.export", format="pdf")
    return pdf_response(form)


@router.post(
    "/dosing/rems/forms/{form_id}/submit",
    response=RemsFormOut,
    summary="Record that the form was sent to the REMS (prescribers and nurses)",
)
def submit_form(request: HttpRequest, form_id: uuid.UUID, payload: SubmissionIn) -> dict[str, Any]:
    user = _caller(request)
    form = rems.rems_form_for(user, form_id)
    submitted = rems.rems_form_submit(actor=user, form=form, **payload.model_dump())
    return form_out(rems.rems_form_for(user, submitted.public_id))
