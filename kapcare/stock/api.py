"""The controlled-substance log in the JSON API: lots, locations, balances, a lot's entries,
new entries and the reconciliation, with the same rules, services and audit as the pages.

Prescribers, nurses and practice admins may call these endpoints; anyone else gets 404 on every
one of them, as on the pages. An administration names its dose by id; a dose is found only among
those of clients the caller may see (any other id is refused as `unknown`). Reads name a dose's
client only to someone who may see that client, and reads that name clients are audited as
`stock.read`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from kapcare.accounts.api_auth import api_caller
from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.api_schemas import StrictSchema
from kapcare.core.forms import field_error
from kapcare.core.time import practice_today
from kapcare.dosing.models import Dose
from kapcare.stock import selectors, services
from kapcare.stock.models import Location, Lot, Movement

router = Router(tags=["stock"])

REPORT_DAYS = 30


def _caller(request: HttpRequest) -> User:
    user = api_caller(request)
    if not selectors.may_see_stock(user):
        raise Http404("Not found.")
    return user


# ---------------------------------------------------------------------------------------------
# Lots and locations


class LotOut(Schema):
    id: uuid.UUID
    drug: str
    product: str
    form: str
    lot_number: str
    expires_on: dt.date
    unit: str
    on_hand_mg: decimal.Decimal


class LotIn(StrictSchema):
    drug: str
    product: str
    form: str
    lot_number: str
    expires_on: dt.date


class LocationOut(Schema):
    id: uuid.UUID
    name: str
    active: bool


def lot_out(lot: Lot, on_hand: decimal.Decimal | None) -> dict[str, Any]:
    return {
        "id": lot.public_id,
        "drug": lot.drug,
        "product": lot.product,
        "form": lot.form,
        "lot_number": lot.lot_number,
        "expires_on": lot.expires_on,
        "unit": lot.unit,
        "on_hand_mg": on_hand if on_hand is not None else selectors.ZERO,
    }


def location_out(location: Location) -> dict[str, Any]:
    return {"id": location.public_id, "name": location.name, "active": location.active}


@router.get(
    "/stock/lots",
    response=list[LotOut],
    summary="The lots holding stock and those not yet received (include_empty=true: all)",
)
def list_lots(request: HttpRequest, include_empty: bool = False) -> list[dict[str, Any]]:
    _caller(request)
    totals = selectors.lot_totals(selectors.balances())
    return [lot_out(lot, totals.get(lot.pk)) for lot in selectors.lots(include_empty=include_empty)]


@router.post(
    "/stock/lots", response={201: LotOut}, summary="Add a lot (its stock comes as a receipt)"
)
def create_lot(request: HttpRequest, payload: LotIn) -> Status[dict[str, Any]]:
    user = _caller(request)
    lot = services.lot_create(actor=user, **payload.model_dump())
    return Status(201, lot_out(lot, None))


@router.get(
    "/stock/locations",
    response=list[LocationOut],
    summary="The storage locations in use (include_inactive=true adds the others)",
)
def list_locations(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    _caller(request)
    found = Location.objects.all() if include_inactive else Location.objects.filter(active=True)
    return [location_out(location) for location in found]


# ---------------------------------------------------------------------------------------------
# Balances and entries


class BalanceOut(Schema):
    lot: uuid.UUID
    drug: str
    lot_number: str
    expires_on: dt.date
    location: uuid.UUID
    location_name: str
    balance_mg: decimal.Decimal
    last_moved_at: dt.datetime


@router.get(
    "/stock/balances",
    response=list[BalanceOut],
    summary="What each lot holds at each location (include_empty=true adds the empty ones)",
)
def list_balances(request: HttpRequest, include_empty: bool = False) -> list[dict[str, Any]]:
    _caller(request)
    return [
        {
            "lot": row.lot.public_id,
            "drug": row.lot.drug,
            "lot_number": row.lot.lot_number,
            "expires_on": row.lot.expires_on,
            "location": row.location.public_id,
            "location_name": row.location.name,
            "balance_mg": row.balance_after_mg,
            "last_moved_at": row.moved_at,
        }
        for row in selectors.balances(include_empty=include_empty)
    ]


class StaffRef(Schema):
    id: uuid.UUID
    name: str


class DoseRef(Schema):
    id: uuid.UUID
    given_at: dt.datetime
    dose_mg: decimal.Decimal
    lot: str
    client: uuid.UUID | None  # null: a client the caller may not see


class MovementOut(Schema):
    id: uuid.UUID
    lot: uuid.UUID
    lot_number: str
    location: uuid.UUID
    location_name: str
    kind: str
    quantity_mg: decimal.Decimal
    balance_after_mg: decimal.Decimal
    moved_at: dt.datetime
    recorded_by: StaffRef
    witness: StaffRef | None
    reason: str
    dose: DoseRef | None
    transfer: uuid.UUID | None
    created_at: dt.datetime


def _staff(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.public_id, "name": user.display_name}


def _dose_ref(dose: Dose, visible: dict[int, Client]) -> dict[str, Any]:
    client = visible.get(dose.session.client_id)
    return {
        "id": dose.public_id,
        "given_at": dose.given_at,
        "dose_mg": dose.dose_mg,
        "lot": dose.lot,
        "client": client.public_id if client is not None else None,
    }


def movement_out(movement: Movement, visible: dict[int, Client]) -> dict[str, Any]:
    return {
        "id": movement.public_id,
        "lot": movement.lot.public_id,
        "lot_number": movement.lot.lot_number,
        "location": movement.location.public_id,
        "location_name": movement.location.name,
        "kind": movement.kind,
        "quantity_mg": movement.quantity_mg,
        "balance_after_mg": movement.balance_after_mg,
        "moved_at": movement.moved_at,
        "recorded_by": _staff(movement.recorded_by),
        "witness": _staff(movement.witness),
        "reason": movement.reason,
        "dose": _dose_ref(movement.dose, visible) if movement.dose is not None else None,
        "transfer": movement.transfer,
        "created_at": movement.created_at,
    }


def _named_read(user: User, view: str, visible: dict[int, Client], **detail: Any) -> None:
    audit.record_read(
        actor=user,
        action="stock.read",
        subject_type="stock",
        detail={
            "view": view,
            "clients": sorted(str(client.public_id) for client in visible.values()),
            **detail,
        },
    )


@router.get(
    "/stock/lots/{lot_id}/movements",
    response=list[MovementOut],
    summary="Every entry of a lot in the order it was made, with its running balance",
)
def list_movements(request: HttpRequest, lot_id: uuid.UUID) -> list[dict[str, Any]]:
    user = _caller(request)
    lot = get_object_or_404(Lot, public_id=lot_id)
    entries = list(selectors.ledger(lot))
    visible = selectors.visible_among(
        user, {entry.dose.session.client_id for entry in entries if entry.dose is not None}
    )
    _named_read(user, "api.ledger", visible, lot=str(lot.public_id))
    return [movement_out(entry, visible) for entry in entries]


class MovementIn(StrictSchema):
    kind: str
    lot: uuid.UUID
    location: uuid.UUID
    quantity_mg: decimal.Decimal
    moved_at: AwareDatetime | None = None
    witness: uuid.UUID | None = None
    reason: str = ""
    dose: uuid.UUID | None = None


class TransferIn(StrictSchema):
    lot: uuid.UUID
    location: uuid.UUID
    to_location: uuid.UUID
    quantity_mg: decimal.Decimal
    moved_at: AwareDatetime | None = None
    reason: str = ""


def _find_lot(lot_id: uuid.UUID) -> Lot:
    lot = Lot.objects.filter(public_id=lot_id).first()
    if lot is None:
        raise field_error("lot", f"No lot has the id {lot_id}.", "unknown")
    return lot


def _find_location(location_id: uuid.UUID, field: str = "location") -> Location:
    location = Location.objects.filter(public_id=location_id).first()
    if location is None:
        raise field_error(field, f"No location has the id {location_id}.", "unknown")
    return location


def _find_witness(witness_id: uuid.UUID | None) -> User | None:
    if witness_id is None:
        return None
    witness = User.objects.filter(public_id=witness_id).first()
    if witness is None:
        raise field_error("witness", f"No staff member has the id {witness_id}.", "unknown")
    return witness


def _find_dose(user: User, dose_id: uuid.UUID | None) -> Dose | None:
    """A dose of a client the caller may see; any other id is unknown to them."""
    if dose_id is None:
        return None
    dose = (
        Dose.objects.filter(public_id=dose_id, session__client__in=visible_clients(user))
        .select_related("session", "session__client")
        .first()
    )
    if dose is None:
        raise field_error("dose", f"No dose you may see has the id {dose_id}.", "unknown")
    return dose


def _one(movement: Movement, user: User) -> dict[str, Any]:
    visible = (
        selectors.visible_among(user, {movement.dose.session.client_id})
        if movement.dose is not None
        else {}
    )
    return movement_out(movement, visible)


@router.post(
    "/stock/movements",
    response={201: MovementOut},
    summary="Add an entry: received, administered (with its dose), wasted, returned or adjusted",
)
def create_movement(request: HttpRequest, payload: MovementIn) -> Status[dict[str, Any]]:
    user = _caller(request)
    movement = services.movement_record(
        actor=user,
        lot=_find_lot(payload.lot),
        location=_find_location(payload.location),
        kind=payload.kind,
        quantity_mg=payload.quantity_mg,
        moved_at=payload.moved_at,
        witness=_find_witness(payload.witness),
        reason=payload.reason,
        dose=_find_dose(user, payload.dose),
    )
    return Status(201, _one(movement, user))


@router.post(
    "/stock/transfers",
    response={201: list[MovementOut]},
    summary="Move stock of a lot between locations (two entries, out and in, together)",
)
def create_transfer(request: HttpRequest, payload: TransferIn) -> Status[list[dict[str, Any]]]:
    user = _caller(request)
    rows = services.movement_transfer(
        actor=user,
        lot=_find_lot(payload.lot),
        location=_find_location(payload.location),
        to_location=_find_location(payload.to_location, "to_location"),
        quantity_mg=payload.quantity_mg,
        moved_at=payload.moved_at,
        reason=payload.reason,
    )
    return Status(201, [movement_out(row, {}) for row in rows])


# ---------------------------------------------------------------------------------------------
# Reconciliation


class ReportQuery(Schema):
    start: dt.date | None = Field(None, alias="from")
    end: dt.date | None = Field(None, alias="to")


class FlaggedDoseOut(Schema):
    dose: DoseRef
    product: str
    route: str
    given_by: StaffRef


class MismatchOut(Schema):
    movement: MovementOut
    amount_differs: bool
    lot_differs: bool


class BalanceProblemOut(Schema):
    movement: MovementOut
    negative: bool
    inconsistent: bool
    expected_balance_mg: decimal.Decimal


class ReconciliationOut(Schema):
    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")
    clean: bool
    count: int
    doses_without_movement: list[FlaggedDoseOut]
    movements_without_dose: list[MovementOut]
    mismatches: list[MismatchOut]
    balance_problems: list[BalanceProblemOut]


@router.get(
    "/stock/reconciliation",
    response=ReconciliationOut,
    by_alias=True,
    summary="Doses without a stock entry, entries without a dose, differences, broken balances",
)
def reconciliation(request: HttpRequest, query: Query[ReportQuery]) -> dict[str, Any]:
    user = _caller(request)
    today = practice_today()
    last = query.end or today
    first = query.start or last - dt.timedelta(days=REPORT_DAYS - 1)
    since, until = selectors.period(first, last)
    report = selectors.reconciliation(since, until)
    visible = selectors.visible_among(user, report.client_ids())
    _named_read(user, "api.reconciliation", visible, **{"from": first, "to": last})
    return {
        "start": first,
        "end": last,
        "clean": report.clean,
        "count": report.count,
        "doses_without_movement": [
            {
                "dose": _dose_ref(dose, visible),
                "product": dose.product,
                "route": dose.route,
                "given_by": _staff(dose.given_by),
            }
            for dose in report.doses_without_movement
        ],
        "movements_without_dose": [
            movement_out(movement, visible) for movement in report.movements_without_dose
        ],
        "mismatches": [
            {
                "movement": movement_out(item.movement, visible),
                "amount_differs": item.amount_differs,
                "lot_differs": item.lot_differs,
            }
            for item in report.mismatches
        ],
        "balance_problems": [
            {
                "movement": movement_out(item.movement, visible),
                "negative": item.negative,
                "inconsistent": item.inconsistent,
                "expected_balance_mg": item.expected_mg,
            }
            for item in report.balance_problems
        ],
    }
