"""A practice with permission supplies licensed wording; kapcare checks it and then uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.licensed_text import load_into

CSSRS_TEXT = {f"q{n}": f"Question {n} as registered" for n in range(1, 7)} | {
    "q6_recent": "Was this within the past 3 months?"
}


def write(folder: Path, code: str, data: object) -> None:
    (folder / f"{code}.json").write_text(json.dumps(data), encoding="utf-8")


def test_supplied_wording_is_used_and_the_instrument_can_be_sent(tmp_path: Path) -> None:
    write(tmp_path, "cssrs_screener", {"permission": "Registered 2026-10-01", "items": CSSRS_TEXT})
    instruments = dict(INSTRUMENTS)
    assert load_into(instruments, str(tmp_path)) == ["cssrs_screener"]
    cssrs = instruments["cssrs_screener"]
    assert cssrs.text_allowed
    q1 = cssrs.item("q1")
    assert q1 is not None
    assert q1.text == "Question 1 as registered"
    assert "Registered 2026-10-01" in cssrs.licence
    assert not INSTRUMENTS["cssrs_screener"].text_allowed  # the shipped library is untouched


def test_no_directory_changes_nothing() -> None:
    instruments = dict(INSTRUMENTS)
    assert load_into(instruments, "") == []
    assert instruments == INSTRUMENTS


@pytest.mark.parametrize(
    ("code", "data", "message"),
    [
        ("cssrs_screener", {"items": CSSRS_TEXT}, "permission"),
        ("cssrs_screener", {"permission": "x", "items": {"q1": "only one"}}, "no text for item q2"),
        ("cssrs_screener", {"permission": "x", "items": CSSRS_TEXT | {"q9": "?"}}, "no item q9"),
        ("madrs", {"permission": "x", "items": {}}, "no questionnaire"),
        ("unknown", {"permission": "x", "items": {}}, "no questionnaire"),
        ("ace", ["not", "an", "object"], "expected"),
    ],
)
def test_bad_files_stop_start_up_naming_the_problem(
    tmp_path: Path, code: str, data: object, message: str
) -> None:
    write(tmp_path, code, data)
    with pytest.raises(ImproperlyConfigured, match=message):
        load_into(dict(INSTRUMENTS), str(tmp_path))


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="not a directory"):
        load_into(dict(INSTRUMENTS), str(tmp_path / "nowhere"))


def test_a_practice_with_permission_can_send_the_screener(
    practice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kapcare.measures import instruments as library
    from kapcare.measures.self_report import link_send, sendable_instruments

    write(tmp_path, "cssrs_screener", {"permission": "Registered", "items": CSSRS_TEXT})
    patched = dict(library.INSTRUMENTS)
    load_into(patched, str(tmp_path))
    monkeypatch.setattr(library, "INSTRUMENTS", patched)
    monkeypatch.setattr("kapcare.measures.self_report.INSTRUMENTS", patched)
    assert "cssrs_screener" in sendable_instruments()
    link = link_send(
        actor=practice.therapist,
        client=practice.client,
        instruments=["cssrs_screener"],
        channel="email",
    )
    assert link.instruments == ["cssrs_screener"]
