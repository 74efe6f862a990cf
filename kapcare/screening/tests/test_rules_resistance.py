"""Trial adequacy, treatment-resistance counting, Maudsley and Thase–Rush staging against the
published rules (clinical-facts §1)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.screening import rules

TODAY = dt.date(2026, 11, 22)
EPISODE = dt.date(2025, 1, 1)
PARAMS = rules.TrdParameters(
    min_trial_weeks=6, failed_trials_for_trd=2, partial_response_is_failure=True
)


def drug(
    name: str = "Sertraline", klass: str = "ssri", minimum: str | None = "50", **kw
) -> rules.Drug:
    return rules.Drug(
        key=kw.pop("key", f"catalogue:{name}"),
        name=name,
        verified=kw.pop("verified", True),
        is_antidepressant=kw.pop("is_antidepressant", True),
        drug_class=klass,
        min_daily_mg=None if minimum is None else Decimal(minimum),
    )


def trial(
    d: rules.Drug | None = None,
    dose: str = "100",
    start: dt.date = dt.date(2025, 2, 1),
    days: int | None = 70,
    adherence: str = "good",
    outcome: str = rules.NON_RESPONSE,
    ref: str = "t",
) -> rules.Trial:
    return rules.Trial(
        ref=ref,
        drug=d or drug(),
        max_daily_mg=Decimal(dose),
        started_on=start,
        ended_on=None if days is None else start + dt.timedelta(days=days),
        adherence=adherence,
        outcome=outcome,
    )


def assess(t: rules.Trial, params: rules.TrdParameters = PARAMS, episode: dt.date | None = EPISODE):
    return rules.assess_trial(t, episode, TODAY, params)


class TestAdequacy:
    def test_at_the_minimum_dose_for_exactly_six_weeks_is_adequate_and_failed(self) -> None:
        result = assess(trial(dose="50", days=42))
        assert result.adequate
        assert result.failed
        assert result.days_in_episode == 42
        assert result.reasons[0] == "Adequate trial that failed."

    def test_one_day_short_of_six_weeks_is_not_adequate(self) -> None:
        result = assess(trial(days=41))
        assert not result.adequate
        assert not result.failed
        assert (
            "5 weeks 6 days in the current episode; an adequate trial needs 6 weeks."
            in result.reasons
        )

    def test_below_the_minimum_dose_is_not_adequate(self) -> None:
        result = assess(trial(dose="49.5"))
        assert not result.adequate
        assert "Dose 49.5 mg/day is below the minimum adequate 50 mg/day." in result.reasons

    def test_minimum_weeks_is_a_parameter(self) -> None:
        four_weeks = rules.TrdParameters(4, 2, True)
        assert assess(trial(days=28), four_weeks).adequate
        assert not assess(trial(days=27), four_weeks).adequate

    def test_intolerance_is_recorded_but_never_a_failure(self) -> None:
        result = assess(trial(outcome=rules.INTOLERANCE))
        assert result.adequate
        assert not result.failed
        assert "Stopped for intolerance: recorded, not counted as a failure." in result.reasons

    def test_partial_response_counts_unless_the_practice_says_otherwise(self) -> None:
        assert assess(trial(outcome=rules.PARTIAL)).failed
        strict = rules.TrdParameters(6, 2, partial_response_is_failure=False)
        result = assess(trial(outcome=rules.PARTIAL), strict)
        assert result.adequate
        assert not result.failed

    @pytest.mark.parametrize("outcome", [rules.ONGOING, rules.RESPONSE])
    def test_ongoing_and_responding_trials_are_not_failures(self, outcome: str) -> None:
        result = assess(trial(outcome=outcome, days=None))
        assert result.adequate
        assert not result.failed

    def test_an_ongoing_trial_counts_its_days_up_to_today(self) -> None:
        result = assess(
            trial(start=TODAY - dt.timedelta(days=30), days=None, outcome=rules.ONGOING)
        )
        assert result.days_in_episode == 30
        assert not result.adequate

    def test_unverified_drugs_are_never_adequate(self) -> None:
        result = assess(trial(drug("Mystery", verified=False, key="text:mystery")))
        assert not result.adequate
        assert not result.failed
        assert any("unverified" in reason for reason in result.reasons)

    def test_a_drug_without_a_minimum_dose_cannot_be_adequate(self) -> None:
        result = assess(trial(drug("Phenelzine", "maoi", None)))
        assert not result.adequate
        assert "No minimum adequate dose is set for Phenelzine in the catalogue." in result.reasons

    def test_a_non_antidepressant_is_not_a_trial(self) -> None:
        result = assess(trial(drug("Lithium", "", None, is_antidepressant=False)))
        assert not result.adequate

    def test_poor_adherence_is_not_adequate_and_unknown_is_noted(self) -> None:
        assert not assess(trial(adherence="poor")).adequate
        unknown = assess(trial(adherence="unknown"))
        assert unknown.failed
        assert "Adherence not confirmed." in unknown.reasons
        assert assess(trial(adherence="partial")).failed

    def test_a_trial_that_ended_before_the_episode_does_not_count(self) -> None:
        result = assess(trial(start=dt.date(2024, 1, 1), days=100))
        assert not result.in_episode
        assert not result.adequate
        assert "Ended before the current episode began." in result.reasons

    def test_only_the_days_inside_the_episode_count(self) -> None:
        # 70 days of treatment, of which 28 after the episode began.
        straddling = trial(start=EPISODE - dt.timedelta(days=42), days=70)
        result = assess(straddling)
        assert result.in_episode
        assert result.days_in_episode == 28
        assert not result.adequate
        long_enough = assess(trial(start=EPISODE - dt.timedelta(days=42), days=84))
        assert long_enough.days_in_episode == 42
        assert long_enough.failed

    def test_without_an_episode_start_nothing_counts(self) -> None:
        result = assess(trial(), episode=None)
        assert not result.adequate
        assert "No current episode start is recorded." in result.reasons

    def test_an_end_date_after_today_is_capped_at_today(self) -> None:
        result = assess(trial(start=TODAY - dt.timedelta(days=10), days=60))
        assert result.days_in_episode == 10


class TestResistance:
    def test_two_different_failed_adequate_trials_make_trd(self) -> None:
        result = rules.resistance(
            [
                trial(ref="a"),
                trial(
                    drug("Venlafaxine", "snri", "75"),
                    dose="150",
                    start=dt.date(2025, 6, 1),
                    ref="b",
                ),
            ],
            EPISODE,
            TODAY,
            PARAMS,
        )
        assert result.failures == 2
        assert result.is_trd
        assert [d.name for d in result.failed_drugs] == ["Sertraline", "Venlafaxine"]

    def test_the_same_drug_failed_twice_counts_once(self) -> None:
        result = rules.resistance(
            [trial(ref="a"), trial(dose="200", start=dt.date(2025, 6, 1), ref="b")],
            EPISODE,
            TODAY,
            PARAMS,
        )
        assert result.failures == 1
        assert not result.is_trd

    def test_overlapping_trials_of_different_drugs_each_count(self) -> None:
        result = rules.resistance(
            [
                trial(ref="a"),
                trial(
                    drug("Bupropion", "atypical", "300"),
                    dose="300",
                    start=dt.date(2025, 2, 15),
                    ref="b",
                ),
            ],
            EPISODE,
            TODAY,
            PARAMS,
        )
        assert result.failures == 2
        assert result.is_trd

    def test_intolerance_and_trials_outside_the_episode_do_not_make_trd(self) -> None:
        result = rules.resistance(
            [
                trial(ref="a"),
                trial(
                    drug("Venlafaxine", "snri", "75"),
                    dose="150",
                    outcome=rules.INTOLERANCE,
                    ref="b",
                ),
                trial(
                    drug("Duloxetine", "snri", "60"),
                    dose="60",
                    start=dt.date(2023, 1, 1),
                    days=90,
                    ref="c",
                ),
            ],
            EPISODE,
            TODAY,
            PARAMS,
        )
        assert result.failures == 1
        assert not result.is_trd

    def test_augmentation_is_not_an_antidepressant_trial(self) -> None:
        lithium = drug("Lithium", "", None, is_antidepressant=False)
        result = rules.resistance(
            [trial(ref="a"), trial(lithium, dose="900", ref="b")], EPISODE, TODAY, PARAMS
        )
        assert result.failures == 1

    def test_the_number_needed_is_a_parameter(self) -> None:
        three = rules.TrdParameters(6, 3, True)
        trials = [
            trial(drug(f"D{i}", "ssri", "10", key=f"d{i}"), dose="10", ref=f"{i}") for i in range(3)
        ]
        assert not rules.resistance(trials[:2], EPISODE, TODAY, three).is_trd
        assert rules.resistance(trials, EPISODE, TODAY, three).is_trd
        assert rules.resistance(trials, EPISODE, TODAY, three).needed == 3

    @given(
        st.lists(
            st.tuples(
                st.integers(0, 5),
                st.integers(0, 120),
                st.sampled_from(
                    [
                        rules.NON_RESPONSE,
                        rules.PARTIAL,
                        rules.INTOLERANCE,
                        rules.ONGOING,
                        rules.RESPONSE,
                    ]
                ),
            ),
            max_size=8,
        )
    )
    def test_failures_are_distinct_drugs_with_a_failed_adequate_trial(self, specs) -> None:
        trials = [
            trial(
                drug(f"D{d}", "ssri", "10", key=f"d{d}"),
                dose="10",
                days=days,
                outcome=outcome,
                ref=str(i),
            )
            for i, (d, days, outcome) in enumerate(specs)
        ]
        result = rules.resistance(trials, EPISODE, TODAY, PARAMS)
        expected = {
            f"d{d}"
            for d, days, outcome in specs
            if days >= 42 and outcome in (rules.NON_RESPONSE, rules.PARTIAL)
        }
        assert result.failures == len(expected)
        assert result.is_trd == (len(expected) >= 2)


class TestMaudsley:
    @pytest.mark.parametrize(
        ("start", "end", "months"),
        [
            (dt.date(2025, 1, 15), dt.date(2026, 1, 14), 11),
            (dt.date(2025, 1, 15), dt.date(2026, 1, 15), 12),
            (dt.date(2025, 1, 31), dt.date(2025, 2, 28), 0),
            (dt.date(2025, 1, 31), dt.date(2025, 3, 31), 2),
            (dt.date(2026, 1, 1), dt.date(2025, 1, 1), 0),
        ],
    )
    def test_months_between_counts_completed_months(self, start, end, months) -> None:
        assert rules.months_between(start, end) == months

    @pytest.mark.parametrize(
        ("months", "points"), [(0, 1), (12, 1), (13, 2), (24, 2), (25, 3), (200, 3)]
    )
    def test_duration_points(self, months: int, points: int) -> None:
        assert rules.msm_duration_points(months) == points

    @pytest.mark.parametrize(
        ("failures", "points"),
        [(1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (10, 4), (11, 5), (30, 5)],
    )
    def test_failure_points(self, failures: int, points: int) -> None:
        assert rules.msm_failure_points(failures) == points

    def test_no_failure_is_outside_the_msm(self) -> None:
        with pytest.raises(ValueError, match="one failed"):
            rules.msm_failure_points(0)

    @pytest.mark.parametrize(
        ("total", "band"),
        [
            (3, "Mild"),
            (6, "Mild"),
            (7, "Moderate"),
            (10, "Moderate"),
            (11, "Severe"),
            (15, "Severe"),
        ],
    )
    def test_band_boundaries(self, total: int, band: str) -> None:
        assert rules.msm_band(total) == band

    @pytest.mark.parametrize("total", [2, 16])
    def test_totals_outside_3_to_15_are_refused(self, total: int) -> None:
        with pytest.raises(ValueError, match="outside"):
            rules.msm_band(total)

    @pytest.mark.parametrize(
        ("months", "severity", "failures", "augmentation", "ect", "total", "band"),
        [
            (6, "subsyndromal", 1, False, False, 3, "Mild"),
            (13, "mild", 3, False, False, 6, "Mild"),
            (13, "moderate", 3, False, False, 7, "Moderate"),
            (25, "severe", 3, True, False, 10, "Moderate"),
            (25, "severe", 3, True, True, 11, "Severe"),
            (30, "severe_psychotic", 11, True, True, 15, "Severe"),
        ],
    )
    def test_totals_at_every_band_boundary(
        self, months, severity, failures, augmentation, ect, total, band
    ) -> None:
        msm = rules.maudsley(
            episode_months=months,
            severity=severity,
            failures=failures,
            augmentation=augmentation,
            ect=ect,
        )
        assert (msm.total, msm.band) == (total, band)
        assert sum(points for _, _, points in msm.parts) == total

    def test_every_combination_adds_up_and_bands_correctly(self) -> None:
        for months, severity, failures, augmentation, ect in itertools.product(
            (1, 12, 13, 24, 25),
            rules.MSM_SEVERITY_POINTS,
            range(1, 13),
            (False, True),
            (False, True),
        ):
            msm = rules.maudsley(
                episode_months=months,
                severity=severity,
                failures=failures,
                augmentation=augmentation,
                ect=ect,
            )
            expected = (
                rules.msm_duration_points(months)
                + rules.MSM_SEVERITY_POINTS[severity]
                + rules.msm_failure_points(failures)
                + augmentation
                + ect
            )
            assert msm.total == expected
            assert 3 <= expected <= 15
            assert msm.band == (
                "Mild" if expected <= 6 else "Moderate" if expected <= 10 else "Severe"
            )

    def test_missing_dimensions_give_no_total_and_say_what_is_missing(self) -> None:
        msm = rules.maudsley(
            episode_months=None, severity=None, failures=0, augmentation=False, ect=False
        )
        assert msm.total is None
        assert msm.band is None
        assert len(msm.missing) == 3

    @pytest.mark.parametrize(
        ("instrument", "band", "psychotic", "expected"),
        [
            ("phq9", "None–minimal", False, "subsyndromal"),
            ("phq9", "Mild", False, "mild"),
            ("phq9", "Moderate", False, "moderate"),
            ("phq9", "Moderately severe", False, "moderate"),
            ("phq9", "Severe", False, "severe"),
            ("phq9", "Severe", True, "severe_psychotic"),
            ("phq9", "Moderate", True, "moderate"),
            ("madrs", "Absent", False, "subsyndromal"),
            ("madrs", "Mild", False, "mild"),
            ("madrs", "Moderate", False, "moderate"),
            ("madrs", "Severe", True, "severe_psychotic"),
            ("gad7", "Severe", False, None),
        ],
    )
    def test_severity_from_the_latest_band(self, instrument, band, psychotic, expected) -> None:
        assert rules.msm_severity_from_band(instrument, band, psychotic, "moderate") == expected

    def test_moderately_severe_follows_the_practice_parameter(self) -> None:
        assert (
            rules.msm_severity_from_band("phq9", "Moderately severe", False, "severe") == "severe"
        )
        assert (
            rules.msm_severity_from_band("phq9", "Moderately severe", True, "severe")
            == "severe_psychotic"
        )


class TestThaseRush:
    @pytest.mark.parametrize(
        ("classes", "bilateral", "stage"),
        [
            ([], False, 0),
            ([], True, 0),
            (["ssri"], False, 1),
            (["ssri", "ssri"], False, 1),
            (["ssri", "snri"], False, 2),
            (["ssri", "tca"], False, 2),
            (["tca", "maoi"], False, 2),
            (["ssri", "snri", "tca"], False, 3),
            (["ssri", "tca", "maoi"], False, 3),
            (["ssri", "snri", "tca", "maoi"], False, 4),
            (["ssri", "snri", "maoi"], False, 2),
            (["ssri", "snri", "tca", "maoi"], True, 5),
            (["ssri", "snri", "tca"], True, 3),
            (["ssri", "atypical", "snri", "tca", "maoi"], True, 5),
        ],
    )
    def test_stages(self, classes: list[str], bilateral: bool, stage: int) -> None:
        assert rules.thase_rush(classes, bilateral)[0] == stage

    @given(
        st.lists(
            st.sampled_from(["ssri", "snri", "tca", "maoi", "atypical", "modulator"]), max_size=8
        ),
        st.booleans(),
    )
    def test_more_failures_never_lower_the_stage(self, classes: list[str], bilateral: bool) -> None:
        stage = rules.thase_rush(classes, bilateral)[0]
        for extra in ("ssri", "tca", "maoi", "atypical"):
            assert rules.thase_rush([*classes, extra], bilateral)[0] >= stage
        assert rules.thase_rush(classes, True)[0] >= stage
