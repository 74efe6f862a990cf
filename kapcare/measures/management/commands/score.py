"""`kapcare score CODE [FILE|-]`: score a CSV of forms with kapcare.measures.rules.

The command reads and writes CSV; every number comes from `rules.score`, the same function the
web pages and the API call. Nothing touches the database.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.rules import Problem, Score, ScoringError, score

SCORE_COLUMNS = ("total", "band", "complete", "prorated", "missing", "flags")
ERROR_COLUMN = "error"
WHOLE_NUMBER = re.compile(r"-?[0-9]+")
UNDETERMINED = "undetermined"


def _yes_no_unknown(value: object) -> str:
    if value is None:
        return UNDETERMINED
    return "true" if value else "false"


def _risk(result: Score) -> str:
    return str(result.details.get("risk") or UNDETERMINED)


def _provisional_ptsd(result: Score) -> str:
    return _yes_no_unknown(result.details.get("provisional_ptsd"))


# Columns appended for particular instruments, each computed from the Score.
EXTRA_COLUMNS: dict[str, tuple[tuple[str, Callable[[Score], str]], ...]] = {
    "cssrs_screener": (("risk", _risk),),
    "pcl5": (("provisional_ptsd", _provisional_ptsd),),
}


class UsageError(Exception):
    """The whole file cannot be scored (exit status 2)."""


def output_columns(code: str) -> list[str]:
    """The columns appended after the input's own, in order."""
    extra = [name for name, _ in EXTRA_COLUMNS.get(code, ())]
    return [*SCORE_COLUMNS, *extra, ERROR_COLUMN]


def check_header(instrument: Instrument, header: Sequence[str]) -> list[str]:
    """The item id of each column; UsageError naming every unknown, unnamed or repeated one."""
    known = set(instrument.item_ids)
    columns = [cell.strip() for cell in header]
    problems = []
    unnamed = [str(number) for number, name in enumerate(columns, start=1) if not name]
    if unnamed:
        problems.append(f"column(s) {', '.join(unnamed)} have no name")
    unknown = [name for name in columns if name and name not in known]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(name) for name in unknown)}")
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        problems.append(f"repeated column(s) {', '.join(repr(name) for name in repeated)}")
    if problems:
        raise UsageError(
            f"{'; '.join(problems)}. The header must name {instrument.code} item ids: "
            f"{' '.join(instrument.item_ids)}"
        )
    return columns


def parse_cells(
    columns: Sequence[str], cells: Sequence[str]
) -> tuple[dict[str, int | None], list[Problem]]:
    """Answers from one row's cells: empty is unanswered, anything else must be a whole number."""
    answers: dict[str, int | None] = {}
    problems: list[Problem] = []
    if len(cells) != len(columns):
        problems.append(
            Problem(
                None,
                "cell_count",
                f"the row has {len(cells)} cells; the header has {len(columns)}.",
            )
        )
    for item_id, raw in zip(columns, cells, strict=False):
        cell = raw.strip()
        if not cell:
            answers[item_id] = None
        elif WHOLE_NUMBER.fullmatch(cell):
            answers[item_id] = int(cell)
        else:
            problems.append(
                Problem(item_id, "not_integer", f"{item_id} must be a whole number, not {cell!r}.")
            )
    return answers, problems


def score_row(
    instrument: Instrument, columns: Sequence[str], cells: Sequence[str]
) -> tuple[list[str], list[Problem]]:
    """The appended cells for one row (see `output_columns`) and its problems, if any."""
    answers, problems = parse_cells(columns, cells)
    result = None
    try:
        result = score(instrument.code, answers)
    except ScoringError as error:
        problems += error.problems
    if problems or result is None:
        order = {item_id: index for index, item_id in enumerate(instrument.item_ids)}
        problems.sort(key=lambda problem: order.get(problem.item or "", -1))
        rules = " ".join(f"{p.item}:{p.rule}" if p.item else p.rule for p in problems)
        return ["" for _ in output_columns(instrument.code)[:-1]] + [rules], problems
    values = [
        "" if result.total is None else str(result.total),
        result.band or "",
        "true" if result.complete else "false",
        "true" if result.prorated else "false",
        " ".join(result.missing),
        " ".join(result.flags),
    ]
    values += [column(result) for _, column in EXTRA_COLUMNS.get(instrument.code, ())]
    return [*values, ""], []


def problem_line(row_number: int, problem: Problem) -> str:
    """One stderr line, e.g. `row 3: q1: q1 must be one of 0–3, not 7. (out_of_range)`."""
    where = f"{problem.item}: " if problem.item else ""
    return f"row {row_number}: {where}{problem.message} ({problem.rule})"


def read_rows(text: str) -> list[list[str]]:
    """Every non-blank CSV record (blank lines are skipped and not counted)."""
    try:
        return [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as error:
        raise UsageError(f"not valid CSV: {error}") from None


def read_input(path: str) -> str:
    if path == "-":
        try:
            text = sys.stdin.read()
        except UnicodeDecodeError:
            raise UsageError("standard input is not UTF-8 text") from None
        return text.removeprefix("\ufeff")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None


class Command(BaseCommand):
    help = (
        "Score a CSV of forms for one instrument and write it back with scores appended. "
        "The header names the instrument's item ids (any subset, any order; "
        "`kapcare instruments show CODE` lists them); each row is one form; an empty cell is an "
        "unanswered item; answers are whole numbers. Output: every input row and column, in the "
        "input's order, then total, band, complete, prorated, missing, flags (+ risk for "
        "cssrs_screener, + provisional_ptsd for pcl5) and error, which is empty when the row "
        "scored. A row that cannot be scored is reported on stderr as "
        "'row N: item: message (rule)', where N counts data rows from 1 (the header and blank "
        "lines are not counted), and is written with empty score columns and its item:rule "
        "problems in the error column. Exit status: 0 every row scored, 1 some row not scored, "
        "2 usage error (unknown instrument or column, unreadable file)."
    )
    # Pure scoring: no database, and no need for a configured deployment.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "code", metavar="CODE", help=f"instrument code: {', '.join(sorted(INSTRUMENTS))}"
        )
        parser.add_argument(
            "file",
            metavar="FILE",
            nargs="?",
            default="-",
            help="CSV file (UTF-8, a byte-order mark is accepted); - or omitted: standard input",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["code"]
        instrument = INSTRUMENTS.get(code)
        if instrument is None:
            raise CommandError(
                f"unknown instrument {code!r}; known: {', '.join(sorted(INSTRUMENTS))}",
                returncode=2,
            )
        try:
            rows = read_rows(read_input(options["file"]))
            if not rows:
                raise UsageError("the input is empty: the first line must be a header of item ids")
            header, *data = rows
            columns = check_header(instrument, header)
        except UsageError as error:
            raise CommandError(str(error), returncode=2) from None

        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow([*header, *output_columns(code)])
        failed = 0
        for number, cells in enumerate(data, start=1):
            appended, problems = score_row(instrument, columns, cells)
            if problems:
                failed += 1
                for problem in problems:
                    self.stderr.write(problem_line(number, problem))
            original = [*cells[: len(header)], *([""] * (len(header) - len(cells)))]
            writer.writerow([*original, *appended])
        if failed:
            raise CommandError(
                f"{failed} of {len(data)} row(s) not scored; see the error column", returncode=1
            )
