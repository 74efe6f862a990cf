"""The reconciliation of the log against the dose records: each kind of flag, the period, and a
fixed number of queries however many rows are clean. Rows the services would refuse are written
straight to the table, as an import could."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.core.time import now
from kapcare.stock import selectors, services
from kapcare.stock.models import Location, Lot, Movement
from kapcare.stock.tests.helpers import make_dose, make_location, make_lot, mg, receive
from kapcare.testing.personas import Practice

DAY = dt.timedelta(days=1)


@pytest.fixture
def safe(db: None) -> Location:
    return make_location()


@pytest.fixture
def lot(db: None) -> Lot:
    return make_lot("KT-2301")


def this_week() -> selectors.Reconciliation:
    return selectors.reconciliation(now() - 7 * DAY, now() + DAY)


def imported(
    practice: Practice,
    lot: Lot,
    location: Location,
    *,
    kind: str,
    quantity: str,
    balance: str,
    dose: object = None,
    moved_at: dt.datetime | None = None,
) -> Movement:
    return Movement.objects.create(
        lot=lot,
        location=location,
        kind=kind,
        quantity_mg=Decimal(quantity),
        balance_after_mg=Decimal(balance),
        moved_at=moved_at or now() - dt.timedelta(hours=2),
        recorded_by=practice.admin,
        dose=dose,
    )


def test_a_clean_log_has_nothing_to_reconcile(practice: Practice, lot: Lot, safe: Location) -> None:
    receive(practice, lot, safe, "1000")
    for amount in ("12.35", "2.1", "33.33", "0.07"):
        dose = make_dose(practice, mg=amount)
        services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
    services.movement_record(
        actor=practice.nurse,
        lot=lot,
        location=safe,
        kind="wasted",
        quantity_mg="0.1",
        witness=practice.prescriber,
    )
    report = this_week()
    assert report.clean
    assert report.count == 0


def test_a_dose_without_a_stock_entry_is_flagged(
    practice: Practice, lot: Lot, safe: Location
) -> None:
    receive(practice, lot, safe, "1000")
    recorded = make_dose(practice, mg=50)
    services.administer_for_dose(actor=practice.nurse, dose=recorded, location=safe)
    missing = make_dose(practice, mg=40)
    make_dose(practice, mg=30, given_at=now() - 30 * DAY)  # before the period
    report = this_week()
    assert report.doses_without_movement == [missing]
    assert report.client_ids() == {practice.client.pk}
    assert not report.clean
    earlier = selectors.reconciliation(now() - 31 * DAY, now() - 29 * DAY)
    assert [dose.dose_mg for dose in earlier.doses_without_movement] == [mg(30)]


def test_an_administration_without_a_dose_is_flagged(
    practice: Practice, lot: Lot, safe: Location
) -> None:
    receive(practice, lot, safe, "1000")
    orphan = imported(practice, lot, safe, kind="administered", quantity="-50", balance="950")
    report = this_week()
    assert report.movements_without_dose == [orphan]
    assert report.count == 1
    assert selectors.reconciliation(now() + DAY, now() + 2 * DAY).clean


def test_an_administration_that_differs_from_its_dose_is_flagged(
    practice: Practice, lot: Lot, safe: Location
) -> None:
    receive(practice, lot, safe, "1000")
    wrong_amount = make_dose(practice, mg=50)
    imported(
        practice, lot, safe, kind="administered", quantity="-45", balance="955", dose=wrong_amount
    )
    wrong_lot = make_dose(practice, mg=20, lot="KT-2399")
    imported(
        practice, lot, safe, kind="administered", quantity="-20", balance="935", dose=wrong_lot
    )
    same_in_other_case = make_dose(practice, mg=10, lot=" kt-2301 ")
    imported(
        practice,
        lot,
        safe,
        kind="administered",
        quantity="-10",
        balance="925",
        dose=same_in_other_case,
    )
    report = this_week()
    assert [(m.dose, m.amount_differs, m.lot_differs) for m in report.mismatches] == [
        (wrong_amount, True, False),
        (wrong_lot, False, True),
    ]
    assert report.doses_without_movement == []
    assert report.balance_problems == []


def test_negative_and_out_of_step_balances_are_flagged(
    practice: Practice, lot: Lot, safe: Location
) -> None:
    cabinet = make_location("Cabinet")
    receive(practice, lot, safe, "100")
    out_of_step = imported(
        practice, lot, safe, kind="adjusted", quantity="-10", balance="80", moved_at=now()
    )
    # The next entry follows from the stored balance before it, so it is in step.
    follows = imported(practice, lot, safe, kind="adjusted", quantity="-5", balance="75")
    negative = imported(practice, lot, cabinet, kind="adjusted", quantity="-5", balance="-5")
    report = this_week()
    flagged = {
        problem.movement.pk: (problem.negative, problem.inconsistent, problem.expected_mg)
        for problem in report.balance_problems
    }
    assert flagged == {
        out_of_step.pk: (False, True, mg(90)),
        negative.pk: (True, False, mg(-5)),
    }
    assert follows.pk not in flagged
    ledger = {row.pk: row.drift_mg for row in selectors.ledger(lot)}
    assert abs(ledger[out_of_step.pk] - Decimal(-10)) < selectors.HALF_CENT


def test_the_entry_before_the_period_counts_for_the_balance_check(
    practice: Practice, lot: Lot, safe: Location
) -> None:
    imported(
        practice,
        lot,
        safe,
        kind="received",
        quantity="100",
        balance="100",
        moved_at=now() - 40 * DAY,
    )
    services.movement_record(
        actor=practice.nurse,
        lot=lot,
        location=safe,
        kind="wasted",
        quantity_mg="10",
        witness=practice.prescriber,
    )
    assert this_week().clean


def test_the_report_takes_a_fixed_number_of_queries(
    practice: Practice, lot: Lot, safe: Location
) -> None:
    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            report = this_week()
            for problem in report.balance_problems:
                str(problem.movement.lot)
                str(problem.movement.location)
            for mismatch in report.mismatches:
                str(mismatch.dose.session.client_id)
        return len(queries)

    receive(practice, lot, safe, "10000")
    cabinet = make_location("Cabinet")

    def add(count: int) -> None:
        for _ in range(count):
            make_dose(practice, mg=5)
            dose = make_dose(practice, mg=5)
            services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
            mismatch = make_dose(practice, mg=5)
            balance = selectors.balance_of(lot, safe)
            imported(
                practice,
                lot,
                safe,
                kind="administered",
                quantity="-4",
                balance=str(balance - 4),
                dose=mismatch,
            )
            imported(practice, lot, cabinet, kind="adjusted", quantity="-1", balance="-1")

    add(2)
    few = measure()
    add(8)
    report = this_week()
    assert len(report.doses_without_movement) == 10
    assert len(report.mismatches) == 10
    assert len(report.balance_problems) == 10
    assert measure() == few
