"""Reads whose SQL is compiled once per process: `prepared(build)`.

Django builds and compiles a queryset's SQL anew on every call. For the small indexed reads of
a page (a client's open flags, their questionnaires) that work costs one to two milliseconds of
Python each, several times what the database spends answering; a chart makes a dozen of them.
A prepared read builds its queryset once, with marker values for its arguments, keeps the
compiled SQL, and on each call runs that SQL with the real values through Django's own result
handling (the same model instances, values and converters as the plain queryset).

Only integer arguments (row ids) are allowed, and each must reach the SQL as a bound parameter,
never written into the SQL text: both are checked when the read is prepared, by compiling it
with two different sets of markers. A read whose shape depends on anything but its arguments
(the user's role, a time) is not a prepared read; such a caller keeps one prepared read per
shape. The compiled form is kept per database alias, vendor and time zone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

# Ids no row has: two sets, so that a marker that is not a bound parameter shows.
_MARKERS = (-7_300_000_000_000_001, -7_300_000_000_000_101)


class NotPreparable(Exception):
    """The queryset cannot be prepared: an argument does not reach the SQL as one parameter."""


@dataclass(frozen=True)
class _Compiled:
    alias: str
    queryset: QuerySet[Any]
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, argument index)


class PreparedRead[T]:
    """A read of fixed shape, called with its integer arguments; returns a list."""

    def __init__(self, build: Callable[..., QuerySet[Any]], arguments: int) -> None:
        self._build = build
        self._arguments = arguments
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}
        self._model: type[Model] | None = None

    def __call__(self, *values: int) -> list[T]:
        if len(values) != self._arguments:
            raise TypeError(f"expected {self._arguments} arguments, got {len(values)}")
        for value in values:
            if type(value) is not int:
                raise TypeError(f"prepared reads take integer ids, not {type(value).__name__}")
        compiled = self._get()
        params = list(compiled.params)
        for position, index in compiled.slots:
            params[position] = values[index]
        compiler = copy.copy(compiled.compiler)
        # The connection is per thread: the one this call runs on.
        compiler.connection = connections[compiled.alias]
        sql = compiled.sql
        compiler.as_sql = lambda *args, **kwargs: (sql, tuple(params))  # type: ignore[method-assign]
        queryset = compiled.queryset.all()  # a copy, with its own copy of the query
        # Only this copy's query hands out the compiler (assigning the queryset a new query
        # instead would also turn its rows into dicts).
        queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
        return list(queryset)

    def _get(self) -> _Compiled:
        if self._model is None:
            self._model = self._build(*self._markers(_MARKERS[0])).model
        alias = router.db_for_read(self._model)
        key = (alias, connections[alias].vendor, timezone.get_current_timezone_name())
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile()
        return found

    def _compile(self) -> _Compiled:
        first, second = (self._build(*self._markers(base)) for base in (_MARKERS[0], _MARKERS[1]))
        compiler = first.query.get_compiler(using=first.db)
        sql, params = compiler.as_sql()
        other_sql, other_params = second.query.get_compiler(using=second.db).as_sql()
        if sql != other_sql or len(params) != len(other_params):
            raise NotPreparable("an argument changes the SQL's text, not only its parameters")
        markers = self._markers(_MARKERS[0])
        slots = []
        for position, (one, two) in enumerate(zip(params, other_params, strict=True)):
            if one == two:
                continue
            if one not in markers:
                raise NotPreparable(f"parameter {position} differs but is no argument: {one!r}")
            slots.append((position, markers.index(one)))
        if sorted({index for _, index in slots}) != list(range(self._arguments)):
            raise NotPreparable("an argument does not reach the SQL as a parameter")
        return _Compiled(first.db, first, compiler, sql, tuple(params), tuple(slots))

    def _markers(self, base: int) -> Sequence[int]:
        return [base - 1000 * index for index in range(self._arguments)]


def prepared[T](
    arguments: int = 1,
) -> Callable[[Callable[..., QuerySet[Any, T]]], PreparedRead[T]]:
    """Decorate a function that builds a queryset from integer ids: calling it runs the read
    compiled once (see the module's docstring)."""

    def wrap(build: Callable[..., QuerySet[Any, T]]) -> PreparedRead[T]:
        return PreparedRead[T](build, arguments)

    return wrap
