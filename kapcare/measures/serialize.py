"""Instrument definitions as JSON-ready data, for the API and `kapcare instruments show --json`.

Item wording (and the stem) appear only for instruments whose licence allows kapcare to ship
them (`text_allowed`): the guarantee is kept here, not left to the definitions' empty fields.
"""

from __future__ import annotations

from typing import Any

from kapcare.measures.instruments import Instrument, Item


def item_text(instrument: Instrument, item: Item) -> str | None:
    """The item's wording, or None where the licence does not allow kapcare to ship it."""
    if not instrument.text_allowed:
        return None
    return item.text


def stem_text(instrument: Instrument) -> str | None:
    """The instructions above the items: wording too, so under the same licence guarantee."""
    if not instrument.text_allowed:
        return None
    return instrument.stem


def ships_text(instrument: Instrument) -> bool:
    return any(item_text(instrument, item) for item in instrument.items)


def definition(instrument: Instrument) -> dict[str, Any]:
    """The full definition as JSON-ready data. Items keep their order; an item has a "text" key
    only when the instrument's text is allowed to be shipped and the item has wording."""
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        entry: dict[str, Any] = {
            "id": item.id,
            "label": item.label,
            "scored": item.scored,
            "required": item.required,
            "loinc": item.loinc,
            "options": [{"value": option.value, "label": option.label} for option in item.options],
        }
        text = item_text(instrument, item)
        if text is not None:
            entry["text"] = text
        items.append(entry)
    data: dict[str, Any] = {
        "code": instrument.code,
        "name": instrument.name,
        "version": instrument.version,
        "kind": instrument.kind.value,
        "recall_period": instrument.recall_period,
        "text_allowed": instrument.text_allowed,
    }
    stem = stem_text(instrument)
    if stem is not None:
        data["stem"] = stem
    data |= {
        "items": items,
        "total_range": list(instrument.total_range) if instrument.total_range else None,
        "bands": [
            {"low": band.low, "high": band.high, "label": band.label} for band in instrument.bands
        ],
        "scoring_rule": instrument.scoring_rule,
        "missing_rule": instrument.missing_rule,
        "licence": instrument.licence,
        "source": instrument.source,
        "loinc_panel": instrument.loinc_panel,
        "loinc_total": instrument.loinc_total,
        "notes": list(instrument.notes),
    }
    return data
