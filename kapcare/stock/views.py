"""Controlled-substance pages: stock on hand, a lot's ledger, the forms that add entries, the
storage locations, and the reconciliation against the dose records.

Prescribers, nurses and practice admins see them; anyone else gets 404, as for a client outside
their care team. A dose's client is named (with a link to the chart) only to someone who may see
that client; pages that name clients record the read in the audit log.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.forms import add_service_errors
from kapcare.core.time import practice_today
from kapcare.core.views import staff_user
from kapcare.stock import selectors, services
from kapcare.stock.forms import (
    FORM_KINDS,
    LocationForm,
    LotForm,
    MovementForm,
    ReconciliationForm,
    TransferForm,
)
from kapcare.stock.models import Kind, Location, Lot

DEFAULT_REPORT_DAYS = 30

TITLES = {
    Kind.RECEIVED: "Receive stock",
    Kind.WASTED: "Record wasted stock",
    Kind.RETURNED: "Return stock",
    Kind.ADJUSTED: "Adjust stock",
}


def stock_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Stock pages are for prescribers, nurses and practice admins; others get 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.may_see_stock(staff_user(request)):
            raise Http404("Not found.")
        return view(request, *args, **kwargs)

    return wrapped


def _lot(lot_id: uuid.UUID) -> Lot:
    return get_object_or_404(Lot, public_id=lot_id)


@stock_required
@require_GET
def balances_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    include_empty = request.GET.get("all") == "1"
    rows = list(selectors.balances())
    totals = selectors.lot_totals(rows)
    lots = [(lot, totals.get(lot.pk)) for lot in selectors.lots(include_empty=include_empty)]
    context = {
        "rows": rows,
        "lots": lots,
        "include_empty": include_empty,
        "today": practice_today(),
        "can_manage": services.may_manage(user),
        "form_kinds": [(kind, TITLES[kind]) for kind in FORM_KINDS],
    }
    return render(request, "stock/balances.html", context)


def _record_named_read(user: User, view: str, clients: dict[int, Client], **detail: Any) -> None:
    """A stock page that names clients is recorded like a schedule: which page, which clients."""
    audit.record_read(
        actor=user,
        action="stock.read",
        subject_type="stock",
        detail={
            "view": view,
            "clients": sorted(str(client.public_id) for client in clients.values()),
            **detail,
        },
    )


@stock_required
@require_GET
def ledger_view(request: HttpRequest, lot_id: uuid.UUID) -> HttpResponse:
    user = staff_user(request)
    lot = _lot(lot_id)
    entries = list(selectors.ledger(lot))
    client_ids = {entry.dose.session.client_id for entry in entries if entry.dose is not None}
    visible = selectors.visible_among(user, client_ids)
    _record_named_read(user, "ledger", visible, lot=str(lot.public_id))
    rows = [
        (
            entry,
            visible.get(entry.dose.session.client_id) if entry.dose is not None else None,
            abs(entry.drift_mg) > selectors.HALF_CENT,  # type: ignore[attr-defined]
        )
        for entry in entries
    ]
    context = {
        "lot": lot,
        "rows": rows,
        "expired": lot.expires_on < practice_today(),
        "form_kinds": [(kind, TITLES[kind]) for kind in FORM_KINDS],
    }
    return render(request, "stock/ledger.html", context)


def _initial(request: HttpRequest) -> dict[str, Any]:
    lot = request.GET.get("lot")
    return {"lot": lot} if lot else {}


@stock_required
@require_http_methods(["GET", "POST"])
def movement_view(request: HttpRequest, kind: str) -> HttpResponse:
    user = staff_user(request)
    if kind not in FORM_KINDS:
        raise Http404("Not found.")
    if request.method == "GET":
        form = MovementForm(kind, user, initial=_initial(request))
        return _movement_page(request, kind, form)
    form = MovementForm(kind, user, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            movement = services.movement_record(
                actor=user,
                lot=data["lot"],
                location=data["location"],
                kind=kind,
                quantity_mg=form.signed_quantity(),
                moved_at=data.get("moved_at"),
                witness=data.get("witness"),
                reason=data.get("reason") or "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Recorded. Lot {movement.lot.lot_number} at {movement.location} now holds "
                f"{movement.balance_after_mg} mg.",
            )
            return redirect("stock:ledger", movement.lot.public_id)
    return _movement_page(request, kind, form, status=400)


def _movement_page(
    request: HttpRequest, kind: str, form: MovementForm, status: int = 200
) -> HttpResponse:
    context = {"form": form, "kind": kind, "title": TITLES[Kind(kind)]}
    return render(request, "stock/movement.html", context, status=status)


@stock_required
@require_http_methods(["GET", "POST"])
def transfer_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if request.method == "GET":
        form = TransferForm(initial=_initial(request))
        return render(request, "stock/transfer.html", {"form": form})
    form = TransferForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _out, moved_in = services.movement_transfer(
                actor=user,
                lot=data["lot"],
                location=data["location"],
                to_location=data["to_location"],
                quantity_mg=data["quantity_mg"],
                moved_at=data.get("moved_at"),
                reason=data.get("reason") or "",
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Moved to {moved_in.location}.")
            return redirect("stock:ledger", moved_in.lot.public_id)
    return render(request, "stock/transfer.html", {"form": form}, status=400)


@stock_required
@require_http_methods(["GET", "POST"])
def lot_create_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    if not services.may_manage(user):
        raise Http404("Not found.")
    form = LotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_create(actor=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{lot} added. Record its receipt next.")
            return redirect(reverse("stock:record", args=[Kind.RECEIVED]) + f"?lot={lot.public_id}")
    return render(
        request,
        "stock/lot_new.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@stock_required
@require_http_methods(["GET", "POST"])
def locations_view(request: HttpRequest) -> HttpResponse:
    """The storage locations; prescribers and practice admins add them, and take one out of use
    (once empty) or back (a posted `location`)."""
    user = staff_user(request)
    can_manage = services.may_manage(user)
    form = LocationForm()
    problems: list[str] = []
    if request.method == "POST":
        if not can_manage:
            raise Http404("Not found.")
        try:
            if request.POST.get("location"):
                location = get_object_or_404(Location, public_id=request.POST["location"])
                services.location_update(
                    actor=user, location=location, active=request.POST.get("active") == "on"
                )
                messages.success(request, f"{location} saved.")
                return redirect("stock:locations")
            form = LocationForm(request.POST)
            if form.is_valid():
                location = services.location_create(actor=user, name=form.cleaned_data["name"])
                messages.success(request, f"{location} added.")
                return redirect("stock:locations")
        except ValidationError as error:
            if request.POST.get("location"):
                problems = [
                    message for messages_ in error.message_dict.values() for message in messages_
                ]
            else:
                add_service_errors(form, error)
    context = {
        "locations": Location.objects.all(),
        "form": form,
        "can_manage": can_manage,
        "problems": problems,
    }
    return render(
        request,
        "stock/locations.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@stock_required
@require_GET
def reconciliation_view(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    today = practice_today()
    params = {
        "from": request.GET.get("from")
        or (today - dt.timedelta(days=DEFAULT_REPORT_DAYS - 1)).isoformat(),
        "to": request.GET.get("to") or today.isoformat(),
    }
    form = ReconciliationForm(params)
    if not form.is_valid():
        return render(
            request, "stock/reconciliation.html", {"form": form, "report": None}, status=400
        )
    since, until = form.cleaned_data["period"]
    report = selectors.reconciliation(since, until)
    visible = selectors.visible_among(user, report.client_ids())
    _record_named_read(
        user,
        "reconciliation",
        visible,
        **{"from": form.cleaned_data["from"], "to": form.cleaned_data["to"]},
    )
    context = {
        "form": form,
        "report": report,
        "doses": [
            (dose, visible.get(dose.session.client_id)) for dose in report.doses_without_movement
        ],
        "mismatches": [
            (mismatch, visible.get(mismatch.dose.session.client_id))
            for mismatch in report.mismatches
        ],
    }
    return render(request, "stock/reconciliation.html", context)
