"""Each protocol setting as a versioned rule parameter (kapcare.parameters): the shipped default
with its source, changed by the medical director signing off a new version with a reason. A
course pins the versions in force when it starts (Course.protocol_settings), so a change applies
to courses started after it and a running course keeps the plan it was started on."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kapcare.courses.protocols import BY_CODE, PRACTICE, PROTOCOLS, SETTINGS, Protocol, Sourced
from kapcare.parameters.registry import Evidence, Parameter, define


def key(protocol_code: str, setting: str) -> str:
    return f"protocol.{protocol_code}.{setting}"


def _evidence(source: str) -> str:
    if PRACTICE in source:
        return Evidence.PRACTICE
    if "not verified" in source:
        return Evidence.UNVERIFIED
    return Evidence.SECONDARY


def _parameters() -> list[Parameter]:
    found = []
    for protocol in PROTOCOLS:
        for name, label, unit, low, high in SETTINGS:
            shipped: Sourced = getattr(protocol, name)
            found.append(
                Parameter(
                    key=key(protocol.code, name),
                    label=label,
                    group=f"Protocol: {protocol.name}",
                    kind="int",
                    default=shipped.value,
                    unit=unit,
                    minimum=low,
                    maximum=high,
                    source=shipped.source,
                    evidence=_evidence(shipped.source),
                )
            )
    return found


PARAMETERS = _parameters()
define(*PARAMETERS)
ALL_KEYS = tuple(parameter.key for parameter in PARAMETERS)


def keys_for(protocol_code: str) -> list[str]:
    return [key(protocol_code, name) for name, *_ in SETTINGS]


def snapshot(protocol_code: str) -> dict[str, dict[str, Any]]:
    """The protocol's settings in force now, as a course stores them at its start."""
    from kapcare.parameters.selectors import settings_for

    current = settings_for(keys_for(protocol_code))
    return {
        name: {
            "value": current[key(protocol_code, name)].value,
            "version": current[key(protocol_code, name)].version,
            "source": current[key(protocol_code, name)].source,
        }
        for name, *_ in SETTINGS
    }


def pinned(protocol_code: str, settings: dict[str, dict[str, Any]]) -> Protocol:
    """The protocol with a course's pinned settings; a setting the course did not pin (a course
    from before the setting existed) keeps the shipped default."""
    protocol = BY_CODE[protocol_code]
    changes: dict[str, Any] = {
        name: Sourced(int(item["value"]), str(item["source"]), int(item.get("version", 0)))
        for name, item in settings.items()
        if name in {n for n, *_ in SETTINGS}
    }
    return replace(protocol, **changes)
