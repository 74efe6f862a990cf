"""Writing the controlled-substance log (habit 2: validate, then one audited transaction).

Who does what, and why:
- Prescribers and nurses record every kind of movement: they hold the drug, give it, and waste
  what is left of it.
- Practice admins also receive stock, return it, adjust it (with a reason) and move it between
  locations: that is stock keeping, not handling the drug at a client's side. They never record
  an administration or a waste.
- Wasted stock needs a witness: another active prescriber or nurse, who saw it destroyed.
- Practice admins and prescribers add lots and storage locations.

No lost update: every movement of a lot is written under a lock on the lot's row
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite runs one writing transaction at a time), and the
balance it starts from is read inside that lock, so two entries never start from the same
balance and the balance can never go below zero.

The audit log records each movement with its lot, location, amounts and people; for an
administration, the client's id (`client_public_id`) and the dose's id, never the client's name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now, practice_zone
from kapcare.dosing.models import Dose
from kapcare.stock import rules
from kapcare.stock.models import Drug, Kind, Location, Lot, Movement
from kapcare.stock.selectors import balance_of, location_holds_stock

# A moment a little ahead of the server's clock is a clock difference, not a future entry.
CLOCK_SLACK = dt.timedelta(minutes=5)
REASON_MAX = 300
CENT = Decimal("0.01")

# What a practice admin (who is not also a prescriber or nurse) may record.
ADMIN_KINDS = frozenset({Kind.RECEIVED, Kind.RETURNED, Kind.ADJUSTED, *rules.TRANSFERS})


class _Problems:
    """Errors gathered field by field, raised together (each keeps its rule code)."""

    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, code: str) -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def may_record(actor: User, kind: str) -> bool:
    if actor.is_prescriber or actor.is_nurse:
        return True
    return bool(actor.is_practice_admin) and kind in ADMIN_KINDS


def may_manage(actor: User) -> bool:
    """Who adds lots and storage locations."""
    return bool(actor.is_practice_admin or actor.is_prescriber)


def _mg(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"


def _quantity(problems: _Problems, raw: Any, *, either_way: bool) -> Decimal | None:
    try:
        quantity = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError, TypeError):
        problems.add("quantity_mg", "Enter the quantity in mg, as a number.", "invalid")
        return None
    if not quantity.is_finite():
        problems.add("quantity_mg", "Enter the quantity in mg, as a number.", "invalid")
        return None
    if quantity != quantity.quantize(CENT):
        problems.add("quantity_mg", "At most two decimal places (0.01 mg).", "max_decimal_places")
        return None
    if either_way and quantity == 0:
        problems.add("quantity_mg", "An adjustment adds or removes some stock: not 0.", "zero")
        return None
    if not either_way and quantity <= 0:
        problems.add(
            "quantity_mg",
            "Enter the quantity as a positive amount; the kind of entry says which way it goes.",
            "not_positive",
        )
        return None
    if abs(quantity) > rules.MAX_QUANTITY_MG:
        problems.add(
            "quantity_mg", f"At most {rules.MAX_QUANTITY_MG:,} mg in one entry.", "too_large"
        )
        return None
    return quantity.quantize(CENT)


def _moved_at(problems: _Problems, moved_at: dt.datetime | None) -> dt.datetime:
    if moved_at is None:
        return now()
    if timezone.is_naive(moved_at):
        problems.add("moved_at", "Give the time with its time zone.", "naive")
    elif moved_at > now() + CLOCK_SLACK:
        problems.add("moved_at", "The time of a movement cannot be in the future.", "future")
    return moved_at


def _reason(problems: _Problems, reason: str, kind: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason and kind in rules.NEEDS_REASON:
        problems.add("reason", f"Say why the stock is {Kind(kind).label.lower()}.", "required")
    if len(reason) > REASON_MAX:
        problems.add("reason", f"At most {REASON_MAX} characters.", "max_length")
    return reason


def _witness(problems: _Problems, actor: User, witness: User | None, kind: str) -> None:
    if witness is None:
        if kind in rules.NEEDS_WITNESS:
            problems.add(
                "witness",
                "Wasted stock needs a witness: another prescriber or nurse who saw it destroyed.",
                "required",
            )
        return
    if witness.pk == actor.pk:
        problems.add(
            "witness", "The witness is someone other than the person recording.", "same_as_recorder"
        )
    elif not witness.is_active:
        problems.add("witness", f"{witness} no longer has an active account.", "inactive")
    elif not (witness.is_prescriber or witness.is_nurse):
        problems.add("witness", "The witness is a prescriber or a nurse.", "not_witness_role")


def dose_drug(dose: Dose) -> str:
    return rules.drug_for(dose.route, dose.product)


def _check_dose(
    problems: _Problems, kind: str, dose: Dose | None, lot: Lot, quantity: Decimal | None
) -> None:
    if kind != Kind.ADMINISTERED:
        if dose is not None:
            problems.add(
                "dose", "Only an administration is linked to a dose record.", "not_administered"
            )
        return
    if dose is None:
        problems.add("dose", "An administration is recorded with its dose record.", "required")
        return
    if not rules.same_lot(dose.lot, lot.lot_number):
        problems.add(
            "dose",
            f"The dose record names lot {dose.lot}, not lot {lot.lot_number}.",
            "lot_mismatch",
        )
    elif dose_drug(dose) != lot.drug:
        problems.add(
            "dose",
            f"The dose record is {Drug(dose_drug(dose)).label.lower()}; this lot is "
            f"{lot.get_drug_display().lower()}.",
            "drug_mismatch",
        )
    if quantity is not None and quantity != dose.dose_mg:
        problems.add(
            "quantity_mg",
            f"The dose record says {_mg(dose.dose_mg)} mg was given; the administration is "
            "that amount (record what was left over as wasted).",
            "not_dose_amount",
        )


def _audit_movement(actor: User, movement: Movement, client_public_id: uuid.UUID | None) -> None:
    lot = movement.lot
    audit.record(
        actor=actor,
        action="stock.movement",
        subject_type="stock_movement",
        subject_public_id=movement.public_id,
        client_public_id=client_public_id,
        after={
            "kind": movement.kind,
            "lot": str(lot.public_id),
            "drug": lot.drug,
            "lot_number": lot.lot_number,
            "location": str(movement.location.public_id),
            "quantity_mg": str(movement.quantity_mg),
            "balance_after_mg": str(movement.balance_after_mg),
            "moved_at": movement.moved_at.isoformat(),
            "witness": str(movement.witness.public_id) if movement.witness else None,
            "reason": movement.reason,
            "dose": str(movement.dose.public_id) if movement.dose else None,
            "transfer": str(movement.transfer) if movement.transfer else None,
        },
    )


def _insufficient(lot: Lot, location: Location, balance: Decimal, taking: Decimal) -> None:
    raise field_error(
        "quantity_mg",
        f"Lot {lot.lot_number} at {location} holds {_mg(balance)} mg; {_mg(taking)} mg cannot "
        "be taken out of it.",
        "insufficient",
    )


def movement_record(
    *,
    actor: User,
    lot: Lot,
    location: Location,
    kind: str,
    quantity_mg: Decimal | int | str,
    moved_at: dt.datetime | None = None,
    witness: User | None = None,
    reason: str = "",
    dose: Dose | None = None,
) -> Movement:
    """Add one entry to the log. `quantity_mg` is entered as a positive amount and takes its
    sign from `kind`; an adjustment is entered signed (negative removes stock). An
    administration defaults its time to the dose's. A transfer is `movement_transfer`."""
    if kind not in Kind.values:
        raise field_error("kind", f"{kind!r} is not a kind of stock movement.", "invalid_choice")
    if kind in rules.TRANSFERS:
        raise field_error(
            "kind", "Move stock between locations as a transfer (both sides).", "use_transfer"
        )
    if not may_record(actor, kind):
        raise field_error(
            "kind",
            f"Only a prescriber or a nurse records stock as {Kind(kind).label.lower()}.",
            "not_permitted",
        )
    problems = _Problems()
    quantity = _quantity(problems, quantity_mg, either_way=kind in rules.EITHER_WAY)
    if moved_at is None and kind == Kind.ADMINISTERED and dose is not None:
        moved_at = dose.given_at
    when = _moved_at(problems, moved_at)
    clean_reason = _reason(problems, reason, kind)
    _witness(problems, actor, witness, kind)
    _check_dose(problems, kind, dose, lot, quantity)
    if not location.active:
        problems.add("location", f"{location} is not in use.", "inactive")
    if kind == Kind.ADMINISTERED and "moved_at" not in problems:
        day = timezone.localdate(when, practice_zone())
        if rules.is_expired(lot.expires_on, day):
            problems.add(
                "lot", f"Lot {lot.lot_number} expired on {lot.expires_on:%Y-%m-%d}.", "expired"
            )
    problems.raise_any()
    assert quantity is not None  # noqa: S101  (a None quantity was reported above)
    signed = rules.signed_quantity(kind, quantity)
    client_public_id = dose.session.client.public_id if dose is not None else None
    with transaction.atomic():
        # Every entry of this lot waits here for the one before it to commit.
        Lot.objects.select_for_update().get(pk=lot.pk)
        if dose is not None and Movement.objects.filter(dose=dose).exists():
            raise field_error(
                "dose",
                "This dose's administration is already in the stock log.",
                "already_recorded",
            )
        balance = balance_of(lot, location)
        if balance + signed < 0:
            _insufficient(lot, location, balance, -signed)
        movement = Movement(
            lot=lot,
            location=location,
            kind=kind,
            quantity_mg=signed,
            balance_after_mg=balance + signed,
            moved_at=when,
            recorded_by=actor,
            witness=witness,
            reason=clean_reason,
            dose=dose,
            created_by=actor,
            updated_by=actor,
        )
        movement.save()
        _audit_movement(actor, movement, client_public_id)
    return movement


def movement_transfer(
    *,
    actor: User,
    lot: Lot,
    location: Location,
    to_location: Location,
    quantity_mg: Decimal | int | str,
    moved_at: dt.datetime | None = None,
    reason: str = "",
) -> tuple[Movement, Movement]:
    """Move stock of a lot from `location` to `to_location`: two rows (out, in) with one
    transfer id, written together or not at all."""
    if not may_record(actor, Kind.TRANSFERRED_OUT):
        raise field_error(
            "kind", "Only a prescriber, a nurse or a practice admin moves stock.", "not_permitted"
        )
    problems = _Problems()
    quantity = _quantity(problems, quantity_mg, either_way=False)
    when = _moved_at(problems, moved_at)
    clean_reason = _reason(problems, reason, Kind.TRANSFERRED_OUT)
    if to_location.pk == location.pk:
        problems.add(
            "to_location", "Choose another location to move the stock to.", "same_location"
        )
    elif not to_location.active:
        problems.add("to_location", f"{to_location} is not in use.", "inactive")
    problems.raise_any()
    assert quantity is not None  # noqa: S101
    transfer = uuid.uuid4()
    with transaction.atomic():
        Lot.objects.select_for_update().get(pk=lot.pk)
        balance = balance_of(lot, location)
        if balance - quantity < 0:
            _insufficient(lot, location, balance, quantity)
        rows = []
        for kind, where, change in (
            (Kind.TRANSFERRED_OUT, location, -quantity),
            (Kind.TRANSFERRED_IN, to_location, quantity),
        ):
            movement = Movement(
                lot=lot,
                location=where,
                kind=kind,
                quantity_mg=change,
                balance_after_mg=balance_of(lot, where) + change,
                moved_at=when,
                recorded_by=actor,
                reason=clean_reason,
                transfer=transfer,
                created_by=actor,
                updated_by=actor,
            )
            movement.save()
            _audit_movement(actor, movement, None)
            rows.append(movement)
    return rows[0], rows[1]


def administer_for_dose(*, actor: User, dose: Dose, location: Location | None = None) -> Movement:
    """The administration of a charted dose, taken from the lot its record names at `location`
    (left out: the practice's one storage location in use, when it has exactly one). The dose
    service calls this inside its own transaction, so the dose and its stock entry are saved
    together or not at all."""
    if location is None:
        in_use = list(Location.objects.filter(active=True)[:2])
        if len(in_use) != 1:
            raise field_error(
                "location",
                "Choose the storage location the dose was taken from."
                if in_use
                else "No storage location is in use; add one on the Controlled substances page.",
                "required",
            )
        location = in_use[0]
    drug = dose_drug(dose)
    # Lot numbers are stored with their spaces collapsed (lot_create), so this finds the lot
    # whatever the case or spacing of the number on the dose record.
    number = " ".join(dose.lot.split())
    lot = Lot.objects.filter(drug=drug, lot_number__iexact=number).first() if number else None
    if lot is None:
        raise field_error(
            "lot",
            f"No {Drug(drug).label.lower()} lot numbered {dose.lot} is in the stock log; "
            "receive it into stock first.",
            "unknown_lot",
        )
    return movement_record(
        actor=actor,
        lot=lot,
        location=location,
        kind=Kind.ADMINISTERED,
        quantity_mg=dose.dose_mg,
        moved_at=dose.given_at,
        dose=dose,
    )


# ---------------------------------------------------------------------------------------------
# Lots and locations


def _text(problems: _Problems, field: str, value: str, limit: int) -> str:
    value = " ".join((value or "").split())
    if not value:
        problems.add(field, "This is required.", "required")
    elif len(value) > limit:
        problems.add(field, f"At most {limit} characters.", "max_length")
    return value


def lot_create(
    *,
    actor: User,
    drug: str,
    product: str,
    form: str,
    lot_number: str,
    expires_on: dt.date,
) -> Lot:
    """Add a lot to the log (its stock arrives with a `received` movement)."""
    if not may_manage(actor):
        raise field_error(
            "lot", "Only a practice admin or a prescriber adds lots.", "not_permitted"
        )
    problems = _Problems()
    if drug not in Drug.values:
        problems.add("drug", "Choose ketamine or esketamine.", "invalid_choice")
    product = _text(problems, "product", product, 120)
    form = _text(problems, "form", form, 120)
    lot_number = _text(problems, "lot_number", lot_number, 60)
    if not isinstance(expires_on, dt.date) or isinstance(expires_on, dt.datetime):
        problems.add("expires_on", "Enter the expiry date.", "required")
    if (
        "drug" not in problems
        and "lot_number" not in problems
        and Lot.objects.filter(drug=drug, lot_number__iexact=lot_number).exists()
    ):
        problems.add(
            "lot_number",
            f"{Drug(drug).label} lot {lot_number} is already in the log.",
            "unique",
        )
    problems.raise_any()
    lot = Lot(
        drug=drug,
        product=product,
        form=form,
        lot_number=lot_number,
        expires_on=expires_on,
        created_by=actor,
        updated_by=actor,
    )
    with transaction.atomic():
        lot.save()
        audit.record(
            actor=actor,
            action="stock.lot_create",
            subject_type="stock_lot",
            subject_public_id=lot.public_id,
            after=audit.snapshot(lot, ["drug", "product", "form", "lot_number", "expires_on"]),
        )
    return lot


def _location_name(problems: _Problems, name: str, location: Location | None) -> str:
    name = _text(problems, "name", name, 80)
    if "name" not in problems:
        clash = Location.objects.filter(name__iexact=name)
        if location is not None:
            clash = clash.exclude(pk=location.pk)
        if clash.exists():
            problems.add("name", "A location with this name exists.", "unique")
    return name


def location_create(*, actor: User, name: str) -> Location:
    """Add a storage location (a safe, a locked cabinet)."""
    if not may_manage(actor):
        raise field_error(
            "location",
            "Only a practice admin or a prescriber adds storage locations.",
            "not_permitted",
        )
    problems = _Problems()
    name = _location_name(problems, name, None)
    problems.raise_any()
    location = Location(name=name, created_by=actor, updated_by=actor)
    with transaction.atomic():
        location.save()
        audit.record(
            actor=actor,
            action="stock.location_create",
            subject_type="stock_location",
            subject_public_id=location.public_id,
            after={"name": name, "active": True},
        )
    return location


def location_update(
    *, actor: User, location: Location, name: str | None = None, active: bool | None = None
) -> Location:
    """Rename a location, or take it out of use (only once it holds no stock) or back."""
    if not may_manage(actor):
        raise field_error(
            "location",
            "Only a practice admin or a prescriber changes storage locations.",
            "not_permitted",
        )
    problems = _Problems()
    new_name = location.name if name is None else _location_name(problems, name, location)
    new_active = location.active if active is None else bool(active)
    problems.raise_any()
    fields = ["name", "active"]
    with transaction.atomic():
        locked = Location.objects.select_for_update().get(pk=location.pk)
        before = audit.snapshot(locked, fields)
        if locked.active and not new_active and location_holds_stock(locked):
            raise field_error(
                "active",
                f"{locked} still holds stock; move or return it before taking the location "
                "out of use.",
                "holds_stock",
            )
        locked.name, locked.active, locked.updated_by = new_name, new_active, actor
        old, new = audit.changed(before, audit.snapshot(locked, fields))
        if not new:
            return locked
        locked.save()
        audit.record(
            actor=actor,
            action="stock.location_update",
            subject_type="stock_location",
            subject_public_id=locked.public_id,
            before=old,
            after=new,
        )
    return locked
