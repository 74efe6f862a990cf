"""Fast bulk writes for `kapcare generate`: rows as plain tuples, ids chosen by the writer.

A synthetic network is millions of rows, more than Django's `bulk_create` of model instances
writes in reasonable time. Each table here is a `Table`: the generator adds rows as tuples in a
declared column order and gets each row's id back at once (ids are allocated from the table's
current maximum, so no round trip is needed to link a child row to its parent). `flush` writes
what has been added: with COPY on PostgreSQL, with `executemany` on SQLite. Values are converted
the way Django's fields store them (UUIDs as 32 hex digits and datetimes as naive UTC text on
SQLite, JSON as text), so the ORM reads the rows back exactly as if it had written them.

Columns a table does not declare get the field's default (a fresh UUID for `public_id`). A model
that gains a column with no default makes `Table` refuse to start, rather than write bad rows.

Writing explicit ids assumes nobody else writes to these tables meanwhile (the generator fills
an empty practice); `reset_sequences` moves PostgreSQL's id sequences past the ids used.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max

Converter = Callable[[Any], Any]

# Rows per executemany call (SQLite) and per COPY buffer check.
SQLITE_CHUNK = 5000


class PublicIds:
    """Random version-4 UUIDs as 32 hex digits, drawn from the OS in large blocks (one system
    call per 4,096 ids instead of one per id). Both databases accept the hex form."""

    BLOCK = 4096

    def __init__(self) -> None:
        self._hex = ""
        self._at = 0

    def next(self) -> str:
        if self._at >= len(self._hex):
            self._hex = os.urandom(16 * self.BLOCK).hex()
            self._at = 0
        raw = self._hex[self._at : self._at + 32]
        self._at += 32
        variant = "89ab"[int(raw[16], 16) & 3]
        return f"{raw[:12]}4{raw[13:16]}{variant}{raw[17:]}"


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _sqlite_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_decimal(value: decimal.Decimal | None) -> str | None:
    return None if value is None else str(value)


def _uuid_hex(value: uuid.UUID | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.hex


def _json(value: Any) -> str | None:
    # Django's JSONField stores SQL NULL for None only when the field is null=True; kapcare's
    # JSON columns are not nullable, so None here is the JSON value null.
    return json.dumps(value)


def _uuid(value: uuid.UUID | str | None) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(value)


# PostgreSQL's binary COPY needs each column's type: Django's column types, as psycopg names them.
PG_TYPES = {
    "bigint": "int8",
    "integer": "int4",
    "smallint": "int2",
    "boolean": "bool",
    "timestamp with time zone": "timestamptz",
    "date": "date",
    "uuid": "uuid",
    "jsonb": "jsonb",
    "text": "text",
    "double precision": "float8",
    "inet": "inet",
}


def _pg_type(field: models.Field[Any, Any]) -> str:
    db_type = (field.db_type(connection) or "").split("(")[0].strip()
    if db_type == "varchar":
        return "varchar"
    if db_type == "numeric":
        return "numeric"
    return PG_TYPES[db_type]


def _converter(field: models.Field[Any, Any], vendor: str) -> Converter | None:
    """How a value of `field` is passed to the database driver (None: as it is)."""
    kind = field.get_internal_type()
    if vendor == "postgresql":
        return _uuid if kind == "UUIDField" else None
    if kind == "JSONField":
        return _json
    if kind == "DateTimeField":
        return _sqlite_datetime
    if kind == "DateField":
        return _sqlite_date
    if kind == "DecimalField":
        return _sqlite_decimal
    if kind == "UUIDField":
        return _uuid_hex
    return None


class Table:
    """Rows of one model waiting to be written, with ids allocated as they are added."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        self.model = model
        meta = model._meta
        by_column = {field.column: field for field in meta.concrete_fields}
        unknown = [name for name in columns if name not in by_column]
        if unknown:
            raise ValueError(f"{meta.label} has no columns {unknown}")
        pk = meta.pk
        assert pk is not None  # noqa: S101 - every kapcare model has a primary key
        self.declared = tuple(columns)
        self.defaulted: list[str] = []
        self.defaults: list[Any] = []
        self.public_id = False
        for field in meta.concrete_fields:
            if field.column == pk.column or field.column in self.declared:
                continue
            if field.column == "public_id":
                self.public_id = True
                continue
            if field.has_default():
                self.defaults.append(field.get_default())
            elif field.null:
                self.defaults.append(None)
            elif field.blank and field.empty_strings_allowed:
                self.defaults.append("")
            elif isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
                raise ValueError(f"{meta.label}.{field.column}: declare the time explicitly")
            else:
                raise ValueError(f"{meta.label}.{field.column} has no default: declare it")
            self.defaulted.append(field.column)
        self.columns = [pk.column, *self.declared, *self.defaulted]
        if self.public_id:
            self.columns.append("public_id")
        vendor = connection.vendor
        fields = [by_column[name] for name in self.columns]
        self.pg_types = [_pg_type(field) for field in fields] if vendor == "postgresql" else []
        self.converters = [
            (index, convert)
            for index, field in enumerate(fields)
            if (convert := _converter(field, vendor)) is not None
        ]
        top = model._default_manager.aggregate(top=Max(pk.attname))["top"]  # type: ignore[attr-defined]
        self.next_id = (top or 0) + 1
        self.first_id = self.next_id
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, *values: Any) -> int:
        """Add one row (values in the declared column order); returns its id."""
        row_id = self.next_id
        self.next_id += 1
        self.rows.append((row_id, *values))
        return row_id

    def reserve(self) -> int:
        """An id for a row added later with `add_reserved` (its values are known only once its
        children are made)."""
        row_id = self.next_id
        self.next_id += 1
        return row_id

    def add_reserved(self, row_id: int, *values: Any) -> None:
        self.rows.append((row_id, *values))

    @property
    def added(self) -> int:
        return self.written + len(self.rows)

    def take(self, ids: PublicIds) -> list[Sequence[Any]]:
        """The waiting rows, complete and converted for the driver; the table is emptied."""
        tail = tuple(self.defaults)
        rows: Iterable[tuple[Any, ...]] = self.rows
        if self.public_id:
            rows = [(*row, *tail, ids.next()) for row in rows]
        elif tail:
            rows = [(*row, *tail) for row in rows]
        complete: list[Sequence[Any]]
        if self.converters:
            complete = []
            converters = self.converters
            for row in rows:
                values = list(row)
                for index, convert in converters:
                    values[index] = convert(values[index])
                complete.append(values)
        else:
            complete = list(rows)
        self.written += len(complete)
        self.rows = []
        return complete


def write(table: Table, ids: PublicIds) -> int:
    """Write a table's waiting rows; returns how many."""
    rows = table.take(ids)
    if not rows:
        return 0
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in table.columns)
    db_table = quote(table.model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {db_table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(table.pg_types)
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(table.columns))
            sql = f"INSERT INTO {db_table} ({names}) VALUES ({marks})"  # noqa: S608 - names are the model's own
            for start in range(0, len(rows), SQLITE_CHUNK):
                cursor.executemany(sql, rows[start : start + SQLITE_CHUNK])
    return len(rows)


def reset_sequences(tables: Iterable[Table]) -> None:
    """Move PostgreSQL's id sequences past the ids written (SQLite's AUTOINCREMENT follows
    explicit ids by itself)."""
    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), [t.model for t in tables])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
