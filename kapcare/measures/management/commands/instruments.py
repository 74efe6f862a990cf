"""`kapcare instruments`: list the instrument library, or show one instrument's definition.

The definitions come from kapcare.measures.instruments; this command only formats them. Item
wording is printed (and put in the JSON) only for instruments whose licence allows it to be
shipped (`text_allowed`): for the others kapcare carries labels only, and that guarantee is kept
here explicitly rather than relying on their `text` fields being empty.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.measures.instruments import INSTRUMENTS, Instrument, Option
from kapcare.measures.serialize import definition, item_text, ships_text, stem_text

# Instruments without a numeric total range, and what the list shows instead.
NO_TOTAL_RANGE = {"cssrs_screener": "risk level", "cadss": "by version"}
WIDTH = 100


def unknown_instrument(code: str) -> CommandError:
    return CommandError(
        f"unknown instrument {code!r}; known: {', '.join(sorted(INSTRUMENTS))}", returncode=2
    )


def total_range_text(instrument: Instrument) -> str:
    if instrument.total_range is None:
        return NO_TOTAL_RANGE.get(instrument.code, "none")
    low, high = instrument.total_range
    return f"{low}–{high}"


def options_text(options: tuple[Option, ...]) -> str:
    """`0=Not at all, 1=Several days, ...`; a plain run of numbers (a score entry) as `0–60`."""
    values = [option.value for option in options]
    plain = all(option.label == str(option.value) for option in options)
    if plain and len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return ", ".join(f"{option.value}={option.label}" for option in options)


def _paragraph(label: str, text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=f"{indent}{label}",
        subsequent_indent=indent + "  ",
        break_on_hyphens=False,
    )


def describe(instrument: Instrument) -> list[str]:
    """A readable definition, one string per line."""
    lines = [f"{instrument.code}: {instrument.name}"]
    lines += _paragraph("Version: ", instrument.version)
    lines.append(f"Kind: {instrument.kind.value}")
    lines += _paragraph("Recall period: ", instrument.recall_period)
    stem = stem_text(instrument)
    if stem:
        lines += _paragraph("Stem: ", stem)
    lines.append(f"Total range: {total_range_text(instrument)}")
    lines.append(
        "Item text: shipped"
        if ships_text(instrument)
        else "Item text: not shipped (labels only; answers come from the practice's own forms)"
        if not instrument.text_allowed
        else "Item text: none (labels and options only)"
    )
    if instrument.loinc_panel or instrument.loinc_total:
        lines.append(
            f"LOINC: panel {instrument.loinc_panel or '-'}, total {instrument.loinc_total or '-'}"
        )
    lines.append("")
    lines.append(f"Items ({len(instrument.items)}):")
    for item in instrument.items:
        marks = [
            mark
            for mark, on in (("not scored", not item.scored), ("optional", not item.required))
            if on
        ]
        if item.loinc:
            marks.append(f"LOINC {item.loinc}")
        suffix = f"  [{', '.join(marks)}]" if marks else ""
        lines.append(f"  {item.id}: {item.label}{suffix}")
        text = item_text(instrument, item)
        if text:
            lines += _paragraph("", f"“{text}”", indent="      ")
        lines += _paragraph("options: ", options_text(item.options), indent="      ")
    lines.append("")
    if instrument.bands:
        lines.append("Bands:")
        lines += [f"  {band.low}–{band.high}: {band.label}" for band in instrument.bands]
    else:
        lines.append("Bands: none")
    lines += _paragraph("Scoring: ", instrument.scoring_rule)
    lines += _paragraph("Missing data: ", instrument.missing_rule)
    lines += _paragraph("Licence: ", instrument.licence)
    lines += _paragraph("Source: ", instrument.source)
    if instrument.notes:
        lines.append("Notes:")
        for note in instrument.notes:
            lines += _paragraph("- ", note, indent="  ")
    return lines


def summary_lines() -> list[str]:
    """One line per instrument: code, kind, item count, total range, text shipped, name."""
    rows = [("code", "kind", "items", "total", "text", "name")]
    rows += [
        (
            instrument.code,
            instrument.kind.value,
            str(len(instrument.items)),
            total_range_text(instrument),
            "yes" if ships_text(instrument) else "no",
            instrument.name,
        )
        for instrument in INSTRUMENTS.values()
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    return [
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[5]])
        for row in rows
    ]


class Command(BaseCommand):
    help = (
        "The instrument library. `kapcare instruments list`: one line per instrument (code, "
        "kind, number of items, total range, whether item wording is shipped, name). "
        "`kapcare instruments show CODE [--json]`: one instrument's definition. Item wording "
        "appears only where the instrument's licence allows kapcare to ship it."
    )
    # Reads code-defined data only: no database, and no need for a configured deployment.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{list,show}")
        actions.add_parser("list", help="list every instrument")
        show = actions.add_parser("show", help="show one instrument's definition")
        show.add_argument(
            "code", metavar="CODE", help=f"instrument code: {', '.join(sorted(INSTRUMENTS))}"
        )
        show.add_argument("--json", action="store_true", help="print the full definition as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for line in summary_lines():
                self.stdout.write(line.rstrip())
            return
        instrument = INSTRUMENTS.get(options["code"])
        if instrument is None:
            raise unknown_instrument(options["code"])
        if options["json"]:
            self.stdout.write(json.dumps(definition(instrument), indent=2, ensure_ascii=False))
        else:
            for line in describe(instrument):
                self.stdout.write(line)
