"""Fast bulk writes for `kapcare generate`: rows as plain tuples, ids chosen by the writer.

A synthetic network is millions of rows, more than Django's `bulk_create` of model instances
writes in reasonable time. Each table here is a `Table`: the generator adds rows as tuples in a
declared column order and gets each row's id back at once (ids are allocated from the table's
current maximum, so no round trip is needed to link a child row to its parent). `write` sends
finished rows (`Table.finish`): with binary COPY on PostgreSQL, with `executemany` on SQLite.
Values are converted the way Django's fields store them (UUIDs as 32 hex digits and datetimes
as naive UTC text on SQLite, JSON as text), so the ORM reads the rows back exactly as if it had
written them. On PostgreSQL rows can also be encoded for COPY away from the database
(`encoded`, in a worker process) and the bytes sent later (`write_encoded`).

Columns a table does not declare get the field's default (a fresh UUID for `public_id`). A model
that gains a column with no default makes `Table` refuse to start, rather than write bad rows.

Writing explicit ids assumes nobody else writes to these tables meanwhile (the generator fills
an empty practice); `reset_sequences` moves PostgreSQL's id sequences past the ids used.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max
from psycopg import postgres as psycopg_postgres
from psycopg._copy_base import format_row_binary  # the encoder psycopg's own COPY uses (C)
from psycopg.adapt import PyFormat, Transformer
from psycopg.postgres import adapters as psycopg_adapters
from psycopg.pq import Format

Converter = Callable[[Any], Any]

# Rows per executemany call (SQLite) and per COPY buffer check.
SQLITE_CHUNK = 5000


# The bits of a version-4 UUID (RFC 9562): version 4, variant 10; for a block of UUIDs at once.
_BLOCK = 1024
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)
_BLOCK_CLEAR = int.from_bytes(_UUID_CLEAR.to_bytes(16) * _BLOCK)
_BLOCK_SET = int.from_bytes(_UUID_SET.to_bytes(16) * _BLOCK)


class PublicIds:
    """Version-4 UUIDs drawn from a seeded generator, so that a seed gives the same public ids
    (a network generated twice from one seed is the same network). Each is the UUID's 16 bytes:
    what the database stores (`uuid.UUID(bytes=...)` for the usual form). They are drawn a
    block of 1,024 at a time (one call to the generator, one masking of the block)."""

    def __init__(self, seed: str) -> None:
        self._bits = random.Random(seed).getrandbits
        self._block = b""
        self._at = 0

    def next(self) -> bytes:
        at = self._at
        if at >= len(self._block):
            block = (self._bits(128 * _BLOCK) & _BLOCK_CLEAR) | _BLOCK_SET
            self._block = block.to_bytes(16 * _BLOCK)
            at = 0
        self._at = at + 16
        return self._block[at : at + 16]


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    """As Django stores an aware datetime in SQLite: naive UTC text."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.isoformat(" ")
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(" ")[:-6]  # without its "+00:00"


def _sqlite_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_decimal(value: decimal.Decimal | None) -> str | None:
    return None if value is None else str(value)


def _uuid_hex(value: uuid.UUID | bytes | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.hex()
    return value.hex


class JsonText:
    """A value already written as JSON (a JSON column's value is written as it is): lets the
    generator serialize a value shared by many rows once. `binary` is PostgreSQL's jsonb
    binary form (a version byte, then the text), made when first asked for."""

    __slots__ = ("_binary", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._binary: bytes | None = None

    @property
    def binary(self) -> bytes:
        if self._binary is None:
            self._binary = b"\x01" + self.text.encode()
        return self._binary

    def __getstate__(self) -> str:
        return self.text  # the binary form is made again where it is needed

    def __setstate__(self, text: str) -> None:
        self.text = text
        self._binary = None

    def __str__(self) -> str:
        return self.text


def dumps(value: Any) -> str:
    """Compact JSON (the database keeps its own form of it: jsonb, or SQLite's text)."""
    return json.dumps(value, separators=(",", ":"))


def json_text(value: Any) -> JsonText:
    return JsonText(dumps(value))


def _json(value: Any) -> str:
    # kapcare's JSON columns are not nullable, so None here is the JSON value null.
    return value.text if isinstance(value, JsonText) else dumps(value)


def _jsonb(value: Any) -> bytes:
    return value.binary if isinstance(value, JsonText) else b"\x01" + dumps(value).encode()


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
    """The type psycopg formats a column's values as. JSON and UUID values arrive already in the
    binary form the server reads (jsonb: a version byte and the text; uuid: its 16 bytes), so
    they are sent as they are ("bytea": a binary COPY field is just its bytes, read by the
    column's own type)."""
    if field.get_internal_type() in ("JSONField", "UUIDField"):
        return "bytea"
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
        # Public ids are made as bytes already (PublicIds).
        return _jsonb if kind == "JSONField" else None
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


# The base added to a row's id, and (position in the row, base) of its foreign keys to move.
Offsets = tuple[int, tuple[tuple[int, int], ...]]


class Table:
    """Rows of one model waiting to be written, with ids allocated as they are added."""

    def __init__(
        self, model: type[models.Model], columns: Sequence[str], *, start_id: int | None = None
    ) -> None:
        """`start_id`: the first id to give (None: one past the table's largest id now)."""
        self.model = model
        meta = model._meta
        by_column = {str(field.column): field for field in meta.concrete_fields}
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
            self.defaulted.append(str(field.column))
        self.columns: list[str] = [str(pk.column), *self.declared, *self.defaulted]
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
        if start_id is None:
            top = model._default_manager.aggregate(top=Max(pk.attname))["top"]
            start_id = (top or 0) + 1
        self.next_id = start_id
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

    def detach(self) -> list[tuple[Any, ...]]:
        """The rows added since the last call, handed over for writing; the table is emptied."""
        rows, self.rows = self.rows, []
        self.written += len(rows)
        return rows

    def finish(
        self,
        rows: list[tuple[Any, ...]],
        ids: PublicIds,
        offsets: Offsets | None = None,
    ) -> Sequence[Sequence[Any]]:
        """`rows` as the database driver takes them: with their defaulted columns and public
        ids, each value converted (JSON and UUIDs to the bytes PostgreSQL reads, times and
        numbers to SQLite's text) and, with `offsets`, moved to their final ids (rows made
        apart, with ids from 1). Done where the rows are made, so that writing them is only
        sending them."""
        tail = tuple(self.defaults)
        converters = self.converters
        public_id = ids.next if self.public_id else None
        base, keys = offsets if offsets is not None else (0, ())
        if not converters and not keys:
            if public_id is None:
                if base:
                    return [(row[0] + base, *row[1:], *tail) for row in rows]
                return [(*row, *tail) for row in rows] if tail else rows
            return [(row[0] + base, *row[1:], *tail, public_id()) for row in rows]
        finished: list[list[Any]] = []
        append = finished.append
        for row in rows:
            values = [*row, *tail]
            values[0] += base
            for index, key_base in keys:
                value = values[index]
                if value is not None:
                    values[index] = value + key_base
            if public_id is not None:
                values.append(public_id())
            for index, convert in converters:
                values[index] = convert(values[index])
            append(values)
        return finished


# Each table's finished rows (`Table.finish`), or those rows already encoded for PostgreSQL's
# COPY (`encoded`).
Batch = list[tuple[Table, Sequence[Sequence[Any]] | bytes]]


def _target(table: Table, db: BaseDatabaseWrapper) -> tuple[str, str]:
    """The table's quoted name and its quoted column list, as the writes name them."""
    quote = db.ops.quote_name
    return quote(str(table.model._meta.db_table)), ", ".join(quote(c) for c in table.columns)


def _copy_in(table: Table, db: BaseDatabaseWrapper) -> str:
    db_table, names = _target(table, db)
    return f"COPY {db_table} ({names}) FROM STDIN (FORMAT BINARY)"


def write(
    table: Table,
    rows: Sequence[Sequence[Any]],
    db: BaseDatabaseWrapper = connection,
) -> int:
    """Write finished rows (`Table.finish`) into `table`."""
    if not rows:
        return 0
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            # Bytes go out as they are (psycopg's own bytes dumper, not the DB-API one).
            raw.adapters.register_dumper(bytes, BYTES_DUMPER)
            with raw.copy(_copy_in(table, db)) as copy:
                copy.set_types(table.pg_types)
                for row in rows:
                    copy.write_row(row)
        else:
            db_table, names = _target(table, db)
            marks = ", ".join(["%s"] * len(table.columns))
            sql = f"INSERT INTO {db_table} ({names}) VALUES ({marks})"  # noqa: S608 - names are the model's own
            for start in range(0, len(rows), SQLITE_CHUNK):
                cursor.executemany(sql, rows[start : start + SQLITE_CHUNK])
    return len(rows)


BYTES_DUMPER = psycopg_adapters.get_dumper(bytes, PyFormat.BINARY)

# PostgreSQL's binary COPY stream: a signature, flags and header-extension length (both zero),
# then the rows, then a 16-bit -1 (the "COPY" page of PostgreSQL's manual, "Binary Format").
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
COPY_TRAILER = b"\xff\xff"


def encoded(table: Table, rows: Iterable[Sequence[Any]]) -> bytes:
    """Finished rows (`Table.finish`, with their final ids) as a whole binary COPY stream for
    `table`, made without a database connection: a worker process encodes its clinic's rows,
    and the writer only sends the bytes (`write_encoded`). The values are encoded as a COPY
    through a connection would encode them (psycopg's dumpers for the columns' types)."""
    transformer = Transformer()
    registry = psycopg_postgres.types
    transformer.set_dumper_types([registry.get_oid(name) for name in table.pg_types], Format.BINARY)
    stream = bytearray(COPY_SIGNATURE)
    for row in rows:
        format_row_binary(row, transformer, stream)
    stream += COPY_TRAILER
    return bytes(stream)


def write_encoded(table: Table, stream: bytes, db: BaseDatabaseWrapper = connection) -> None:
    """Send a binary COPY stream made by `encoded` into `table`."""
    with db.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(_copy_in(table, db)) as copy:
            copy.write(stream)


class Writer:
    """Writes the tables' rows on a second thread while the next ones are made: the database
    (and psycopg's sending) works while Python builds rows. It shares the caller's connection
    and transaction, so the caller must not use the database until `close`. At most one batch
    waits, so memory stays at about two batches."""

    def __init__(self, ids: PublicIds) -> None:
        self.ids = ids  # for the public ids of the rows handed over with `submit`
        self.seconds = 0.0
        self._queue: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._db: BaseDatabaseWrapper = connections[DEFAULT_DB_ALIAS]
        self._db.inc_thread_sharing()
        self._thread = threading.Thread(target=self._run, name="kapcare-generate-writer")
        self._thread.start()

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._error is not None:
                continue
            started = time.perf_counter()
            try:
                for table, rows in batch:
                    if isinstance(rows, bytes):
                        write_encoded(table, rows, self._db)
                    else:
                        write(table, rows, self._db)
            except BaseException as error:  # handed to the caller's thread
                self._error = error
            self.seconds += time.perf_counter() - started

    def submit(self, tables: Iterable[Table]) -> None:
        """Hand over every row added to `tables` since the last call."""
        self.submit_rows([(table, table.finish(table.detach(), self.ids)) for table in tables])

    def submit_rows(self, batch: Batch) -> None:
        """Hand over rows to write into their tables."""
        self._raise()
        self._queue.put(batch)

    def close(self) -> None:
        """Wait until everything handed over is written (raises what went wrong)."""
        self._queue.put(None)
        self._thread.join()
        self._db.dec_thread_sharing()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def reset_sequences(tables: Iterable[Table]) -> None:
    """Move PostgreSQL's id sequences past the ids written (SQLite's AUTOINCREMENT follows
    explicit ids by itself)."""
    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), [t.model for t in tables])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@contextmanager
def bulk_load(tables: Iterable[Table], *, indexes: bool = True) -> Iterator[None]:
    """On PostgreSQL, load without per-row foreign-key checks and index updates: the tables'
    foreign keys (and, with `indexes`, their secondary indexes and unique constraints) are
    dropped for the load and made again when it ends, each checked over the whole table at once,
    which is many times faster than row by row. Run inside the load's transaction: if the load
    fails, the transaction's rollback restores them. Elsewhere, nothing changes."""
    if connection.vendor != "postgresql":
        yield
        return
    names = [t.model._meta.db_table for t in tables]
    restore: list[str] = []
    drop: list[str] = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # The dosing sessions' JSON is most of the data; lz4 compresses it far faster than the
        # default pglz (where the server was built with it).
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
            " AND 'lz4' = ANY(enumvals)"
        )
        if cursor.fetchone():
            cursor.execute("SET LOCAL default_toast_compression = 'lz4'")
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype"
            " FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[])"
            " AND c.contype IN ('f', 'u') ORDER BY c.contype DESC, c.conname",
            [names],
        )
        constraints = cursor.fetchall()
        secondary: list[tuple[str, str]] = []
        if indexes:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                " ORDER BY 1",
                [names],
            )
            secondary = cursor.fetchall()
        # Foreign keys first (contype 'f' sorts before 'u' descending), then unique constraints.
        for table, name, definition, kind in constraints:
            if kind == "u" and not indexes:
                continue
            drop.append(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            restore.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for name, definition in secondary:
            drop.append(f"DROP INDEX {quote(name)}")
            restore.insert(0, definition)
        # Rows written earlier in the same transaction (the demo practice, before its partner
        # clinics) leave deferred foreign-key checks pending, and PostgreSQL alters no table
        # with pending checks: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in drop:
            cursor.execute(statement)
    yield
    # Indexes, then unique constraints, then the foreign keys that may rely on them.
    restore.sort(key=lambda s: (" FOREIGN KEY " in s, " UNIQUE " in s and "ALTER" in s))
    with connection.cursor() as cursor:
        for statement in restore:
            cursor.execute(statement)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # as Django declares them
