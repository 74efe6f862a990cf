"""Reading the controlled-substance log: balances, a lot's ledger, and the reconciliation of
the log against the dose records.

Balances are the stored running balances (`balance_after_mg`) of the latest entry of each lot at
each location, found in one query. The reconciliation's checks each run as one query in the
database and return only the rows they flag.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lag, Trim, Upper

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.clients.models import Client
from kapcare.core.forms import field_error
from kapcare.core.time import practice_zone
from kapcare.courses.calendar import day_range
from kapcare.dosing.models import Dose
from kapcare.stock.models import Kind, Location, Lot, Movement

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Half a hundredth of a mg: sums of stored amounts are compared within it, because SQLite adds
# decimals as floating-point numbers (PostgreSQL's numeric is exact).
HALF_CENT = Decimal("0.005")
MG = DecimalField(max_digits=12, decimal_places=2)
# What showing an entry needs, loaded with it.
ENTRY_RELATIONS = ("lot", "location", "recorded_by", "witness", "dose", "dose__session")
MAX_REPORT_DAYS = 366  # the longest period one reconciliation covers


def period(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The days from `first` to `last` (both in, in the practice's time zone) as [since, until)
    instants, for the reconciliation."""
    if last < first:
        raise field_error("to", "The period ends before it starts.", "end_before_start")
    if (last - first).days >= MAX_REPORT_DAYS:
        raise field_error("to", f"At most {MAX_REPORT_DAYS} days in one report.", "too_long")
    return day_range(first, last, practice_zone())


def may_see_stock(user: User) -> bool:
    """Who sees the stock pages and endpoints: prescribers, nurses and practice admins."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_prescriber or user.is_nurse or user.is_practice_admin)
    )


def balance_of(lot: Lot, location: Location) -> Decimal:
    """The running balance of a lot at a location: that of its latest entry (0 before any)."""
    latest = (
        Movement.objects.filter(lot=lot, location=location)
        .order_by("-id")
        .values_list("balance_after_mg", flat=True)
        .first()
    )
    return ZERO if latest is None else latest


def _latest_entries() -> QuerySet[Movement]:
    """The latest entry of each lot at each location."""
    latest_ids = Movement.objects.values("lot", "location").annotate(last=Max("id")).values("last")
    return Movement.objects.filter(id__in=Subquery(latest_ids))


def location_holds_stock(location: Location) -> bool:
    return _latest_entries().filter(location=location).exclude(balance_after_mg=0).exists()


def balances(*, include_empty: bool = False) -> QuerySet[Movement]:
    """What each lot holds at each location, as the latest entry of each (lot, location) with
    its lot and location: one query. `balance_after_mg` is the balance; `moved_at` when it last
    changed. Empty ones are left out unless asked for."""
    found = _latest_entries().select_related("lot", "location")
    if not include_empty:
        found = found.exclude(balance_after_mg=0)
    return found.order_by("lot__drug", "lot__expires_on", "lot__lot_number", "location__name")


def lot_totals(entries: Iterable[Movement]) -> dict[int, Decimal]:
    """Each lot's stock over all its locations, from `balances(...)` rows."""
    totals: dict[int, Decimal] = {}
    for entry in entries:
        totals[entry.lot_id] = totals.get(entry.lot_id, ZERO) + entry.balance_after_mg
    return totals


def lots(*, include_empty: bool = False) -> QuerySet[Lot]:
    """The lots, with `used` (whether any entry has been made). Without include_empty, a lot
    whose every location is empty is left out (a lot not yet received stays in)."""
    found = Lot.objects.annotate(used=Exists(Movement.objects.filter(lot=OuterRef("pk"))))
    if not include_empty:
        holding = _latest_entries().filter(lot=OuterRef("pk")).exclude(balance_after_mg=0)
        found = found.filter(Q(used=False) | Exists(holding))
    return found


def _with_chain_check(movements: QuerySet[Movement]) -> QuerySet[Movement]:
    """Each entry with `expected_mg`: the balance before it (that of the entry before it at the
    same lot and location, 0 for the first) plus its quantity; and `drift_mg`, how far its
    stored balance is from that."""
    before = Window(
        Lag("balance_after_mg"),
        partition_by=[F("lot_id"), F("location_id")],
        order_by=F("id").asc(),
    )
    return movements.annotate(
        expected_mg=ExpressionWrapper(
            Coalesce(before, Value(ZERO), output_field=MG) + F("quantity_mg"), output_field=MG
        )
    ).annotate(
        drift_mg=ExpressionWrapper(F("balance_after_mg") - F("expected_mg"), output_field=MG)
    )


def ledger(lot: Lot) -> QuerySet[Movement]:
    """Every entry of a lot in the order they were made, with its location's running balance
    (`balance_after_mg`), the lot's balance over all locations (`lot_balance_mg`) and the chain
    check (`drift_mg`, see reconciliation)."""
    return (
        _with_chain_check(Movement.objects.filter(lot=lot))
        .annotate(
            lot_balance_mg=Window(Sum("quantity_mg"), order_by=F("id").asc(), output_field=MG)
        )
        .select_related(*ENTRY_RELATIONS)
        .order_by("id")
    )


# ---------------------------------------------------------------------------------------------
# Reconciliation


@dataclass(frozen=True)
class BalanceProblem:
    """An entry whose stored balance is below zero, or does not follow from the entry before it
    at the same lot and location (`expected_mg`)."""

    movement: Movement
    negative: bool
    inconsistent: bool

    @property
    def expected_mg(self) -> Decimal:
        return Decimal(self.movement.expected_mg).quantize(CENT)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Mismatch:
    """An administration whose amount or lot differs from its dose record's."""

    movement: Movement
    amount_differs: bool
    lot_differs: bool

    @property
    def dose(self) -> Dose:
        assert self.movement.dose is not None  # noqa: S101  (only linked rows are compared)
        return self.movement.dose


@dataclass(frozen=True)
class Reconciliation:
    since: dt.datetime
    until: dt.datetime
    # (a) doses given in the period with no administration in the log
    doses_without_movement: list[Dose] = field(default_factory=list)
    # (b) administrations in the period that name no dose
    movements_without_dose: list[Movement] = field(default_factory=list)
    # (c) administrations of doses given in the period whose amount or lot differs from the
    # dose record's
    mismatches: list[Mismatch] = field(default_factory=list)
    # (d) entries in the period whose balance is below zero or does not follow from the one
    # before it at the same lot and location
    balance_problems: list[BalanceProblem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return (
            len(self.doses_without_movement)
            + len(self.movements_without_dose)
            + len(self.mismatches)
            + len(self.balance_problems)
        )

    @property
    def clean(self) -> bool:
        return self.count == 0

    def client_ids(self) -> set[int]:
        """The clients the flagged doses belong to (primary keys)."""
        ids = {dose.session.client_id for dose in self.doses_without_movement}
        ids |= {mismatch.dose.session.client_id for mismatch in self.mismatches}
        return ids


def reconciliation(since: dt.datetime, until: dt.datetime) -> Reconciliation:
    """The log against the dose records over [since, until): four queries, each returning only
    what it flags."""
    doses = (
        Dose.objects.filter(given_at__gte=since, given_at__lt=until)
        .filter(~Exists(Movement.objects.filter(dose=OuterRef("pk"))))
        .select_related("session", "given_by")
        .order_by("given_at", "id")
    )
    no_dose = (
        Movement.objects.filter(
            kind=Kind.ADMINISTERED, dose__isnull=True, moved_at__gte=since, moved_at__lt=until
        )
        .select_related(*ENTRY_RELATIONS)
        .order_by("moved_at", "id")
    )
    amount_gap = ExpressionWrapper(F("quantity_mg") + F("dose__dose_mg"), output_field=MG)
    mismatched = (
        Movement.objects.filter(
            kind=Kind.ADMINISTERED,
            dose__isnull=False,
            dose__given_at__gte=since,
            dose__given_at__lt=until,
        )
        .annotate(
            amount_gap=amount_gap,
            lot_key=Upper("lot__lot_number"),
            dose_lot_key=Upper(Trim("dose__lot")),
        )
        .filter(
            Q(amount_gap__gt=HALF_CENT)
            | Q(amount_gap__lt=-HALF_CENT)
            | ~Q(lot_key=F("dose_lot_key"))
        )
        .select_related(*ENTRY_RELATIONS)
        .order_by("dose__given_at", "id")
    )
    # The chain is checked over the whole history (the entry before the first one of the period
    # counts); of the entries it flags, those of the period are reported.
    broken = (
        _with_chain_check(Movement.objects.all())
        .filter(Q(balance_after_mg__lt=0) | Q(drift_mg__gt=HALF_CENT) | Q(drift_mg__lt=-HALF_CENT))
        .select_related(*ENTRY_RELATIONS)
        .order_by("lot__lot_number", "location__name", "id")
    )
    problems = [
        BalanceProblem(
            movement=row,
            negative=row.balance_after_mg < 0,
            inconsistent=abs(row.drift_mg) > HALF_CENT,  # type: ignore[attr-defined]
        )
        for row in broken
        if since <= row.moved_at < until
    ]
    return Reconciliation(
        since=since,
        until=until,
        doses_without_movement=list(doses),
        movements_without_dose=list(no_dose),
        mismatches=[
            Mismatch(
                movement=row,
                amount_differs=abs(row.amount_gap) > HALF_CENT,
                lot_differs=row.lot_key != row.dose_lot_key,
            )
            for row in mismatched
        ],
        balance_problems=problems,
    )


def visible_among(user: User, client_ids: Iterable[int]) -> dict[int, Client]:
    """Which of these clients `user` may see, by primary key: one query (none when empty)."""
    ids = set(client_ids)
    if not ids:
        return {}
    return {client.pk: client for client in visible_clients(user).filter(pk__in=ids)}
