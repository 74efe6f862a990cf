"""Progress on hand-built trajectories (responders, relapses, durability, missing data, remission
and response boundaries, daylight-saving changes), the Wilson interval against published values
and an independent computation, and the small report statistics."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import random
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.measures.rules import REMISSION_DEFAULTS, practice_remission_rules
from kapcare.outcomes import rules
from kapcare.outcomes.rules import (
    SIX_MONTHS_DAYS,
    THREE_MONTHS_DAYS,
    Durability,
    Progress,
    ProgressSettings,
    Score,
    integration_adherence,
    median,
    progress,
    rate_per_100,
    wilson_interval,
)

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
START = dt.date(2026, 1, 5)


def day(n: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """09:00 Los Angeles time on calendar day `n` after START."""
    date = START + dt.timedelta(days=n)
    return dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=LA)


def trajectory(*points: tuple[int, int]) -> list[Score]:
    """(day, total) pairs."""
    return [Score(day(n), total) for n, total in points]


def run(
    scores: list[Score],
    *,
    instrument: str = "phq9",
    now: dt.datetime | None = None,
    baseline: Score | None = None,
    settings: ProgressSettings = rules.DEFAULT_SETTINGS,
    zone: dt.tzinfo = LA,
) -> Progress:
    if now is None:
        now = max((item.at for item in scores), default=day(0)) + dt.timedelta(hours=1)
    return progress(scores, baseline, instrument=instrument, now=now, zone=zone, settings=settings)


def kept(result: Progress, days: int) -> bool | None:
    entry = result.durability_through(days)
    assert entry is not None
    return entry.kept


# ---------------------------------------------------------------------------------------------
# Settings


class TestSettings:
    def test_defaults_come_from_measures_rules(self) -> None:
        settings = ProgressSettings()
        assert settings.response_percent == 50
        assert settings.reduction == decimal.Decimal("0.5")
        assert settings.remission == REMISSION_DEFAULTS
        assert settings.remission["phq9"].at_most == 4
        assert settings.remission["qids_sr16"].at_most == 5
        assert settings.remission["madrs"].at_most == 12
        assert settings.relapse_confirming_scores == 1
        assert settings.durability_days == (91, 182)
        assert (THREE_MONTHS_DAYS, SIX_MONTHS_DAYS) == (91, 182)

    def test_the_default_remission_map_is_a_copy(self) -> None:
        assert ProgressSettings().remission is not REMISSION_DEFAULTS

    def test_response_percent_accepts_an_int(self) -> None:
        assert ProgressSettings(response_percent=60).reduction == decimal.Decimal("0.6")

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"response_percent": 0}, "response_percent"),
            ({"response_percent": 101}, "response_percent"),
            ({"relapse_confirming_scores": 0}, "relapse_confirming_scores"),
            ({"durability_days": ()}, "durability_days"),
            ({"durability_days": (91, 0)}, "durability_days"),
        ],
    )
    def test_bad_settings_are_refused(self, kwargs: dict[str, object], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            ProgressSettings(**kwargs)  # type: ignore[arg-type]


class TestScore:
    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            Score(dt.datetime(2026, 1, 5, 9), 10)  # noqa: DTZ001 (the point)

    @pytest.mark.parametrize("total", [-1, True, 2.5])
    def test_total_must_be_a_whole_number_of_zero_or_more(self, total: object) -> None:
        with pytest.raises(ValueError, match="whole number"):
            Score(day(0), total)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Hand-built trajectories (PHQ-9 unless said: remission ≤4)


class TestTrajectories:
    def test_responder(self) -> None:
        result = run(trajectory((0, 20), (14, 14), (28, 9)))
        assert result.baseline == Score(day(0), 20)
        assert result.latest == Score(day(28), 9)
        assert result.change is not None
        assert result.change.absolute == -11
        assert result.change.percent == decimal.Decimal("-55.0")
        assert result.response is True
        assert result.first_response == Score(day(28), 9)
        assert result.days_to_first_response == 28
        assert result.remission is False
        assert result.remission_at_most == 4
        assert result.first_remission is None
        assert "remission threshold" in result.reasons["first_remission"]
        assert all(entry.kept is None for entry in result.durability)
        assert result.relapse is None
        assert result.reasons["relapse"] == "No remission to lose yet."

    def test_non_responder(self) -> None:
        result = run(trajectory((0, 20), (14, 18), (28, 12)))
        assert result.change is not None
        assert result.change.percent == decimal.Decimal("-40.0")
        assert result.response is False
        assert result.first_response is None
        assert result.days_to_first_response is None
        assert result.reasons["first_response"] == "No score has met response yet."
        assert result.remission is False

    def test_early_responder_then_relapse(self) -> None:
        result = run(trajectory((0, 20), (7, 8), (21, 3), (60, 12)))
        assert result.days_to_first_response == 7
        assert result.first_remission == Score(day(21), 3)
        assert result.days_to_first_remission == 21
        assert result.relapse == Score(day(60), 12)
        assert result.days_to_relapse == 39
        assert result.response is False  # 40% below baseline now
        assert result.remission is False
        assert kept(result, 91) is False
        assert kept(result, 182) is False
        entry = result.durability_through(91)
        assert entry is not None
        assert entry.relapsed_within is True
        assert entry.reason == "Relapse on day 39 after remission."

    def test_remission_kept_six_months(self) -> None:
        result = run(
            trajectory((0, 20), (30, 4), (90, 3), (150, 2), (30 + 182, 4)),
            now=day(220),
        )
        assert result.days_to_first_remission == 30
        assert result.relapse is None
        assert result.reasons["relapse"] == "Remission not lost since the first remission."
        assert kept(result, 91) is True
        assert kept(result, 182) is True
        assert [entry.relapsed_within for entry in result.durability] == [False, False]

    def test_remission_lost_at_four_months(self) -> None:
        result = run(trajectory((0, 20), (30, 4), (60, 3), (120, 4), (150, 9)))
        assert result.relapse == Score(day(150), 9)
        assert result.days_to_relapse == 120
        assert kept(result, 91) is True  # the relapse itself is dated day 120, past day 91
        assert kept(result, 182) is False
        three, six = result.durability
        assert (three.relapsed_within, six.relapsed_within) == (False, True)

    def test_too_little_follow_up_yet(self) -> None:
        result = run(trajectory((0, 20), (30, 4), (60, 3)), now=day(80))
        assert result.remission is True
        assert [entry.kept for entry in result.durability] == [None, None]
        assert [entry.relapsed_within for entry in result.durability] == [None, None]
        three = result.durability_through(91)
        assert three is not None
        assert three.reason == "Only 50 days since remission; 91 needed."

    def test_lost_to_follow_up_is_unknown_not_kept(self) -> None:
        # Long enough since remission, but no score reaches 91 days after it.
        result = run(trajectory((0, 20), (30, 4), (60, 3)), now=day(400))
        assert [entry.kept for entry in result.durability] == [None, None]
        three = result.durability_through(91)
        assert three is not None
        assert three.reason == "No score 91 or more days after remission (the last is on day 30)."

    def test_kept_three_months_but_six_not_yet_known(self) -> None:
        result = run(trajectory((0, 20), (30, 4), (130, 3)), now=day(140))
        assert kept(result, 91) is True
        assert kept(result, 182) is None

    def test_baseline_zero(self) -> None:
        result = run(trajectory((0, 0), (14, 3), (28, 0)))
        assert result.change is not None
        assert result.change.absolute == 0
        assert result.change.percent is None
        assert "percent change from 0 is undefined" in result.reasons["percent_change"]
        assert result.response is None
        assert "baseline is 0" in result.reasons["response"]
        assert result.first_response is None
        assert "baseline is 0" in result.reasons["first_response"]
        # Remission is still a plain reading of the latest score.
        assert result.remission is True
        assert result.days_to_first_remission == 0
        assert "The baseline is already at or below the remission threshold." in result.notes

    def test_single_score(self) -> None:
        result = run(trajectory((0, 15)))
        assert result.baseline == result.latest == Score(day(0), 15)
        assert result.change is None
        assert result.response is None
        assert result.reasons["response"].startswith("Only the baseline")
        assert result.remission is False
        assert result.first_response is None

    def test_no_scores(self) -> None:
        result = run([], now=day(10))
        assert result.scores == ()
        assert result.baseline is result.latest is None
        assert result.change is result.response is result.remission is None
        assert result.first_response is result.first_remission is result.relapse is None
        assert result.remission_at_most == 4
        for name in ("baseline", "latest", "change", "response", "remission", "relapse"):
            assert result.reasons[name] == "No scores."
        assert result.durability == (
            Durability(91, None, "No scores."),
            Durability(182, None, "No scores."),
        )

    def test_only_scores_after_now_is_no_scores(self) -> None:
        result = run(trajectory((5, 20)), now=day(0))
        assert result.baseline is None
        assert result.notes == ("1 score dated after now left out.",)

    def test_a_past_now_gives_progress_as_it_stood(self) -> None:
        scores = trajectory((0, 20), (14, 9), (28, 3))
        then = run(scores, now=day(20))
        assert then.latest == Score(day(14), 9)
        assert then.remission is False
        assert then.notes == ("1 score dated after now left out.",)

    def test_instrument_without_a_remission_definition(self) -> None:
        result = run(trajectory((0, 15), (28, 3)), instrument="gad7")
        assert result.response is True
        assert result.remission is None
        assert result.remission_at_most is None
        assert result.reasons["remission"] == "No remission definition for gad7."
        assert all(entry.kept is None for entry in result.durability)

    def test_responder_who_then_loses_response_keeps_first_response(self) -> None:
        result = run(trajectory((0, 20), (14, 10), (28, 15)))
        assert result.response is False
        assert result.days_to_first_response == 14


class TestRemissionBoundaries:
    @pytest.mark.parametrize(("latest", "remitted"), [(4, True), (5, False)])
    def test_phq9_below_5(self, latest: int, remitted: bool) -> None:
        result = run(trajectory((0, 20), (28, latest)))
        assert result.remission is remitted
        assert (result.first_remission is not None) is remitted

    @pytest.mark.parametrize(("latest", "remitted"), [(5, True), (6, False)])
    def test_qids_at_most_5(self, latest: int, remitted: bool) -> None:
        result = run(trajectory((0, 16), (28, latest)), instrument="qids_sr16")
        assert result.remission is remitted
        assert result.remission_at_most == 5

    @pytest.mark.parametrize(("madrs_at_most", "remitted"), [(12, True), (10, False)])
    def test_madrs_default_and_practice_threshold(self, madrs_at_most: int, remitted: bool) -> None:
        settings = ProgressSettings(remission=practice_remission_rules(madrs_at_most))
        result = run(trajectory((0, 30), (28, 11)), instrument="madrs", settings=settings)
        assert result.remission is remitted
        assert result.remission_at_most == madrs_at_most

    def test_relapse_is_the_first_score_above_the_threshold(self) -> None:
        # PHQ-9 4 keeps remission, 5 loses it.
        kept_it = run(trajectory((0, 20), (30, 3), (60, 4)))
        assert kept_it.relapse is None
        lost_it = run(trajectory((0, 20), (30, 3), (60, 5)))
        assert lost_it.relapse == Score(day(60), 5)


class TestResponseBoundary:
    def test_exactly_50_percent_counts(self) -> None:
        result = run(trajectory((0, 20), (28, 10)))
        assert result.change is not None
        assert result.change.percent == decimal.Decimal("-50.0")
        assert result.response is True

    def test_49_9_percent_does_not(self) -> None:
        result = run(trajectory((0, 1000), (28, 501)))
        assert result.change is not None
        assert result.change.percent == decimal.Decimal("-49.9")
        assert result.response is False

    def test_judged_on_exact_totals_not_the_rounded_percent(self) -> None:
        # 999 of 1999 is 49.97%: shown as -50.0%, still not a response.
        result = run(trajectory((0, 1999), (28, 1000)))
        assert result.change is not None
        assert result.change.percent == decimal.Decimal("-50.0")
        assert result.response is False

    @pytest.mark.parametrize(("latest", "responded"), [(15, False), (14, True)])
    def test_odd_baselines(self, latest: int, responded: bool) -> None:
        # MADRS 29: 14.5 is half; 15 is a 48.3% drop, 14 a 51.7% drop.
        result = run(trajectory((0, 29), (28, latest)), instrument="madrs")
        assert result.response is responded

    def test_response_percent_is_a_setting(self) -> None:
        settings = ProgressSettings(response_percent=60)
        assert run(trajectory((0, 20), (28, 9)), settings=settings).response is False
        assert run(trajectory((0, 20), (28, 8)), settings=settings).response is True


class TestRelapseConfirmation:
    TWO = ProgressSettings(relapse_confirming_scores=2)

    def test_a_single_excursion_is_not_a_relapse_when_two_are_needed(self) -> None:
        result = run(trajectory((0, 20), (30, 3), (60, 9), (70, 4), (130, 3)), settings=self.TWO)
        assert result.relapse is None
        assert kept(result, 91) is True

    def test_two_in_a_row_dated_by_the_first(self) -> None:
        scores = trajectory((0, 20), (30, 3), (60, 9), (70, 4), (100, 9), (110, 12))
        result = run(scores, settings=self.TWO)
        assert result.relapse == Score(day(100), 9)
        assert result.days_to_relapse == 70
        assert kept(result, 91) is False

    def test_an_unconfirmed_run_at_the_end_is_pending(self) -> None:
        result = run(trajectory((0, 20), (30, 3), (100, 9)), settings=self.TWO)
        assert result.relapse is None
        assert "day 70 after remission awaits confirmation" in result.reasons["relapse"]
        assert [entry.kept for entry in result.durability] == [None, None]
        with_one = run(trajectory((0, 20), (30, 3), (100, 9)))
        assert with_one.relapse == Score(day(100), 9)

    def test_pending_after_the_window_does_not_hide_the_window(self) -> None:
        result = run(trajectory((0, 20), (30, 3), (130, 9)), settings=self.TWO)
        assert kept(result, 91) is True
        assert kept(result, 182) is None


class TestWindowEdges:
    def test_relapse_on_day_91_is_within_three_months(self) -> None:
        result = run(trajectory((0, 20), (30, 3), (30 + 91, 8)))
        assert result.days_to_relapse == 91
        assert kept(result, 91) is False

    def test_relapse_on_day_92_is_after_three_months(self) -> None:
        result = run(trajectory((0, 20), (30, 3), (30 + 92, 8)))
        assert kept(result, 91) is True
        assert kept(result, 182) is False

    def test_a_remitted_score_on_day_91_shows_three_months(self) -> None:
        assert kept(run(trajectory((0, 20), (30, 3), (30 + 91, 3))), 91) is True
        assert kept(run(trajectory((0, 20), (30, 3), (30 + 90, 3)), now=day(300)), 91) is None

    def test_windows_are_settings(self) -> None:
        settings = ProgressSettings(durability_days=(30,))
        result = run(trajectory((0, 20), (10, 3), (40, 3)), settings=settings)
        assert [entry.days for entry in result.durability] == [30]
        assert kept(result, 30) is True
        assert result.durability_through(91) is None


class TestDaylightSaving:
    def test_spring_forward_does_not_shift_days(self) -> None:
        # US clocks go forward on 2026-03-08: 09:00 to 09:00 two weeks later is 13 days and 23
        # elapsed hours, and 14 calendar days.
        base = dt.datetime(2026, 3, 1, 9, tzinfo=LA)
        later = dt.datetime(2026, 3, 15, 9, tzinfo=LA)
        assert later.astimezone(dt.UTC) - base.astimezone(dt.UTC) == dt.timedelta(days=13, hours=23)
        result = run([Score(base, 20), Score(later, 9)])
        assert result.days_to_first_response == 14

    def test_fall_back_does_not_shift_days(self) -> None:
        base = dt.datetime(2026, 10, 25, 9, tzinfo=LA)
        later = dt.datetime(2026, 11, 8, 9, tzinfo=LA)
        result = run([Score(base, 20), Score(later, 4)])
        assert result.days_to_first_response == 14
        assert result.days_to_first_remission == 14

    def test_scores_stored_in_utc_count_days_in_the_practice_zone(self) -> None:
        # 20:00 in Los Angeles is the next day in UTC; the practice's day is what counts.
        base = dt.datetime(2026, 3, 1, 20, tzinfo=LA).astimezone(dt.UTC)
        later = dt.datetime(2026, 3, 15, 9, tzinfo=LA).astimezone(dt.UTC)
        scores = [Score(base, 20), Score(later, 9)]
        assert run(scores, zone=LA).days_to_first_response == 14
        assert run(scores, zone=dt.UTC).days_to_first_response == 13

    def test_durability_counts_calendar_days_not_elapsed_days(self) -> None:
        # From 09:00 PST on 1 March to 08:30 PDT on 31 May is 90 days 22.5 elapsed hours, and
        # 91 calendar days: the score reaches three months.
        remitted = dt.datetime(2026, 3, 1, 9, tzinfo=LA)
        at_91 = dt.datetime(2026, 5, 31, 8, 30, tzinfo=LA)
        assert at_91.astimezone(dt.UTC) - remitted.astimezone(dt.UTC) < dt.timedelta(days=91)
        baseline = Score(dt.datetime(2026, 2, 1, 9, tzinfo=LA), 20)
        kept_it = run([baseline, Score(remitted, 3), Score(at_91, 3)])
        assert kept(kept_it, 91) is True
        lost_it = run([baseline, Score(remitted, 3), Score(at_91, 9)])
        assert lost_it.days_to_relapse == 91
        assert kept(lost_it, 91) is False

    def test_windows_across_fall_back_and_the_next_spring(self) -> None:
        remitted = dt.datetime(2026, 10, 1, 9, tzinfo=LA)
        at_91 = dt.datetime(2026, 12, 31, 9, tzinfo=LA)
        at_182 = dt.datetime(2027, 4, 1, 9, tzinfo=LA)
        scores = [
            Score(dt.datetime(2026, 9, 1, 9, tzinfo=LA), 20),
            Score(remitted, 3),
            Score(at_91, 3),
            Score(at_182, 3),
        ]
        result = run(scores)
        assert [entry.kept for entry in result.durability] == [True, True]
        early = run([*scores[:-1], Score(at_182 - dt.timedelta(days=1), 3)], now=at_182)
        assert [entry.kept for entry in early.durability] == [True, None]


class TestInputTidying:
    def test_unsorted_input_is_sorted(self) -> None:
        scores = trajectory((0, 20), (7, 8), (21, 3), (60, 12))
        shuffled = [scores[2], scores[0], scores[3], scores[1]]
        assert run(shuffled) == run(scores)

    def test_duplicate_instants_keep_the_higher_total_in_any_order(self) -> None:
        first = run(trajectory((0, 20), (28, 3), (28, 8)))
        second = run(trajectory((28, 8), (0, 20), (28, 3)))
        assert first == second
        assert first.latest == Score(day(28), 8)
        assert first.remission is False
        assert first.notes == ("2 scores at 2026-02-02 09:00: the higher total, 8, is used.",)

    def test_the_same_instant_in_two_zones_is_one_instant(self) -> None:
        result = run([Score(day(0), 20), Score(day(0).astimezone(dt.UTC), 20), Score(day(9), 4)])
        assert len(result.scores) == 2
        assert result.notes == ()

    def test_a_given_baseline_replaces_the_first_score(self) -> None:
        scores = trajectory((0, 12), (14, 20), (28, 9))
        result = run(scores, baseline=Score(day(14), 20))
        assert result.baseline == Score(day(14), 20)
        assert result.days_to_first_response == 14
        assert result.notes == ("1 score before the baseline left out.",)

    def test_a_given_baseline_wins_at_its_own_instant(self) -> None:
        scores = trajectory((0, 12), (28, 5))
        result = run(scores, baseline=Score(day(0), 18))
        assert result.baseline == Score(day(0), 18)
        assert result.response is True
        assert "differs from it" in result.notes[0]

    def test_a_baseline_after_now_is_refused(self) -> None:
        with pytest.raises(ValueError, match="after now"):
            run(trajectory((0, 20)), baseline=Score(day(5), 20), now=day(1))


# ---------------------------------------------------------------------------------------------
# Properties over random trajectories

totals = st.integers(min_value=0, max_value=27)
trajectories = st.lists(
    st.tuples(st.integers(min_value=0, max_value=400), totals),
    min_size=1,
    max_size=12,
    unique_by=lambda point: point[0],
)


@given(trajectories, st.randoms(use_true_random=False))
def test_order_never_matters(points: list[tuple[int, int]], rng: random.Random) -> None:
    scores = trajectory(*points)
    shuffled = list(scores)
    rng.shuffle(shuffled)
    assert run(shuffled, now=day(500)) == run(scores, now=day(500))


@given(trajectories, st.integers(min_value=1, max_value=3))
def test_invariants(points: list[tuple[int, int]], confirming: int) -> None:
    settings = ProgressSettings(relapse_confirming_scores=confirming)
    result = run(trajectory(*points), now=day(500), settings=settings)
    ordered = sorted(points)
    base_total, latest_total = ordered[0][1], ordered[-1][1]
    assert result.baseline == Score(day(ordered[0][0]), base_total)
    assert result.latest == Score(day(ordered[-1][0]), latest_total)
    assert result.remission is (latest_total <= 4)
    if len(ordered) == 1 or base_total == 0:
        assert result.response is None
        assert "response" in result.reasons
    else:
        assert result.response is (2 * (base_total - latest_total) >= base_total)
        assert result.change is not None
        assert result.change.percent is not None
        if result.response:
            assert result.change.percent <= -50
    # First response and remission: the first qualifying score, days counted from baseline.
    expected_response = next(
        (n for n, total in ordered[1:] if base_total and 2 * (base_total - total) >= base_total),
        None,
    )
    expected_remission = next((n for n, total in ordered if total <= 4), None)
    start = ordered[0][0]
    assert result.days_to_first_response == (
        None if expected_response is None else expected_response - start
    )
    assert result.days_to_first_remission == (
        None if expected_remission is None else expected_remission - start
    )
    # Relapse: the first run of `confirming` scores above 4 after the first remission.
    expected_relapse = None
    if expected_remission is not None:
        after = [(n, total) for n, total in ordered if n > expected_remission]
        for i in range(len(after) - confirming + 1):
            if all(total > 4 for _, total in after[i : i + confirming]):
                expected_relapse = after[i][0]
                break
    if expected_relapse is None or expected_remission is None:
        assert result.days_to_relapse is None
    else:
        assert result.days_to_relapse == expected_relapse - expected_remission
    # Durability agrees with the relapse and never claims more follow-up than was observed.
    for entry in result.durability:
        if entry.kept is False:
            assert result.days_to_relapse is not None
            assert result.days_to_relapse <= entry.days
        if entry.kept is True:
            assert expected_remission is not None
            assert ordered[-1][0] - expected_remission >= entry.days
            assert result.days_to_relapse is None or result.days_to_relapse > entry.days
        if entry.kept is None:
            assert entry.reason


# ---------------------------------------------------------------------------------------------
# Wilson interval

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal, as published


def wilson_by_quadratic(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The interval's ends are the roots p of (p̂ - p)² = z² p (1 - p) / n, i.e.
    (n + z²) p² - (2k + z²) p + k²/n = 0, solved here without the centre/half-width form."""
    a = n + z * z
    b = -(2 * k + z * z)
    c = k * k / n
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


class TestWilson:
    @pytest.mark.parametrize(
        ("k", "n", "low", "high"),
        [
            # Newcombe (1998), Statistics in Medicine 17:857, method 3 (Wilson score).
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
            # Small examples: z²/(n+z²) = 0.2775 for 0 of 10.
            (0, 10, 0.0, 0.2775),
            (10, 10, 0.7225, 1.0),
            (5, 10, 0.2366, 0.7634),
        ],
    )
    def test_published_values(self, k: int, n: int, low: float, high: float) -> None:
        interval = wilson_interval(k, n)
        assert interval is not None
        assert round(interval[0], 4) == low
        assert round(interval[1], 4) == high

    @pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (81, 263), (3, 7), (999, 1000)])
    def test_matches_the_quadratic(self, k: int, n: int) -> None:
        interval = wilson_interval(k, n)
        assert interval == pytest.approx(wilson_by_quadratic(k, n), abs=1e-12)

    def test_ends_are_exact_at_zero_and_all(self) -> None:
        assert wilson_interval(0, 7) == (0.0, pytest.approx(wilson_by_quadratic(0, 7)[1]))
        interval = wilson_interval(7, 7)
        assert interval is not None
        assert interval[1] == 1.0

    def test_no_trials_no_interval(self) -> None:
        assert wilson_interval(0, 0) is None

    @pytest.mark.parametrize(
        ("k", "n", "confidence"), [(-1, 5, 0.95), (6, 5, 0.95), (0, -1, 0.95), (1, 5, 1.0)]
    )
    def test_bad_input_is_refused(self, k: int, n: int, confidence: float) -> None:
        with pytest.raises(ValueError, match="between"):
            wilson_interval(k, n, confidence)

    def test_99_percent_is_wider(self) -> None:
        narrow = wilson_interval(81, 263)
        wide = wilson_interval(81, 263, 0.99)
        assert narrow is not None
        assert wide is not None
        assert wide[0] < narrow[0] < narrow[1] < wide[1]


counts = st.integers(min_value=1, max_value=10**6).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@given(counts, st.floats(min_value=0.5, max_value=0.999))
def test_wilson_contains_the_estimate_within_bounds(
    pair: tuple[int, int], confidence: float
) -> None:
    k, n = pair
    interval = wilson_interval(k, n, confidence)
    assert interval is not None
    low, high = interval
    assert 0.0 <= low <= k / n <= high <= 1.0


@given(counts)
def test_wilson_is_symmetric(pair: tuple[int, int]) -> None:
    k, n = pair
    interval, mirror = wilson_interval(k, n), wilson_interval(n - k, n)
    assert interval is not None
    assert mirror is not None
    assert interval[0] == pytest.approx(1 - mirror[1], abs=1e-12)
    assert interval[1] == pytest.approx(1 - mirror[0], abs=1e-12)


@given(counts)
def test_wilson_matches_the_quadratic(pair: tuple[int, int]) -> None:
    k, n = pair
    assert wilson_interval(k, n) == pytest.approx(wilson_by_quadratic(k, n), abs=1e-9)


# ---------------------------------------------------------------------------------------------
# Median and rates


class TestMedianAndRate:
    @pytest.mark.parametrize(
        ("values", "expected"),
        [([], None), ([7], 7.0), ([14, 28], 21.0), ([28, 7, 14], 14.0), ([1.5, 2.5], 2.0)],
    )
    def test_median(self, values: list[float], expected: float | None) -> None:
        assert median(values) == expected

    def test_median_takes_any_iterable(self) -> None:
        assert median(n for n in (3, 1, 2)) == 2.0

    @pytest.mark.parametrize(
        ("events", "sessions", "expected"),
        [(3, 40, 7.5), (0, 12, 0.0), (5, 5, 100.0), (7, 5, 140.0), (0, 0, None), (2, 0, None)],
    )
    def test_rate_per_100(self, events: int, sessions: int, expected: float | None) -> None:
        assert rate_per_100(events, sessions) == expected

    @pytest.mark.parametrize(("events", "sessions"), [(-1, 5), (1, -5)])
    def test_negative_counts_are_refused(self, events: int, sessions: int) -> None:
        with pytest.raises(ValueError, match="0 or more"):
            rate_per_100(events, sessions)


# ---------------------------------------------------------------------------------------------
# Integration adherence (the window itself is kapcare.courses.rules)

DOSE = dt.datetime(2026, 3, 7, 13, tzinfo=LA)  # ends 13:00 the day before spring-forward


def after(hours: float, dose: dt.datetime = DOSE) -> dt.datetime:
    """`hours` of elapsed time after `dose` (added in UTC, so a clock change is not counted)."""
    return dose.astimezone(dt.UTC) + dt.timedelta(hours=hours)


class TestIntegrationAdherence:
    def test_held_inside_the_window(self) -> None:
        result = integration_adherence([DOSE], [after(24)], 72)
        assert (result.doses, result.met, result.pending, result.rate) == (1, 1, 0, 1.0)

    def test_the_window_is_elapsed_hours_across_spring_forward(self) -> None:
        # 72 elapsed hours after 13:00 PST on 7 March is 14:00 PDT on 10 March.
        closes = dt.datetime(2026, 3, 10, 14, tzinfo=LA)
        assert integration_adherence([DOSE], [closes], 72).met == 1
        late = closes + dt.timedelta(minutes=1)
        assert integration_adherence([DOSE], [late], 72).met == 0

    def test_before_the_dose_does_not_count(self) -> None:
        assert integration_adherence([DOSE], [after(-1)], 72).met == 0

    def test_at_the_dose_end_counts_as_the_courses_rule_does(self) -> None:
        assert integration_adherence([DOSE], [after(0)], 72).met == 1

    def test_window_is_a_parameter(self) -> None:
        assert integration_adherence([DOSE], [after(30)], 24).met == 0
        assert integration_adherence([DOSE], [after(30)], 48).met == 1

    def test_rate_over_several_doses(self) -> None:
        second = after(24 * 7)
        third = after(24 * 14)
        result = integration_adherence(
            [DOSE, second, third], [after(20), after(10, second), after(100, third)], 72
        )
        assert (result.met, result.evaluated) == (2, 3)
        assert result.rate == pytest.approx(2 / 3)

    def test_one_session_can_serve_two_doses(self) -> None:
        second = after(48)
        result = integration_adherence([DOSE, second], [after(60)], 72)
        assert result.met == 2

    def test_without_now_every_window_is_closed(self) -> None:
        result = integration_adherence([DOSE], [], 72)
        assert (result.met, result.pending, result.rate) == (0, 0, 0.0)

    def test_with_now_an_open_window_is_pending(self) -> None:
        now = after(30)
        result = integration_adherence([DOSE, after(-24 * 7)], [after(-24 * 7 + 5)], 72, now=now)
        assert (result.doses, result.met, result.pending, result.evaluated) == (2, 1, 1, 1)
        assert result.rate == 1.0
        closed = integration_adherence([DOSE], [], 72, now=after(73))
        assert (closed.pending, closed.rate) == (0, 0.0)

    def test_no_doses(self) -> None:
        result = integration_adherence([], [after(1)], 72)
        assert (result.doses, result.rate) == (0, None)

    def test_naive_times_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            integration_adherence([dt.datetime(2026, 3, 7, 13)], [], 72)  # noqa: DTZ001
