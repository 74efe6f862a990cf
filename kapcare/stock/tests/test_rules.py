"""The pure rules: which way each kind moves stock, a dose's drug, lot numbers, expiry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.stock import rules

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


@given(amounts)
def test_into_stock_is_positive_and_out_of_stock_negative(quantity: Decimal) -> None:
    for kind in rules.INTO_STOCK:
        assert rules.signed_quantity(kind, quantity) == quantity
        assert rules.signed_quantity(kind, -quantity) == quantity
    for kind in rules.OUT_OF_STOCK:
        assert rules.signed_quantity(kind, quantity) == -quantity
        assert rules.signed_quantity(kind, -quantity) == -quantity


@given(amounts)
def test_an_adjustment_keeps_its_sign(quantity: Decimal) -> None:
    assert rules.signed_quantity(rules.ADJUSTED, quantity) == quantity
    assert rules.signed_quantity(rules.ADJUSTED, -quantity) == -quantity


def test_every_kind_has_a_direction_and_an_unknown_one_is_refused() -> None:
    kinds = rules.INTO_STOCK | rules.OUT_OF_STOCK | rules.EITHER_WAY
    assert len(kinds) == 7
    assert not (rules.INTO_STOCK & rules.OUT_OF_STOCK)
    with pytest.raises(ValueError, match="unknown kind"):
        rules.signed_quantity("borrowed", Decimal(1))


@pytest.mark.parametrize(
    ("route", "product", "drug"),
    [
        ("intranasal", "Spravato 28 mg device", "esketamine"),
        ("intranasal", "", "esketamine"),
        ("intramuscular", "Esketamine (compounded)", "esketamine"),
        ("sublingual", "SPRAVATO", "esketamine"),
        ("intramuscular", "Ketamine HCl injection 100 mg/mL", "ketamine"),
        ("sublingual", "Ketamine lozenge 100 mg", "ketamine"),
        ("intravenous", "ketamine", "ketamine"),
    ],
)
def test_the_drug_of_a_dose(route: str, product: str, drug: str) -> None:
    assert rules.drug_for(route, product) == drug


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("KT-2301", "KT-2301", True),
        ("kt-2301", " KT-2301 ", True),
        ("AB 12  34", "ab 12 34", True),
        ("KT-2301", "KT-2302", False),
        ("", "", False),
        ("KT2301", "KT-2301", False),
    ],
)
def test_lot_numbers_compare_without_case_and_spacing(first: str, second: str, same: bool) -> None:
    assert rules.same_lot(first, second) is same


def test_a_lot_is_usable_on_its_expiry_date_and_not_after() -> None:
    day = dt.date(2027, 3, 31)
    assert not rules.is_expired(day, day)
    assert not rules.is_expired(day, day - dt.timedelta(days=1))
    assert rules.is_expired(day, day + dt.timedelta(days=1))
