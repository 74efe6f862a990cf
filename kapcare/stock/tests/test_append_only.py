"""Movements are append-only: the services only add rows; the model refuses to save a change or
delete; bulk updates and deletes are refused; and the database refuses UPDATE (and DELETE on
PostgreSQL) by trigger even from raw SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from kapcare.stock import services
from kapcare.stock.models import Movement, MovementChanged
from kapcare.stock.tests.helpers import make_location, make_lot, mg, receive
from kapcare.testing.personas import Practice


@pytest.fixture
def movement(practice: Practice) -> Movement:
    return receive(practice, make_lot(), make_location(), "100")


def test_a_correction_is_a_new_adjustment(practice: Practice, movement: Movement) -> None:
    services.movement_record(
        actor=practice.admin,
        lot=movement.lot,
        location=movement.location,
        kind="adjusted",
        quantity_mg="-10",
        reason="Receipt entered as 100 mg; the delivery note says 90 mg.",
    )
    assert [(m.kind, m.quantity_mg, m.balance_after_mg) for m in Movement.objects.all()] == [
        ("received", mg(100), mg(100)),
        ("adjusted", mg(-10), mg(90)),
    ]


def test_the_model_refuses_to_save_a_change_or_delete(movement: Movement) -> None:
    movement.quantity_mg = mg(1000)
    with pytest.raises(MovementChanged):
        movement.save()
    with pytest.raises(MovementChanged):
        movement.delete()
    stored = Movement.objects.get(pk=movement.pk)
    assert stored.quantity_mg == mg(100)


def test_bulk_updates_and_deletes_are_refused(movement: Movement) -> None:
    with pytest.raises(MovementChanged):
        Movement.objects.filter(pk=movement.pk).update(quantity_mg=1)
    with pytest.raises(MovementChanged):
        Movement.objects.all().delete()
    # bulk_update runs in a transaction without a savepoint of its own; give it one.
    with pytest.raises(MovementChanged), transaction.atomic():
        Movement.objects.bulk_update([movement], ["quantity_mg"])
    assert Movement.objects.get(pk=movement.pk).quantity_mg == mg(100)


def test_the_database_refuses_an_update(movement: Movement) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE stock_movement SET quantity_mg = 1 WHERE id = %s", [movement.pk])
    assert Movement.objects.get(pk=movement.pk).quantity_mg == mg(100)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite keeps DELETE: Django's test runner empties SQLite tables with it",
)
def test_the_database_refuses_a_delete_on_postgresql(movement: Movement) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM stock_movement WHERE id = %s", [movement.pk])
    assert Movement.objects.filter(pk=movement.pk).exists()
