"""Two administrations from the same lot at the same moment (committed data, real threads with
their own connections). On PostgreSQL they truly overlap, and each reads the balance after a
pause that would let the other read the same one if nothing locked the lot: both still count,
in turn. On SQLite the callers run one after another (see kapcare.courses.tests.helpers)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from kapcare.core.time import now
from kapcare.courses.tests.helpers import truly_concurrent
from kapcare.dosing.models import Dose
from kapcare.stock import selectors, services
from kapcare.stock.models import Location, Lot, Movement
from kapcare.stock.tests.helpers import make_dose, make_location, make_lot, mg, receive
from kapcare.testing.personas import Practice


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, all released at once (one after another where the test
    database cannot take two writers). Returns what each returned or the error it raised."""
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, barrier: threading.Barrier | None) -> None:
        try:
            if barrier is not None:
                barrier.wait()
            outcomes[index] = calls[index]()
        except Exception as error:  # reported to the test as the outcome
            outcomes[index] = error
        finally:
            if barrier is not None:
                connection.close()

    if not truly_concurrent():
        for index in range(len(calls)):
            run(index, None)
        return outcomes
    barrier = threading.Barrier(len(calls), timeout=20)
    threads = [threading.Thread(target=run, args=(i, barrier)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def slow_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each balance read is followed by a pause: without the lock, both writers would read the
    same balance inside it."""
    real = services.balance_of

    def read_then_wait(lot: Lot, location: Location) -> Decimal:
        balance = real(lot, location)
        time.sleep(0.3)
        return balance

    monkeypatch.setattr(services, "balance_of", read_then_wait)


def administer(practice: Practice, dose: Dose, location: Location) -> Callable[[], Movement]:
    return lambda: services.administer_for_dose(actor=practice.nurse, dose=dose, location=location)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("slow_reads")
def test_two_administrations_at_once_both_count(practice: Practice) -> None:
    safe, lot = make_location(), make_lot("KT-2301")
    receive(practice, lot, safe, "100")
    doses = [make_dose(practice, mg=30), make_dose(practice, mg=45)]
    outcomes = together([administer(practice, dose, safe) for dose in doses])
    assert all(isinstance(outcome, Movement) for outcome in outcomes), outcomes
    assert selectors.balance_of(lot, safe) == mg(25)
    entries = list(Movement.objects.filter(kind="administered").order_by("id"))
    assert len(entries) == 2
    balances = [entry.balance_after_mg for entry in entries]
    assert len(set(balances)) == 2
    assert balances[-1] == mg(25)
    assert balances[0] in (mg(70), mg(55))
    assert selectors.reconciliation(now() - dt.timedelta(days=1), now()).clean


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("slow_reads")
def test_when_the_stock_covers_one_exactly_one_is_refused(practice: Practice) -> None:
    safe, lot = make_location(), make_lot("KT-2301")
    receive(practice, lot, safe, "50")
    doses = [make_dose(practice, mg=30), make_dose(practice, mg=45)]
    outcomes = together([administer(practice, dose, safe) for dose in doses])
    recorded = [outcome for outcome in outcomes if isinstance(outcome, Movement)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert (len(recorded), len(refused)) == (1, 1), outcomes
    assert [e.code for e in refused[0].error_dict["quantity_mg"]] == ["insufficient"]
    assert selectors.balance_of(lot, safe) == mg(50) + recorded[0].quantity_mg
    assert Movement.objects.filter(kind="administered").count() == 1
