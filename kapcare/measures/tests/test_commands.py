"""`kapcare instruments` and `kapcare score`: thin commands over the instrument library and rules.

No test here asks for the database: pytest-django refuses database access without the `db`
fixture, so these also check that the commands never touch it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kapcare.measures.instruments import INSTRUMENTS, PHQ9
from kapcare.measures.management.commands.instruments import definition, describe

ROOT = Path(__file__).resolve().parents[3]
PHQ9_HEADER = "q1,q2,q3,q4,q5,q6,q7,q8,q9"


def squash(text: str) -> str:
    """Whitespace collapsed, so wrapped paragraphs compare with the definitions' strings."""
    return " ".join(text.split())


def instruments(*args: str) -> str:
    out = io.StringIO()
    call_command("instruments", *args, stdout=out)
    return out.getvalue()


class Run:
    def __init__(self, stdout: str, stderr: str, returncode: int, message: str = "") -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode
        self.message = message

    @property
    def rows(self) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self.stdout)))

    @property
    def header(self) -> list[str]:
        return next(csv.reader(io.StringIO(self.stdout)))


def score_csv(code: str, text: str, tmp_path: Path) -> Run:
    """`kapcare score CODE FILE` through call_command; a CommandError becomes its exit status."""
    path = tmp_path / "forms.csv"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("score", code, str(path), stdout=out, stderr=err)
    except CommandError as error:
        return Run(out.getvalue(), err.getvalue(), error.returncode, str(error))
    return Run(out.getvalue(), err.getvalue(), 0)


def run_manage(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real command line, for the real exit status."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kapcare.settings_test", "PYTHONUTF8": "1"}
    return subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


# --- kapcare instruments ------------------------------------------------------------------------


def test_list_shows_every_instrument() -> None:
    lines = instruments("list").splitlines()
    assert len(INSTRUMENTS) == 10
    assert [line.split()[0] for line in lines[1:]] == list(INSTRUMENTS)
    by_code = {line.split()[0]: line for line in lines[1:]}
    assert "risk level" in by_code["cssrs_screener"]
    assert "by version" in by_code["cadss"]
    assert "0–27" in by_code["phq9"]
    phq9 = by_code["phq9"].split()
    assert phq9[:5] == ["phq9", "questionnaire", "10", "0–27", "yes"]
    assert by_code["qids_sr16"].split()[:5] == ["qids_sr16", "questionnaire", "16", "0–27", "no"]
    assert PHQ9.name in by_code["phq9"]


def test_show_phq9_has_item_wording_and_licence() -> None:
    output = squash(instruments("show", "phq9"))
    assert "Thoughts that you would be better off dead" in output
    assert squash(PHQ9.licence) in output
    assert "0=Not at all" in output
    assert "20–27: Severe" in output
    assert "44249-1" in output  # LOINC panel
    assert "44260-8" in output  # LOINC of item 9
    assert squash(PHQ9.missing_rule) in output


def test_show_a_licensed_instrument_says_its_text_is_not_shipped() -> None:
    output = instruments("show", "qids_sr16")
    assert "not shipped" in output
    assert "“" not in output  # no quoted item wording


def test_show_json_of_a_licensed_instrument_has_no_item_text() -> None:
    data = json.loads(instruments("show", "qids_sr16", "--json"))
    assert data["text_allowed"] is False
    assert data["items"]
    assert all(item.get("text") is None for item in data["items"])
    assert "stem" not in data


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_show_json_round_trips(code: str) -> None:
    instrument = INSTRUMENTS[code]
    data = json.loads(instruments("show", code, "--json"))
    assert data["code"] == code
    assert tuple(item["id"] for item in data["items"]) == instrument.item_ids
    for entry, item in zip(data["items"], instrument.items, strict=True):
        assert [(o["value"], o["label"]) for o in entry["options"]] == [
            (o.value, o.label) for o in item.options
        ]
        if not instrument.text_allowed:
            assert "text" not in entry
    assert data["bands"] == [
        {"low": band.low, "high": band.high, "label": band.label} for band in instrument.bands
    ]
    assert data["licence"] == instrument.licence
    assert data["text_allowed"] is instrument.text_allowed


def test_show_json_of_phq9_includes_item_text() -> None:
    data = json.loads(instruments("show", "phq9", "--json"))
    assert data["items"][8]["text"].startswith("Thoughts that you would be better off dead")
    assert data["stem"] == PHQ9.stem
    assert data["total_range"] == [0, 27]


def test_text_is_withheld_whenever_text_is_not_allowed_even_if_present() -> None:
    """The guarantee is explicit in the command, not an accident of empty `text` fields."""
    withheld = replace(PHQ9, text_allowed=False)
    data = definition(withheld)
    assert all("text" not in item for item in data["items"])
    assert "stem" not in data
    readable = squash("\n".join(describe(withheld)))
    assert "better off dead" not in readable
    assert squash(PHQ9.stem or "") not in readable


def test_show_unknown_instrument_names_the_known_codes() -> None:
    with pytest.raises(CommandError) as raised:
        instruments("show", "phq10")
    assert "phq10" in str(raised.value)
    for code in INSTRUMENTS:
        assert code in str(raised.value)
    assert raised.value.returncode != 0


# --- kapcare score -------------------------------------------------------------------------------

PHQ9_FORMS = "\n".join(
    [
        PHQ9_HEADER,
        "1,2,3,0,1,2,3,0,0",  # complete: 12, Moderate
        "1,1,0,0,,1,1,0,0",  # q5 missing, 8 answered summing to 4: 4/8 * 9 = 4.5 -> 5, prorated
        ",,,1,1,1,1,1,0",  # 3 missing: no total
        "0,0,0,0,0,0,0,0,1",  # item 9 positive
        "7,0,0,0,0,0,0,0,0",  # q1 out of range
    ]
)


def test_score_phq9_rows(tmp_path: Path) -> None:
    run = score_csv("phq9", PHQ9_FORMS + "\n", tmp_path)
    assert run.header == [
        *PHQ9_HEADER.split(","),
        *("total", "band", "complete", "prorated", "missing", "flags", "error"),
    ]
    complete, prorated, three_missing, item9, bad = run.rows

    assert complete["total"] == "12"
    assert complete["band"] == "Moderate"
    assert complete["complete"] == "true"
    assert complete["prorated"] == "false"
    assert complete["missing"] == ""
    assert complete["flags"] == ""
    assert complete["error"] == ""

    assert prorated["total"] == "5"
    assert prorated["band"] == "Mild"
    assert prorated["prorated"] == "true"
    assert prorated["complete"] == "false"
    assert prorated["missing"] == "q5"

    assert three_missing["total"] == ""
    assert three_missing["band"] == ""
    assert three_missing["complete"] == "false"
    assert three_missing["missing"] == "q1 q2 q3"

    assert item9["total"] == "1"
    assert "suicide_item_positive" in item9["flags"].split()

    assert bad["q1"] == "7"
    assert all(bad[column] == "" for column in ("total", "band", "complete", "flags"))
    assert bad["error"] == "q1:out_of_range"

    assert run.returncode == 1
    assert "row 5: q1: " in run.stderr
    assert "(out_of_range)" in run.stderr
    assert "row 5" in run.stderr.splitlines()[0]
    assert "1 of 5" in run.message


def test_good_input_scores_without_error(tmp_path: Path) -> None:
    run = score_csv("phq9", f"{PHQ9_HEADER}\n3,3,3,3,3,3,3,3,0\n", tmp_path)
    assert run.returncode == 0
    assert run.stderr == ""
    (row,) = run.rows
    assert row["total"] == "24"
    assert row["band"] == "Severe"
    assert row["error"] == ""


def test_cells_must_be_whole_numbers(tmp_path: Path) -> None:
    run = score_csv("phq9", f"{PHQ9_HEADER}\n1.5,x,0,0,0,0,0,0,0\n", tmp_path)
    assert run.returncode == 1
    (row,) = run.rows
    assert row["error"] == "q1:not_integer q2:not_integer"
    assert "row 1: q1: q1 must be a whole number, not '1.5'. (not_integer)" in run.stderr
    assert "row 1: q2: " in run.stderr


def test_a_short_row_is_an_error_and_keeps_the_shape(tmp_path: Path) -> None:
    run = score_csv("phq9", f"{PHQ9_HEADER}\n1,1\n", tmp_path)
    assert run.returncode == 1
    (row,) = run.rows
    assert row["error"] == "cell_count"
    assert len(list(csv.reader(io.StringIO(run.stdout)))[1]) == len(run.header)
    assert "row 1: the row has 2 cells; the header has 9." in run.stderr


def test_output_keeps_original_columns_cells_and_order(tmp_path: Path) -> None:
    header = "q9,difficulty,q8,q7,q6,q5,q4,q3,q2,q1"
    run = score_csv("phq9", f"{header}\n1, 2,0,0,0,0,0,0,0,3\n", tmp_path)
    assert run.header[:10] == header.split(",")
    assert run.stdout.splitlines()[1].startswith("1, 2,0,0,0,0,0,0,0,3,")
    (row,) = run.rows
    assert row["total"] == "4"
    assert row["flags"] == "suicide_item_positive"


def test_a_subset_of_items_scores_as_missing(tmp_path: Path) -> None:
    run = score_csv("phq9", "q1,q2\n1,1\n", tmp_path)
    assert run.returncode == 0
    (row,) = run.rows
    assert row["total"] == ""
    assert row["missing"] == "q3 q4 q5 q6 q7 q8 q9"
    assert row["flags"] == "suicide_item_missing"


def test_unknown_column_is_a_usage_error(tmp_path: Path) -> None:
    run = score_csv("phq9", f"{PHQ9_HEADER},client\n0,0,0,0,0,0,0,0,0,A\n", tmp_path)
    assert run.returncode == 2
    assert "'client'" in run.message
    assert run.stdout == ""


def test_unknown_instrument_and_unreadable_file_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as raised:
        call_command("score", "phq10", str(tmp_path / "x.csv"), stdout=io.StringIO())
    assert raised.value.returncode == 2
    assert "phq9" in str(raised.value)
    with pytest.raises(CommandError) as raised:
        call_command("score", "phq9", str(tmp_path / "absent.csv"), stdout=io.StringIO())
    assert raised.value.returncode == 2
    assert "absent.csv" in str(raised.value)
    empty = score_csv("phq9", "", tmp_path)
    assert empty.returncode == 2


def test_header_only_writes_the_header(tmp_path: Path) -> None:
    run = score_csv("gad7", "q1,q2,q3,q4,q5,q6,q7\n", tmp_path)
    assert run.returncode == 0
    assert run.stdout == "q1,q2,q3,q4,q5,q6,q7,total,band,complete,prorated,missing,flags,error\n"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(f"{PHQ9_HEADER}\n0,0,0,0,0,0,0,0,0\n", encoding="utf-8-sig")
    out = io.StringIO()
    call_command("score", "phq9", str(path), stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith("q1,q2,")
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["total"] == "0"


def test_reads_standard_input_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"\ufeff{PHQ9_HEADER}\n1,1,1,1,1,1,1,1,1\n"))
    out = io.StringIO()
    call_command("score", "phq9", stdout=out, stderr=io.StringIO())
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["total"] == "9"
    assert row["band"] == "Mild"


def test_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    run = score_csv("phq9", f"{PHQ9_HEADER}\n\n0,0,0,0,0,0,0,0,0\n\n9,0,0,0,0,0,0,0,0\n", tmp_path)
    assert len(run.rows) == 2
    assert run.stderr.startswith("row 2: q1: ")


def test_cssrs_screener_appends_risk(tmp_path: Path) -> None:
    run = score_csv(
        "cssrs_screener",
        "\n".join(
            [
                "q1,q2,q3,q4,q5,q6,q6_recent",
                "1,1,1,0,0,0,",  # moderate
                "0,0,,,,1,1",  # recent behaviour: high
                "0,0,,,,0,",  # none
                "1,1,,,,0,",  # items 3-5 unanswered: undetermined
                "0,0,1,,,0,",  # q3 answered although q2 is no: skip logic
            ]
        )
        + "\n",
        tmp_path,
    )
    assert run.header[-2:] == ["risk", "error"]
    moderate, high, none, undetermined, skipped = run.rows
    assert (moderate["risk"], moderate["band"], moderate["flags"]) == (
        "moderate",
        "Moderate",
        "cssrs_risk_moderate",
    )
    assert moderate["total"] == ""
    assert (high["risk"], high["flags"]) == ("high", "cssrs_risk_high")
    assert none["risk"] == "none"
    assert undetermined["risk"] == "undetermined"
    assert undetermined["missing"] == "q3 q4 q5"
    assert skipped["risk"] == ""
    assert skipped["error"] == "q3:skip_logic"
    assert run.returncode == 1
    assert "row 5: q3: q3 is asked only when q2 is yes. (skip_logic)" in run.stderr


def test_pcl5_appends_provisional_ptsd(tmp_path: Path) -> None:
    header = ",".join(f"q{number}" for number in range(1, 21))
    run = score_csv("pcl5", f"{header}\n{','.join(['2'] * 20)}\n{','.join(['0'] * 20)}\n", tmp_path)
    assert run.header[-2:] == ["provisional_ptsd", "error"]
    endorsed, none = run.rows
    assert endorsed["total"] == "40"
    assert endorsed["provisional_ptsd"] == "true"
    assert endorsed["flags"] == "pcl5_provisional_ptsd pcl5_at_or_above_cutpoint"
    assert none["total"] == "0"
    assert none["provisional_ptsd"] == "false"
    partial = score_csv("pcl5", "q1,q2,q3,q4,q5\n2,2,2,2,2\n", tmp_path)
    assert partial.rows[0]["provisional_ptsd"] == "undetermined"


# --- the real command line: exit statuses --------------------------------------------------------


def test_exit_status_0_when_every_row_scores() -> None:
    result = run_manage("score", "phq9", stdin=f"{PHQ9_HEADER}\n1,2,3,0,1,2,3,0,0\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "1,2,3,0,1,2,3,0,0,12,Moderate,true,false,,,"


def test_exit_status_1_for_a_bad_row_with_complete_output(tmp_path: Path) -> None:
    path = tmp_path / "forms.csv"
    path.write_text(PHQ9_FORMS + "\n", encoding="utf-8")
    result = run_manage("score", "phq9", str(path))
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 6
    assert "row 5: q1: q1 must be one of 0–3, not 7. (out_of_range)" in result.stderr


def test_exit_status_2_for_an_unknown_column() -> None:
    result = run_manage("score", "phq9", "-", stdin="q1,q99\n0,0\n")
    assert result.returncode == 2
    assert "'q99'" in result.stderr
    assert result.stdout == ""


def test_exit_status_2_for_an_unknown_instrument() -> None:
    result = run_manage("instruments", "show", "phq10")
    assert result.returncode == 2
    assert "phq9" in result.stderr
