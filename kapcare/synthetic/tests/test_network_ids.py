"""The generator's id hand-off between clinics, and rows encoded for COPY away from the database.

The whole network made by one process or by two is compared in test_network_command; here the
parts: the hand-off in clinic order (in this process, and across processes that ask out of
order), and rows encoded by a worker reading back the same as rows sent through the
connection."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from decimal import Decimal

import pytest
from django.db import connection

from kapcare.accounts.models import User
from kapcare.stock.models import Kind as MovementKind
from kapcare.stock.models import Location, Lot, Movement
from kapcare.synthetic.network_ids import IdHandoff
from kapcare.synthetic.network_tables import NetworkTables
from kapcare.synthetic.network_writer import PublicIds, encoded, write, write_encoded

FIRST = {"client": 101, "course": 7, "vitals": 1}


def test_each_clinic_takes_the_ids_after_the_clinic_before() -> None:
    handoff = IdHandoff(FIRST, clinics=3)
    assert handoff.take(0, {"client": 5, "course": 2, "vitals": 40}) == FIRST
    # A table the clinic has no rows in keeps its next id.
    assert handoff.take(1, {"client": 3, "vitals": 10}) == {
        "client": 106,
        "course": 9,
        "vitals": 41,
    }
    assert handoff.take(2, {}) == {"client": 109, "course": 9, "vitals": 51}


def test_a_clinic_out_of_order_in_one_process_is_refused_rather_than_waited_for() -> None:
    handoff = IdHandoff(FIRST, clinics=2)
    with pytest.raises(RuntimeError, match="clinic 1 asked for its ids, but clinic 0 is next"):
        handoff.take(1, {"client": 1})
    handoff.take(0, {"client": 1})
    with pytest.raises(RuntimeError, match="clinic 0 asked for its ids, but clinic 1 is next"):
        handoff.take(0, {"client": 1})  # taken already


_SHARED: IdHandoff | None = None


def _take_late(position: int) -> dict[str, int]:
    # The first clinic is slow: the second asks first and must wait for it.
    if position == 0:
        time.sleep(0.5)
    assert _SHARED is not None
    return _SHARED.take(position, {"client": 10 * (position + 1), "course": position + 1})


def test_worker_processes_get_the_same_ids_whichever_asks_first() -> None:
    global _SHARED
    context = multiprocessing.get_context("fork")
    _SHARED = IdHandoff(FIRST, clinics=2, context=context)
    try:
        with context.Pool(2) as pool:
            first = pool.apply_async(_take_late, (0,))
            second = pool.apply_async(_take_late, (1,))
            taken = [first.get(timeout=30), second.get(timeout=30)]
    finally:
        _SHARED = None
    assert taken == [FIRST, {"client": 111, "course": 8, "vitals": 1}]


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="rows are encoded for COPY only on PostgreSQL"
)
def test_rows_encoded_apart_read_back_as_rows_sent_through_the_connection() -> None:
    director = User.objects.create(username="director")
    location = Location.objects.create(name="Safe")
    at = dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt.UTC)
    tables = NetworkTables()  # the generator's own tables, ids after the rows there are
    lots, movements = tables.lot, tables.movement
    ids = PublicIds("encoded")
    sent = []
    for how in ("connection", "encoded"):
        lot = lots.add(
            "ketamine",
            "Ketamine HCl ü",
            "Lozenge 100 mg",
            f"L-{how}",
            dt.date(2027, 1, 31),
            at,
            at,
            director.pk,
            None,
        )
        movements.add(
            lot,
            location.pk,
            MovementKind.RECEIVED,
            Decimal("1200.5"),
            Decimal("1200.5"),
            at,
            director.pk,
            None,
            "Received\ttab and\nnew line",
            None,
            at,
            at,
            director.pk,
            None,
        )
        for table in (lots, movements):
            rows = table.finish(table.detach(), ids)
            if how == "connection":
                write(table, rows)
            else:
                write_encoded(table, encoded(table, rows))
        sent.append(lot)

    def read(lot_id: int) -> tuple[object, ...]:
        lot = Lot.objects.get(pk=lot_id)
        movement = Movement.objects.get(lot_id=lot_id)
        return (
            lot.drug,
            lot.product,
            lot.form,
            lot.expires_on,
            lot.created_at,
            lot.created_by_id,
            lot.updated_by_id,
            movement.location_id,
            movement.quantity_mg,
            movement.moved_at,
            movement.witness_id,
            movement.reason,
            movement.dose_id,
        )

    through_connection, through_encoding = (read(lot) for lot in sent)
    assert through_encoding == through_connection
    assert through_encoding[4] == at
    assert through_encoding[8] == Decimal("1200.5")
    assert Lot.objects.get(pk=sent[1]).lot_number == "L-encoded"
    assert Lot.objects.get(pk=sent[1]).public_id != Lot.objects.get(pk=sent[0]).public_id
