"""The definitions themselves: consistent, complete, and honest about licences."""

from __future__ import annotations

import pytest

from kapcare.measures.instruments import INSTRUMENTS, Kind
from kapcare.measures.rules import SCORERS

EXPECTED = {
    # code: (number of items incl. unscored, total range)
    "phq9": (10, (0, 27)),
    "gad7": (7, (0, 21)),
    "qids_sr16": (16, (0, 27)),
    "pcl5": (20, (0, 80)),
    "ace": (10, (0, 10)),
    "cssrs_screener": (7, None),
    "madrs": (2, (0, 60)),
    "bdi2": (2, (0, 63)),
    "cadss": (2, None),
    "moaas": (1, (0, 5)),
}


def test_the_library_has_every_instrument_and_a_scorer_for_each() -> None:
    assert set(INSTRUMENTS) == set(EXPECTED)
    assert set(SCORERS) == set(INSTRUMENTS)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_item_counts_and_ranges(code: str) -> None:
    instrument = INSTRUMENTS[code]
    count, total_range = EXPECTED[code]
    assert len(instrument.items) == count
    assert instrument.total_range == total_range
    assert len(set(instrument.item_ids)) == count  # ids are unique


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_bands_cover_the_range_without_gaps_or_overlaps(code: str) -> None:
    instrument = INSTRUMENTS[code]
    if not instrument.bands:
        return
    assert instrument.total_range is not None
    low, high = instrument.total_range
    covered = [total for band in instrument.bands for total in range(band.low, band.high + 1)]
    assert covered == list(range(low, high + 1))


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_text_is_shipped_only_where_the_licence_allows(code: str) -> None:
    instrument = INSTRUMENTS[code]
    texts = [item.text for item in instrument.items if item.text]
    if not instrument.text_allowed:
        assert texts == []
    assert instrument.licence
    assert instrument.source


def test_text_allowed_matches_the_licence_table() -> None:
    # clinical-facts §6.3: PHQ-9, GAD-7 and PCL-5 may ship their wording; the rest may not (yet).
    shipped = {code for code, instrument in INSTRUMENTS.items() if instrument.text_allowed}
    assert shipped == {"phq9", "gad7", "pcl5", "moaas"}
    for code in ("phq9", "gad7", "pcl5"):
        scored = [item for item in INSTRUMENTS[code].items if item.scored]
        assert all(item.text for item in scored), code


def test_licensed_scales_are_score_entry_only() -> None:
    for code in ("madrs", "bdi2", "cadss", "moaas"):
        assert INSTRUMENTS[code].kind == Kind.SCORE_ENTRY


def test_response_options() -> None:
    phq9 = INSTRUMENTS["phq9"]
    assert [(o.value, o.label) for o in phq9.items[0].options] == [
        (0, "Not at all"),
        (1, "Several days"),
        (2, "More than half the days"),
        (3, "Nearly every day"),
    ]
    # GAD-7's lowest answer is "Not at all", not "Not at all sure" (a known reproduction error).
    assert INSTRUMENTS["gad7"].items[0].options[0].label == "Not at all"
    assert [o.value for o in INSTRUMENTS["pcl5"].items[0].options] == [0, 1, 2, 3, 4]
    assert [o.label for o in INSTRUMENTS["pcl5"].items[0].options] == [
        "Not at all",
        "A little bit",
        "Moderately",
        "Quite a bit",
        "Extremely",
    ]


def test_loinc_codes_are_the_verified_ones() -> None:
    phq9 = INSTRUMENTS["phq9"]
    assert (phq9.loinc_panel, phq9.loinc_total) == ("44249-1", "44261-6")
    assert [item.loinc for item in phq9.items if item.scored] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]
    gad7 = INSTRUMENTS["gad7"]
    assert (gad7.loinc_panel, gad7.loinc_total) == ("69737-5", "70274-6")


def test_phq9_item9_wording_and_unscored_difficulty() -> None:
    phq9 = INSTRUMENTS["phq9"]
    item9 = phq9.item("q9")
    assert item9 is not None
    assert item9.text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    difficulty = phq9.item("difficulty")
    assert difficulty is not None
    assert not difficulty.scored
    assert not difficulty.required


def test_every_flag_the_rules_can_raise_has_a_label() -> None:
    from kapcare.measures import rules

    raised = {
        rules.SUICIDE_ITEM_POSITIVE,
        rules.SUICIDE_ITEM_MISSING,
        rules.PCL5_PROVISIONAL_PTSD,
        rules.PCL5_AT_OR_ABOVE_CUTPOINT,
        rules.GAD7_POSITIVE_SCREEN,
        *rules.CSSRS_RISK_FLAGS.values(),
    }
    assert raised == set(rules.FLAG_LABELS)
    assert all(label and label[0].isupper() for label in rules.FLAG_LABELS.values())
