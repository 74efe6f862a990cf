"""The chart's score table rows (built in Python for speed) show what the table always showed:
date linking to the form, total (* when prorated), band, change from baseline and from the
previous score, the response/remission badge and the flags."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils.timezone import localtime

from kapcare.core.time import now
from kapcare.measures.selectors import measure_history
from kapcare.measures.services import administration_record
from kapcare.measures.templatetags.score_rows import score_rows
from kapcare.testing.personas import Practice

pytestmark = pytest.mark.django_db


def phq9(practice: Practice, days_ago: int, items: list[int | None]) -> None:
    answers: dict[str, int | None] = {f"q{n}": v for n, v in enumerate(items, start=1)}
    answers["difficulty"] = None
    administration_record(
        actor=practice.therapist,
        client=practice.client,
        instrument="phq9",
        answers=answers,
        completed_at=now() - dt.timedelta(days=days_ago),
    )


def cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    return [re.findall(r"<td>(.*?)</td>", row) for row in rows]


def test_rows_newest_first_with_changes_badges_flags_and_links(practice: Practice) -> None:
    phq9(practice, 60, [3, 3, 3, 2, 2, 2, 3, 2, 0])  # 20: baseline
    phq9(practice, 30, [2, 2, 1, 1, 1, 1, 1, 1, 0])  # 10: response (-50%)
    phq9(practice, 10, [1, 1, None, 0, 0, 0, 0, 0, 1])  # prorated 3: remission, item 9 > 0
    phq9(practice, 5, [None, None, None, 1, 1, 1, 1, 1, 1])  # no total (3 missing)
    (history,) = measure_history(practice.client)
    html = str(score_rows(history, practice.client))
    rows = cells(html)
    assert len(rows) == 4
    forms = [row.administration for row in history.rows]
    for form, row in zip(forms, rows, strict=True):
        link = f"/clients/{practice.client.public_id}/measures/{form.public_id}/"
        assert row[0] == f'<a href="{link}">{localtime(form.completed_at):%Y-%m-%d}</a>'
    unscored, prorated, response, baseline = rows
    assert unscored[1:5] == ["—", "—", "—", "—"]
    assert prorated[1] == "3*"
    assert prorated[3] == "-17 (-85.0%)"
    assert prorated[4] == "-7"
    assert prorated[5].startswith('<span class="badge status-active">remission</span>')
    assert ' <span class="badge flag">Suicide item above 0</span>' in prorated[5]
    assert response[1:6] == [
        "10",
        forms[2].band,
        "-10 (-50.0%)",
        "-10",
        '<span class="badge status-maintenance">response</span>',
    ]
    assert baseline[1:6] == ["20", forms[3].band, "baseline", "—", ""]


def test_text_is_escaped(practice: Practice) -> None:
    phq9(practice, 3, [0, 0, 0, 0, 0, 0, 0, 0, 0])
    (history,) = measure_history(practice.client)
    row = history.rows[0]
    row.administration.band = "<b>none</b>"
    html = str(score_rows(history, practice.client))
    assert "&lt;b&gt;none&lt;/b&gt;" in html
    assert "<b>" not in html
