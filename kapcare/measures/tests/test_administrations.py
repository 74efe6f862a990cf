"""Recording administrations: scored by the rules, stored immutably, audited, corrected."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.core.exceptions import ValidationError

from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.measures.models import Administration, Source
from kapcare.measures.selectors import measure_history
from kapcare.measures.services import administration_record
from kapcare.testing.personas import Practice

PHQ9 = [f"q{n}" for n in range(1, 10)]


def phq9(total: int, item9: int = 0) -> dict[str, int]:
    answers = dict.fromkeys(PHQ9, 0)
    left = total - item9
    for item in PHQ9[:8]:
        answers[item] = min(3, left)
        left -= answers[item]
    answers["q9"] = item9
    return answers


def test_recording_scores_and_audits(practice: Practice) -> None:
    administration = administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=phq9(14, item9=1)
    )
    stored = Administration.objects.get(pk=administration.pk)
    assert (stored.total, stored.band, stored.complete) == (14, "Moderate", True)
    assert stored.flags == ["suicide_item_positive"]
    assert stored.source == Source.CLINIC
    assert stored.scoring_version == "2026.1"
    assert stored.answers["q9"] == 1
    assert stored.answers["difficulty"] is None
    event = AuditEvent.objects.get(action="measure.record")
    assert event.client_public_id == practice.client.public_id
    assert event.after is not None
    assert (event.after["total"], event.after["instrument"]) == (14, "phq9")


def test_score_entry_instruments_are_marked_as_such(practice: Practice) -> None:
    madrs = administration_record(
        actor=practice.prescriber,
        client=practice.client,
        instrument="madrs",
        answers={"total": 31},
    )
    assert (madrs.source, madrs.band) == (Source.SCORE_ENTRY, "Moderate")


@pytest.mark.parametrize(
    ("instrument", "answers", "field", "code"),
    [
        ("phq10", {}, "instrument", "unknown_instrument"),
        ("phq9", {"q1": 5}, "answers.q1", "out_of_range"),
        ("phq9", {"q11": 1}, "answers.q11", "unknown_item"),
        ("cssrs_screener", {"q1": 0, "q2": 0, "q4": 1, "q6": 0}, "answers.q4", "skip_logic"),
    ],
)
def test_bad_answers_name_the_item_and_save_nothing(
    practice: Practice, instrument: str, answers: dict[str, int], field: str, code: str
) -> None:
    before = (Administration.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as raised:
        administration_record(
            actor=practice.nurse, client=practice.client, instrument=instrument, answers=answers
        )
    assert raised.value.error_dict[field][0].code == code
    assert (Administration.objects.count(), AuditEvent.objects.count()) == before


def test_completion_time_cannot_be_in_the_future(practice: Practice) -> None:
    with pytest.raises(ValidationError) as raised:
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="gad7",
            answers=dict.fromkeys([f"q{n}" for n in range(1, 8)], 0),
            completed_at=now() + dt.timedelta(days=1),
        )
    assert "completed_at" in raised.value.error_dict
    assert not Administration.objects.exists()


def test_an_administration_is_immutable(practice: Practice) -> None:
    administration = administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=phq9(5)
    )
    administration.total = 3
    with pytest.raises(PermissionError):
        administration.save()
    with pytest.raises(PermissionError):
        administration.delete()
    assert Administration.objects.get(pk=administration.pk).total == 5


def test_a_correction_replaces_the_original_and_both_stay(practice: Practice) -> None:
    wrong = administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=phq9(20)
    )
    with pytest.raises(ValidationError) as raised:
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="phq9",
            answers=phq9(10),
            replaces=wrong,
        )
    assert "correction_reason" in raised.value.error_dict
    fixed = administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="phq9",
        answers=phq9(10),
        replaces=wrong,
        correction_reason="Item 3 was read from the wrong row",
    )
    assert list(Administration.objects.current()) == [fixed]
    assert Administration.objects.count() == 2
    event = AuditEvent.objects.get(action="measure.correct")
    assert event.detail == {
        "replaces": str(wrong.public_id),
        "reason": "Item 3 was read from the wrong row",
    }
    with pytest.raises(ValidationError) as again:
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="phq9",
            answers=phq9(9),
            replaces=wrong,
            correction_reason="twice",
        )
    assert again.value.error_dict["replaces"][0].code == "already_replaced"


def test_a_correction_must_match_client_and_instrument(practice: Practice) -> None:
    original = administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=phq9(8)
    )
    with pytest.raises(ValidationError) as raised:
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="gad7",
            answers=dict.fromkeys([f"q{n}" for n in range(1, 8)], 0),
            replaces=original,
            correction_reason="wrong form",
        )
    assert raised.value.error_dict["replaces"][0].code == "mismatch"


def test_history_change_response_and_remission(practice: Practice) -> None:
    start = now() - dt.timedelta(days=30)
    for days, total in [(0, 20), (10, 12), (20, 9), (29, 4)]:
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="phq9",
            answers=phq9(total),
            completed_at=start + dt.timedelta(days=days),
        )
    [history] = measure_history(practice.client)
    assert history.instrument.code == "phq9"
    assert history.baseline is not None
    assert history.baseline.total == 20
    newest, third, second, first = history.rows
    assert [row.administration.total for row in history.rows] == [4, 9, 12, 20]
    assert first.from_baseline is None
    assert first.response is None
    assert second.from_baseline is not None
    assert second.from_baseline.percent == decimal.Decimal("-40.0")
    assert second.response is False
    assert third.response is True  # 9 is a 55% reduction from 20
    assert third.remission is False
    assert newest.remission is True  # PHQ-9 below 5
    assert newest.from_previous is not None
    assert newest.from_previous.absolute == -5


def test_history_ignores_corrected_forms(practice: Practice) -> None:
    wrong = administration_record(
        actor=practice.nurse, client=practice.client, instrument="phq9", answers=phq9(27)
    )
    administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="phq9",
        answers=phq9(18),
        replaces=wrong,
        correction_reason="entered for the wrong client",
    )
    [history] = measure_history(practice.client)
    assert [row.administration.total for row in history.rows] == [18]


def test_chart_data_for_the_trajectory(practice: Practice) -> None:
    start = now() - dt.timedelta(days=28)
    for days, total in [(0, 20), (14, 11), (28, 4)]:
        administration_record(
            actor=practice.nurse,
            client=practice.client,
            instrument="phq9",
            answers=phq9(total),
            completed_at=start + dt.timedelta(days=days),
        )
    administration_record(
        actor=practice.nurse,
        client=practice.client,
        instrument="cssrs_screener",
        answers={"q1": 0, "q2": 0, "q6": 0},
    )
    histories = {h.instrument.code: h for h in measure_history(practice.client)}
    chart = histories["phq9"].chart
    assert chart is not None
    assert [(p["days"], p["total"]) for p in chart["points"]] == [(0, 20), (14, 11), (28, 4)]
    assert chart["range"] == [0, 27]
    assert chart["baseline"] == 20
    assert chart["remission_at"] == 4
    assert chart["bands"][0]["label"] == "None–minimal"
    assert histories["cssrs_screener"].chart is None  # a risk level has nothing to plot


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [
        ("cssrs_screener", {"q1": 1, "q2": 0, "q6": 0}),  # a risk level, never a total
        ("gad7", {"q1": 2}),  # incomplete: no total
        ("pcl5", {}),  # empty
    ],
)
def test_forms_without_a_total_are_recorded_too(
    practice: Practice, instrument: str, answers: dict[str, int]
) -> None:
    administration = administration_record(
        actor=practice.nurse, client=practice.client, instrument=instrument, answers=answers
    )
    assert Administration.objects.get(pk=administration.pk).total is None


def test_madrs_remission_follows_the_practice_setting(practice: Practice, settings) -> None:
    administration_record(
        actor=practice.prescriber, client=practice.client, instrument="madrs", answers={"total": 11}
    )
    [history] = measure_history(practice.client)
    assert history.rows[0].remission is True  # default: 12 or less
    settings.MADRS_REMISSION_AT = 10
    [history] = measure_history(practice.client)
    assert history.rows[0].remission is False
    chart = history.chart
    assert chart is not None
    assert chart["remission_at"] == 10
