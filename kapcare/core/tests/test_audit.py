"""The audit log: written inside the write's transaction, append-only, JSON-ready values."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.db import transaction

from kapcare.clients.models import WeightMeasurement
from kapcare.core import audit
from kapcare.core.context import WorkContext, working_as
from kapcare.core.models import AuditEvent
from kapcare.testing.factories import make_staff


def _record(action: str = "test.thing") -> AuditEvent:
    with transaction.atomic():
        return audit.record(actor=None, action=action, subject_type="test")


@pytest.mark.django_db(transaction=True)
def test_record_refuses_a_write_outside_a_transaction() -> None:
    # transaction=True: the test runs in autocommit, as a view without atomic() would.
    staff = make_staff()
    assert not transaction.get_connection().in_atomic_block
    with pytest.raises(RuntimeError, match=r"staff\.update"):
        audit.record(actor=staff, action="staff.update", subject_type="staff")
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_record_read_works_outside_a_transaction() -> None:
    staff = make_staff(username="reader")
    event = audit.record_read(actor=staff, action="client.read", subject_type="client")
    stored = AuditEvent.objects.get()
    assert stored.pk == event.pk
    assert stored.action == "client.read"
    assert stored.actor == staff
    assert stored.actor_label == "reader"


@pytest.mark.django_db(transaction=True)
def test_record_inside_a_transaction_is_written() -> None:
    with transaction.atomic():
        audit.record(actor=None, action="test.thing", subject_type="test")
    assert AuditEvent.objects.filter(action="test.thing").count() == 1


def test_a_saved_event_cannot_be_saved_again(db: None) -> None:
    event = _record()
    event.action = "test.rewritten"
    with pytest.raises(PermissionError):
        event.save()
    event.refresh_from_db()
    assert event.action == "test.thing"


def test_an_event_cannot_be_deleted(db: None) -> None:
    event = _record()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_and_delete_are_refused(db: None) -> None:
    event = _record()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="test.rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="test.rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    event.action = "test.rewritten"
    # bulk_update runs in its own atomic block; a savepoint keeps the test's transaction usable.
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.thing"
    assert AuditEvent.objects.count() == 1


def test_snapshot_serialises_dates_decimals_and_foreign_keys(practice) -> None:
    created = dt.datetime(2025, 3, 4, 9, 30, tzinfo=dt.UTC)
    weight = WeightMeasurement(
        client=practice.client,
        measured_on=dt.date(2025, 3, 4),
        weight_kg=Decimal("72.5"),
        note="after breakfast",
        created_at=created,
        created_by=practice.nurse,
    )
    values = audit.snapshot(
        weight,
        [
            "client",
            "measured_on",
            "weight_kg",
            "note",
            "created_at",
            "created_by",
            "updated_by",
            "public_id",
        ],
    )
    assert values == {
        "client": str(practice.client.public_id),
        "measured_on": "2025-03-04",
        "weight_kg": "72.5",
        "note": "after breakfast",
        "created_at": "2025-03-04T09:30:00+00:00",
        "created_by": str(practice.nurse.public_id),
        "updated_by": None,
        "public_id": str(weight.public_id),
    }
    # JSON-ready without a custom encoder.
    assert json.loads(json.dumps(values)) == values


def test_snapshot_only_has_the_named_fields(practice) -> None:
    values = audit.snapshot(practice.prescriber, ["username", "is_prescriber"])
    assert values == {"username": "prescriber", "is_prescriber": True}


def test_changed_keeps_only_changed_keys() -> None:
    before = {"a": 1, "b": "x", "c": None, "d": True}
    after = {"a": 1, "b": "y", "c": "now set", "d": True}
    assert audit.changed(before, after) == ({"b": "x", "c": None}, {"b": "y", "c": "now set"})


def test_changed_with_nothing_changed_is_empty() -> None:
    values = {"a": 1, "b": "x"}
    assert audit.changed(values, dict(values)) == ({}, {})


def test_changed_treats_a_new_key_as_changed_from_none() -> None:
    assert audit.changed({}, {"a": 1}) == ({"a": None}, {"a": 1})


def test_the_work_context_is_written(practice) -> None:
    request_id = uuid.uuid4().hex
    with (
        working_as(WorkContext(channel="cli", ip="203.0.113.7", request_id=request_id)),
        transaction.atomic(),
    ):
        event = audit.record(
            actor=practice.admin,
            action="staff.update",
            subject_type="staff",
            subject_public_id=practice.nurse.public_id,
            before={"is_nurse": False},
            after={"is_nurse": True},
            detail={"on": dt.date(2025, 1, 2), "amount": Decimal("1.5")},
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.channel == "cli"
    assert stored.ip == "203.0.113.7"
    assert stored.request_id == request_id
    assert stored.actor == practice.admin
    assert stored.actor_label == "admin"
    assert stored.subject_public_id == practice.nurse.public_id
    assert stored.before == {"is_nurse": False}
    assert stored.after == {"is_nurse": True}
    assert stored.detail == {"on": "2025-01-02", "amount": "1.5"}


def test_without_a_work_context_the_channel_is_system(db: None) -> None:
    event = _record()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.channel == "system"
    assert stored.ip is None
    assert stored.actor is None
    assert stored.actor_label == "(system)"
    assert len(stored.request_id) == 32


def test_working_as_is_undone_afterwards(db: None) -> None:
    with working_as(WorkContext(channel="worker")):
        inside = _record()
    outside = _record()
    assert AuditEvent.objects.get(pk=inside.pk).channel == "worker"
    assert AuditEvent.objects.get(pk=outside.pk).channel == "system"


def _raw(sql: str, params: list[object]) -> None:
    from django.db import connection

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_itself_refuses_to_change_an_audit_row(db: None) -> None:
    """Even SQL that goes around the model cannot rewrite history."""
    from django.db import DatabaseError, connection

    staff = make_staff()
    with transaction.atomic():
        event = audit.record(actor=staff, action="client.update", subject_type="client")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE core_auditevent SET action = %s WHERE id = %s", ["tampered", event.pk])
    event.refresh_from_db()
    assert event.action == "client.update"
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"):
            _raw("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
        assert AuditEvent.objects.filter(pk=event.pk).exists()
