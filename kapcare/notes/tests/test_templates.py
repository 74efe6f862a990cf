"""The note templates: every section of every kind, unknown sections, lengths, what signing
needs, and the modalities block."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapcare.courses.models import Kind, Modality
from kapcare.notes import templates
from kapcare.notes.models import NoteKind
from kapcare.notes.templates import (
    EMDR_SETS_MAX,
    MODALITY_TEXT_MAX,
    SECTION_MAX,
    TEMPLATES,
    changed_modalities,
    changed_sections,
    clean_fields,
    clean_modalities,
    missing_to_sign,
)

EXPECTED_SECTIONS = {
    "preparation": ["history", "intentions", "safety_plan", "expectations", "consent_discussion"],
    "integration": [
        "experience",
        "insights",
        "emotions",
        "body",
        "meaning",
        "homework",
        "follow_up",
    ],
    "follow_up": ["progress", "concerns", "plan"],
}
EXPECTED_REQUIRED = {
    "preparation": ["intentions", "safety_plan"],
    "integration": ["experience", "follow_up"],
    "follow_up": ["progress", "plan"],
}


def rules(problems: list[templates.Problem]) -> set[tuple[str, str]]:
    return {(problem.field, problem.rule) for problem in problems}


def test_the_kinds_are_appointment_kinds_and_note_kinds() -> None:
    assert set(TEMPLATES) == set(NoteKind.values) == set(EXPECTED_SECTIONS)
    assert set(TEMPLATES) <= set(Kind.values)
    assert Kind.DOSING not in TEMPLATES


@pytest.mark.parametrize("kind", list(EXPECTED_SECTIONS))
def test_each_kind_has_its_sections_in_order_with_labels_and_help(kind: str) -> None:
    template = TEMPLATES[kind]
    assert list(template.codes) == EXPECTED_SECTIONS[kind]
    assert [s.code for s in template.required] == EXPECTED_REQUIRED[kind]
    for section in template.sections:
        assert section.label
        assert len(section.help) > 20


@pytest.mark.parametrize(
    ("kind", "code"), [(k, c) for k, codes in EXPECTED_SECTIONS.items() for c in codes]
)
def test_every_section_is_kept_stripped(kind: str, code: str) -> None:
    cleaned, problems = clean_fields(kind, {code: "  Said it in her own words.\n"})
    assert problems == []
    assert cleaned == {code: "Said it in her own words."}


@pytest.mark.parametrize(
    ("kind", "code"), [(k, c) for k, codes in EXPECTED_SECTIONS.items() for c in codes]
)
def test_every_section_has_the_length_limit(kind: str, code: str) -> None:
    cleaned, problems = clean_fields(kind, {code: "x" * SECTION_MAX})
    assert problems == []
    assert len(cleaned[code]) == SECTION_MAX
    _cleaned, problems = clean_fields(kind, {code: "x" * (SECTION_MAX + 1)})
    assert rules(problems) == {(f"fields.{code}", "max_length")}


def test_unknown_sections_are_named_with_the_kinds_sections() -> None:
    _cleaned, problems = clean_fields(
        "integration", {"experience": "ok", "intentions": "x", "mood": "y"}
    )
    assert rules(problems) == {
        ("fields.intentions", "unknown_section"),
        ("fields.mood", "unknown_section"),
    }
    message = next(p.message for p in problems if p.field == "fields.mood")
    assert message.startswith("'mood' is not a section of the integration session note")
    assert "experience, insights" in message


def test_empty_and_blank_sections_are_left_out_and_order_is_the_templates() -> None:
    cleaned, problems = clean_fields(
        "preparation", {"safety_plan": "Plan", "history": "   ", "intentions": "Hope", "x": None}
    )
    assert list(cleaned) == ["intentions", "safety_plan"]
    assert rules(problems) == {("fields.x", "unknown_section")}


def test_a_section_that_is_not_text_is_refused() -> None:
    _cleaned, problems = clean_fields("preparation", {"intentions": 5, "history": None})
    assert rules(problems) == {("fields.intentions", "not_text")}


@pytest.mark.parametrize("kind", list(EXPECTED_REQUIRED))
def test_signing_needs_the_required_sections(kind: str) -> None:
    assert rules(missing_to_sign(kind, {})) == {
        (f"fields.{code}", "required") for code in EXPECTED_REQUIRED[kind]
    }
    complete = dict.fromkeys(EXPECTED_REQUIRED[kind], "written")
    assert missing_to_sign(kind, complete) == []
    first = EXPECTED_REQUIRED[kind][0]
    assert rules(missing_to_sign(kind, complete | {first: "  "})) == {
        (f"fields.{first}", "required")
    }


def test_changed_sections_names_only_what_differs() -> None:
    before = {"intentions": "a", "safety_plan": "b"}
    after = {"intentions": "a", "history": "c"}
    assert changed_sections("preparation", before, after) == ["history", "safety_plan"]
    assert changed_sections("preparation", before, dict(before)) == []


# ---------------------------------------------------------------------------------------------
# Modalities


def test_modalities_are_kept_one_each_in_catalogue_order() -> None:
    used, problems = clean_modalities(
        [
            {"modality": "movement", "detail": " shaking out "},
            {"modality": "emdr", "sets": 12, "targets": " the accident "},
            {"modality": "breathwork"},
        ]
    )
    assert problems == []
    assert used == [
        {"modality": "emdr", "sets": 12, "targets": "the accident"},
        {"modality": "breathwork", "detail": ""},
        {"modality": "movement", "detail": "shaking out"},
    ]


def test_every_modality_of_the_catalogue_is_accepted() -> None:
    entries: list[dict[str, Any]] = [
        {"modality": "emdr", "sets": 1, "targets": "t"}
        if code == "emdr"
        else {"modality": code, "detail": "d"}
        for code in Modality.values
    ]
    used, problems = clean_modalities(entries)
    assert problems == []
    assert [entry["modality"] for entry in used] == list(Modality.values)


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([{"modality": "hypnosis"}], {("modalities", "invalid_choice")}),
        (["emdr"], {("modalities", "invalid")}),
        (
            [{"modality": "music"}, {"modality": "music", "detail": "again"}],
            {("modalities.music", "duplicate")},
        ),
        ([{"modality": "emdr", "targets": "t"}], {("modalities.emdr.sets", "required")}),
        (
            [{"modality": "emdr", "sets": True, "targets": "t"}],
            {("modalities.emdr.sets", "required")},
        ),
        (
            [{"modality": "emdr", "sets": "12", "targets": "t"}],
            {("modalities.emdr.sets", "required")},
        ),
        (
            [{"modality": "emdr", "sets": 0, "targets": "t"}],
            {("modalities.emdr.sets", "out_of_range")},
        ),
        (
            [{"modality": "emdr", "sets": EMDR_SETS_MAX + 1, "targets": "t"}],
            {("modalities.emdr.sets", "out_of_range")},
        ),
        (
            [{"modality": "emdr", "sets": 3, "targets": "  "}],
            {("modalities.emdr.targets", "required")},
        ),
        (
            [{"modality": "emdr", "sets": 3, "targets": 7}],
            {("modalities.emdr.targets", "not_text")},
        ),
        (
            [{"modality": "emdr", "sets": 3, "targets": "x" * (MODALITY_TEXT_MAX + 1)}],
            {("modalities.emdr.targets", "max_length")},
        ),
        (
            [{"modality": "emdr", "sets": 3, "targets": "t", "detail": "d"}],
            {("modalities.emdr.detail", "unknown_field")},
        ),
        (
            [{"modality": "breathwork", "sets": 3}],
            {("modalities.breathwork.sets", "unknown_field")},
        ),
        ([{"modality": "other"}], {("modalities.other.detail", "required")}),
        (
            [{"modality": "music", "detail": "x" * (MODALITY_TEXT_MAX + 1)}],
            {("modalities.music.detail", "max_length")},
        ),
    ],
)
def test_bad_modalities_name_the_field_and_rule(entries: list[Any], expected: set) -> None:
    _used, problems = clean_modalities(entries)
    assert rules(problems) == expected


def test_emdr_sets_at_the_bounds_are_accepted() -> None:
    for sets in (1, EMDR_SETS_MAX):
        used, problems = clean_modalities([{"modality": "emdr", "sets": sets, "targets": "t"}])
        assert problems == []
        assert used[0]["sets"] == sets


def test_changed_modalities_names_added_removed_and_changed() -> None:
    before = [{"modality": "emdr", "sets": 3, "targets": "t"}, {"modality": "music", "detail": ""}]
    after = [
        {"modality": "emdr", "sets": 4, "targets": "t"},
        {"modality": "movement", "detail": ""},
    ]
    assert changed_modalities(before, after) == ["emdr", "movement", "music"]
    assert changed_modalities(before, list(before)) == []


# A property of pure code: timing checks would only measure how busy the machine is.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=6))
def test_cleaning_never_keeps_an_unknown_or_blank_section(fields: dict[str, str]) -> None:
    cleaned, problems = clean_fields("integration", fields)
    assert set(cleaned) <= set(TEMPLATES["integration"].codes)
    assert all(text and text == text.strip() for text in cleaned.values())
    unknown = {code for code in fields if code not in TEMPLATES["integration"].codes}
    assert {p.field for p in problems if p.rule == "unknown_section"} == {
        f"fields.{code}" for code in unknown
    }
