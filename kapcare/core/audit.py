"""Writing the audit log (habit 4): data, not log lines, in the transaction of the change."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from kapcare.core import context
from kapcare.core.models import AuditEvent

if TYPE_CHECKING:
    from kapcare.accounts.models import User

JSONValue = Any


def _jsonable(value: Any) -> JSONValue:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(getattr(value, "public_id", value.pk))
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, JSONValue]:
    """The named fields of a record as JSON-ready values (foreign keys as their public id)."""
    values: dict[str, JSONValue] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            related = getattr(instance, name)
            values[name] = None if related is None else _jsonable(related)
        else:
            values[name] = _jsonable(getattr(instance, name))
    return values


def changed(
    before: Mapping[str, JSONValue], after: Mapping[str, JSONValue]
) -> tuple[dict[str, JSONValue], dict[str, JSONValue]]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record(
    *,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_public_id: uuid.UUID | None = None,
    client_public_id: uuid.UUID | None = None,
    before: Mapping[str, JSONValue] | None = None,
    after: Mapping[str, JSONValue] | None = None,
    detail: Mapping[str, JSONValue] | None = None,
    write: bool = True,
) -> AuditEvent:
    """Append one audit event. A write must be recorded inside the transaction that makes it."""
    if write and not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"audit {action}: writes are audited inside their transaction")
    work = context.current()
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor.get_username() if actor is not None else f"({work.channel})",
        action=action,
        subject_type=subject_type,
        subject_public_id=subject_public_id,
        client_public_id=client_public_id,
        channel=work.channel,
        ip=work.ip,
        request_id=work.request_id,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        detail={key: _jsonable(value) for key, value in detail.items()} if detail else None,
    )


def record_read(
    *,
    actor: User,
    action: str,
    subject_type: str,
    subject_public_id: uuid.UUID | None = None,
    client_public_id: uuid.UUID | None = None,
    detail: Mapping[str, JSONValue] | None = None,
) -> AuditEvent:
    """Record that someone saw a chart or a list of clients."""
    return record(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_public_id=subject_public_id,
        client_public_id=client_public_id,
        detail=detail,
        write=False,
    )
