"""The clinical rule parameters kapcare knows about, as data (habit: no clinical number in code).

Each domain defines its parameters at import (for example kapcare.screening.parameters) with a
default, the source the default comes from, and how sure that source is. A practice changes a
value by signing off a new version (kapcare.parameters.services.parameter_sign_off); the rules
always receive the values as arguments, never read them here.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["int", "decimal", "choice"]
Value = int | str


class Evidence:
    READ = "read in source"
    SECONDARY = "secondary source"
    UNVERIFIED = "not verified: confirm before relying on it"
    PRACTICE = "practice policy"


@dataclass(frozen=True)
class Parameter:
    key: str
    label: str
    group: str
    kind: Kind
    default: Value
    source: str
    evidence: str
    unit: str = ""
    # For numbers, the values a person may sign off (data-entry plausibility, not clinical advice).
    minimum: decimal.Decimal | int | None = None
    maximum: decimal.Decimal | int | None = None
    choices: tuple[tuple[str, str], ...] = ()
    help: str = ""
    alternatives: tuple[str, ...] = field(default_factory=tuple)

    def parse(self, raw: object) -> Value:
        """The value as stored, or ValueError with a message a person can act on."""
        if self.kind == "choice":
            allowed = [value for value, _ in self.choices]
            if raw not in allowed:
                raise ValueError(f"Choose one of: {', '.join(allowed)}.")
            return str(raw)
        try:
            number = decimal.Decimal(str(raw).strip())
        except (decimal.InvalidOperation, ValueError) as error:
            raise ValueError("Enter a number.") from error
        if not number.is_finite():
            raise ValueError("Enter a number.")
        if self.kind == "int" and number != number.to_integral_value():
            raise ValueError("Enter a whole number.")
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"Must be at least {self.minimum}{self._unit_suffix}.")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"Must be at most {self.maximum}{self._unit_suffix}.")
        return int(number) if self.kind == "int" else str(number.normalize())

    @property
    def _unit_suffix(self) -> str:
        return f" {self.unit}" if self.unit else ""

    def display(self, value: Value) -> str:
        if self.kind == "choice":
            return dict(self.choices).get(str(value), str(value))
        return f"{value}{self._unit_suffix}"


_REGISTRY: dict[str, Parameter] = {}


def define(*parameters: Parameter) -> None:
    for parameter in parameters:
        existing = _REGISTRY.get(parameter.key)
        if existing is not None and existing != parameter:
            raise ValueError(f"parameter {parameter.key} is defined twice, differently")
        _REGISTRY[parameter.key] = parameter


def get(key: str) -> Parameter:
    try:
        return _REGISTRY[key]
    except KeyError as missing:
        raise KeyError(f"unknown parameter {key}") from missing


def all_parameters() -> list[Parameter]:
    return list(_REGISTRY.values())


def keys_in(groups: Iterable[str]) -> list[str]:
    wanted = set(groups)
    return [parameter.key for parameter in _REGISTRY.values() if parameter.group in wanted]
