"""Pure rules of the controlled-substance log: no ORM, no request, no clock.

- Which way each kind of movement moves stock: a quantity is entered as a positive amount and
  takes its sign from the kind, except an adjustment, which may go either way.
- Which drug a dose's product is (ketamine or esketamine).
- When two lot numbers name the same lot (case and spacing aside).
- When a lot has expired.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

KETAMINE = "ketamine"
ESKETAMINE = "esketamine"

RECEIVED = "received"
ADMINISTERED = "administered"
WASTED = "wasted"
RETURNED = "returned"
ADJUSTED = "adjusted"
TRANSFERRED_OUT = "transferred_out"
TRANSFERRED_IN = "transferred_in"

INTO_STOCK = frozenset({RECEIVED, TRANSFERRED_IN})
OUT_OF_STOCK = frozenset({ADMINISTERED, WASTED, RETURNED, TRANSFERRED_OUT})
EITHER_WAY = frozenset({ADJUSTED})
TRANSFERS = frozenset({TRANSFERRED_OUT, TRANSFERRED_IN})

# Kinds that need a reason written with them, and the kind that needs a witness.
NEEDS_REASON = frozenset({ADJUSTED, RETURNED})
NEEDS_WITNESS = frozenset({WASTED})

# The largest quantity one entry may hold (a data-entry bound, not a clinical one: far above any
# delivery a clinic receives, and what the column holds).
MAX_QUANTITY_MG = Decimal("99999999.99")

# Product names that are esketamine whatever route the dose record names.
ESKETAMINE_NAMES = ("esketamine", "spravato")
INTRANASAL_ESKETAMINE_ROUTE = "intranasal"


def signed_quantity(kind: str, quantity: Decimal) -> Decimal:
    """The quantity as stored: positive into stock, negative out of it. An adjustment keeps the
    sign it was entered with; every other kind is entered as a positive amount."""
    if kind in EITHER_WAY:
        return quantity
    if kind in INTO_STOCK:
        return abs(quantity)
    if kind in OUT_OF_STOCK:
        return -abs(quantity)
    raise ValueError(f"unknown kind of movement: {kind!r}")


def normal_lot_number(text: str) -> str:
    """A lot number as compared: spaces collapsed, letters in capitals."""
    return " ".join((text or "").split()).upper()


def same_lot(first: str, second: str) -> bool:
    return bool(normal_lot_number(first)) and normal_lot_number(first) == normal_lot_number(second)


def drug_for(route: str, product: str) -> str:
    """The drug of a dose: esketamine for the intranasal route (in kapcare that route is the
    esketamine nasal spray) or a product named as esketamine, ketamine otherwise."""
    name = (product or "").lower()
    if route == INTRANASAL_ESKETAMINE_ROUTE or any(word in name for word in ESKETAMINE_NAMES):
        return ESKETAMINE
    return KETAMINE


def is_expired(expires_on: dt.date, on: dt.date) -> bool:
    """A lot may be used on its expiry date and not after it."""
    return on > expires_on
