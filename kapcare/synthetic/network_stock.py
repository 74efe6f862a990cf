"""Controlled-substance stock of each clinic in a synthetic network: the lots it received and the
stock log with every dose's administration and a running balance per lot.

Each clinic (a stock Location) receives a lot of each product per period, the afternoon before
the period starts: compounded troches every two months, ketamine vials and esketamine devices
every four months (synthetic choices). A dose on a day is drawn from that period's lot, so no
dose uses an expired lot. What arrives is what the period's doses used plus a few spare units;
what is left when a lot expires is destroyed the day after, recorded by a nurse with a
prescriber as witness. Movements are written in time order per lot, each with the balance of
its lot at its location after it, as the stock services keep it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from kapcare.dosing import rules
from kapcare.stock.models import Drug
from kapcare.stock.models import Kind as MovementKind
from kapcare.synthetic.network_calendar import Clock
from kapcare.synthetic.network_tables import NetworkTables


@dataclass(frozen=True)
class Product:
    code: str
    drug: str
    product: str
    form: str
    unit_mg: int
    period_days: int
    shelf_days: int

    @property
    def label(self) -> str:
        """As a dose record names it."""
        return f"{self.product}, {self.form}"


TROCHE = Product(
    "TR",
    Drug.KETAMINE,
    "Ketamine HCl sublingual troche (compounded)",
    "100 mg troche",
    100,
    61,
    90,
)
VIAL = Product(
    "KV",
    Drug.KETAMINE,
    "Ketamine HCl injection",
    "500 mg/5 mL (100 mg/mL) multi-dose vial",
    500,
    122,
    365,
)
SPRAY = Product(
    "ES",
    Drug.ESKETAMINE,
    "Spravato (esketamine) nasal spray",
    "28 mg nasal spray device",
    rules.DEVICE_MG,
    122,
    365,
)
BY_ROUTE = {
    rules.SUBLINGUAL: TROCHE,
    rules.INTRAMUSCULAR: VIAL,
    rules.INTRAVENOUS: VIAL,
    rules.INTRANASAL: SPRAY,
}


@dataclass
class LotUse:
    product: Product
    number: str
    starts: dt.date
    expires: dt.date
    doses: list[tuple[dt.datetime, int, Decimal, int]] = field(default_factory=list)


@dataclass
class ClinicStock:
    """One clinic's lots, filled in as its doses are charted, written at the clinic's end."""

    clinic: int  # 1-based
    location: int
    epoch: dt.date  # the first period's first day
    lots: dict[tuple[str, int], LotUse] = field(default_factory=dict)

    def lot_for(self, route: str, day: dt.date) -> LotUse:
        product = BY_ROUTE[route]
        period = (day - self.epoch).days // product.period_days
        key = (product.code, period)
        found = self.lots.get(key)
        if found is None:
            starts = self.epoch + dt.timedelta(days=period * product.period_days)
            found = LotUse(
                product,
                f"SYN-{product.code}{self.clinic:03d}-{period + 1:03d}",
                starts,
                starts + dt.timedelta(days=product.shelf_days - 1),
            )
            self.lots[key] = found
        return found

    def write(
        self,
        tables: NetworkTables,
        clock: Clock,
        now: dt.datetime,
        rng: random.Random,
        nurses: Sequence[int],
        prescribers: Sequence[int],
    ) -> None:
        """The clinic's lots and its stock log, in time order per lot."""
        entries: list[
            tuple[dt.datetime, int, int, str, Decimal, int, int | None, str, int | None]
        ] = []
        for key in sorted(self.lots):
            use = self.lots[key]
            product = use.product
            director = rng.choice(prescribers)
            received = clock.at(use.starts - dt.timedelta(days=1), 16 * 60)
            lot = tables.lot.add(
                product.drug,
                product.product,
                product.form,
                use.number,
                use.expires,
                received,
                received,
                director,
                director,
            )
            used = sum((mg for _, _, mg, _ in use.doses), Decimal(0))
            units = math.ceil(used / product.unit_mg)
            units += max(2, math.ceil(units * 0.15))
            quantity = Decimal(units * product.unit_mg)
            entries.append(
                (
                    received,
                    0,
                    lot,
                    MovementKind.RECEIVED,
                    quantity,
                    rng.choice(nurses),
                    None,
                    f"{units} x {product.form}; delivery counted against the invoice.",
                    None,
                )
            )
            for given, dose, mg, giver in use.doses:
                entries.append(
                    (given, 1, lot, MovementKind.ADMINISTERED, -mg, giver, None, "", dose)
                )
            wasted = clock.at(use.expires + dt.timedelta(days=1), 16 * 60 + 45)
            if wasted <= now and quantity > used:
                entries.append(
                    (
                        wasted,
                        2,
                        lot,
                        MovementKind.WASTED,
                        -(quantity - used),
                        rng.choice(nurses),
                        rng.choice(prescribers),
                        f"Lot expired on {use.expires:%Y-%m-%d}: the remaining stock was "
                        "destroyed in the drug disposal container.",
                        None,
                    )
                )
        balances: dict[int, Decimal] = {}
        for at, _order, lot_id, kind, quantity, by, witness, reason, dose_id in sorted(
            entries, key=lambda e: (e[0], e[1], e[2])
        ):
            balance = balances.get(lot_id, Decimal(0)) + quantity
            balances[lot_id] = balance
            tables.movement.add(
                lot_id,
                self.location,
                kind,
                quantity,
                balance,
                at,
                by,
                witness,
                reason,
                dose_id,
                at,
                at,
                by,
                by,
            )
