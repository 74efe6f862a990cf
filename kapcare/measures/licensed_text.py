"""Wording for licensed instruments, supplied by a practice that holds the permission.

kapcare ships no wording for QIDS-SR16, the C-SSRS screener or ACE. A practice that has
registered or obtained permission puts the wording in KAPCARE_INSTRUMENT_TEXT_DIR/<code>.json:

    {"permission": "Registered with the Columbia Lighthouse Project, 2026-10-01",
     "stem": "…", "items": {"q1": "…", "q2": "…"}}

Every required item needs its text. Once loaded, the instrument's wording is shown and it can be
sent to clients. Bad files stop start-up with a message naming the file and the item.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from kapcare.measures.instruments import Instrument, Kind


def with_licensed_text(instrument: Instrument, path: Path) -> Instrument:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"{path}: cannot be read as JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), dict):
        raise ImproperlyConfigured(f'{path}: expected {{"permission": …, "items": {{…}}}}')
    permission = str(data.get("permission", "")).strip()
    if not permission:
        raise ImproperlyConfigured(f"{path}: say what permission allows the wording (permission)")
    texts: dict[str, object] = data["items"]
    unknown = sorted(set(texts) - set(instrument.item_ids))
    if unknown:
        raise ImproperlyConfigured(f"{path}: {instrument.code} has no item {', '.join(unknown)}")
    missing = [item.id for item in instrument.items if item.required and not texts.get(item.id)]
    if missing:
        raise ImproperlyConfigured(f"{path}: no text for item {', '.join(missing)}")
    items = tuple(
        dataclasses.replace(item, text=str(texts[item.id]).strip()) if texts.get(item.id) else item
        for item in instrument.items
    )
    return dataclasses.replace(
        instrument,
        items=items,
        stem=str(data.get("stem") or "").strip() or None,
        text_allowed=True,
        licence=f"{instrument.licence} Wording used under the practice's permission: {permission}",
    )


def load_into(instruments: dict[str, Instrument], directory: str) -> list[str]:
    """Replace the definitions for which `directory` holds a file; returns the codes loaded."""
    if not directory:
        return []
    folder = Path(directory)
    if not folder.is_dir():
        raise ImproperlyConfigured(f"KAPCARE_INSTRUMENT_TEXT_DIR: {folder} is not a directory")
    loaded = []
    for path in sorted(folder.glob("*.json")):
        code = path.stem
        instrument = instruments.get(code)
        if instrument is None or instrument.kind != Kind.QUESTIONNAIRE:
            raise ImproperlyConfigured(f"{path}: no questionnaire has the code {code!r}")
        instruments[code] = with_licensed_text(instrument, path)
        loaded.append(code)
    return loaded
