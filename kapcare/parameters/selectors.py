"""The values in force: the latest signed-off version of each parameter, else its default."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from kapcare.parameters import registry
from kapcare.parameters.models import ParameterVersion


@dataclass(frozen=True)
class Setting:
    parameter: registry.Parameter
    value: registry.Value
    version: int  # 0 = the shipped default, never signed off by this practice
    source: str
    signed_off_by: str = ""
    signed_off_at: dt.datetime | None = None

    @property
    def key(self) -> str:
        return self.parameter.key

    @property
    def is_default(self) -> bool:
        return self.version == 0

    @property
    def display(self) -> str:
        return self.parameter.display(self.value)


def _default(parameter: registry.Parameter) -> Setting:
    return Setting(parameter=parameter, value=parameter.default, version=0, source=parameter.source)


def settings_for(keys: Iterable[str]) -> dict[str, Setting]:
    """The settings in force for these keys, in one query."""
    wanted = list(keys)
    found: dict[str, Setting] = {key: _default(registry.get(key)) for key in wanted}
    rows = (
        ParameterVersion.objects.filter(key__in=wanted)
        .select_related("signed_off_by")
        .order_by("key", "version")
    )
    for row in rows:  # ascending, so the last row per key wins
        found[row.key] = Setting(
            parameter=registry.get(row.key),
            value=row.value,
            version=row.version,
            source=row.source,
            signed_off_by=str(row.signed_off_by),
            signed_off_at=row.signed_off_at,
        )
    return found


def values_for(keys: Iterable[str]) -> dict[str, registry.Value]:
    return {key: setting.value for key, setting in settings_for(keys).items()}


def history(key: str) -> list[ParameterVersion]:
    return list(
        ParameterVersion.objects.filter(key=key)
        .select_related("signed_off_by")
        .order_by("-version")
    )
