"""The structured sections of a session note for each kind of session, and the checks on what a
clinician writes in them and in the modalities block.

Pure: plain values in, plain values and `Problem`s out; no ORM, no request, no clock. Services,
pages and the API all go through these functions, so a section or a limit is defined once.

(The page templates of this app live in `templates/notes/`; this module is the note templates in
the clinical sense.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kapcare.courses.models import Modality

# Data-entry plausibility bounds, not clinical thresholds: a section longer than about five
# typed pages, or more EMDR sets than a long session could hold, is a paste or typing slip.
SECTION_MAX = 10_000
EMDR_SETS_MAX = 200
MODALITY_TEXT_MAX = 1_000


@dataclass(frozen=True)
class Section:
    code: str
    label: str
    help: str
    # Required when the note is signed (a draft may be incomplete: it is a note being written).
    required_to_sign: bool = False


@dataclass(frozen=True)
class NoteTemplate:
    kind: str
    label: str
    sections: tuple[Section, ...]
    # The section the client's scores go into (baseline, previous and latest per instrument):
    # pre-filled in a new draft and offered on the page while the note is written.
    measures_section: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(section.code for section in self.sections)

    @property
    def measures_label(self) -> str:
        return next((s.label for s in self.sections if s.code == self.measures_section), "")

    @property
    def required(self) -> tuple[Section, ...]:
        return tuple(section for section in self.sections if section.required_to_sign)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: the field it names (as the API reports it, such as
    `fields.intentions` or `modalities.emdr.sets`), the rule broken and a sentence for a person."""

    field: str
    rule: str
    message: str


# Which sections a signed note must have, and why:
# - preparation: the intentions and the safety plan are what the dosing session rests on. The team
#   follows the safety plan if distress comes up during or after a dose, so every preparation
#   note says it was made or reviewed ("Reviewed, unchanged" is a complete entry). History,
#   expectations and the consent discussion are not covered in every preparation session (the
#   signed consent itself is recorded with the course), so they are optional.
# - integration: the client's account of the dosing session is the point of the session, and the
#   follow-up plan is what the prescriber reads before the next dose.
# - follow_up: progress and the plan (maintenance, boosters, referral) are what the next clinician
#   needs.
PREPARATION = NoteTemplate(
    kind="preparation",
    label="Preparation session",
    sections=(
        Section(
            "history",
            "History and context",
            "What was reviewed of the client's history this session: the course of the "
            "depression, trauma, earlier treatments, substance use, supports.",
        ),
        Section(
            "intentions",
            "Intentions",
            "What the client hopes for from the dosing sessions, in their own words where "
            "possible.",
            required_to_sign=True,
        ),
        Section(
            "safety_plan",
            "Safety plan",
            "Warning signs, coping steps, who to call and when, the support person and the ride "
            "home; what the team does if distress comes up during or after a dose. Write "
            '"Reviewed, unchanged" when it was.',
            required_to_sign=True,
        ),
        Section(
            "expectations",
            "Expectations",
            "What was explained about the dosing sessions (onset and length, dissociation and "
            "other effects, nausea, monitoring, the after-care rules), and the client's hopes and "
            "fears about them.",
        ),
        Section(
            "consent_discussion",
            "Consent discussion",
            "Risks, benefits and alternatives discussed, off-label use where it applies, the "
            "client's questions and the answers. The signed consent form is recorded with the "
            "course.",
        ),
    ),
    # The course of the depression so far, as the questionnaires put it.
    measures_section="history",
)

INTEGRATION = NoteTemplate(
    kind="integration",
    label="Integration session",
    sections=(
        Section(
            "experience",
            "Experience",
            "The client's account of the dosing session: what happened, images, memories, the "
            "sense of time and of the body.",
            required_to_sign=True,
        ),
        Section(
            "insights",
            "Insights",
            "What the client took from it: understanding of themselves, relationships, patterns.",
        ),
        Section(
            "emotions", "Emotions", "Emotions during and since the session; mood since the dose."
        ),
        Section(
            "body",
            "Body",
            "Sensations during and since the session; sleep, appetite, energy, after-effects.",
        ),
        Section(
            "meaning",
            "Meaning",
            "How the client makes sense of the experience and connects it with their intentions.",
        ),
        Section(
            "homework",
            "Homework",
            "Practices agreed until the next session (journaling, breathwork, walks, "
            "conversations).",
        ),
        Section(
            "follow_up",
            "Follow-up",
            "The plan: next sessions, whether the next dose goes ahead as planned, anything the "
            "prescriber or the care team needs to know.",
            required_to_sign=True,
        ),
    ),
    # Mood since the dose, as the questionnaires put it.
    measures_section="emotions",
)

FOLLOW_UP = NoteTemplate(
    kind="follow_up",
    label="Follow-up session",
    sections=(
        Section(
            "progress",
            "Progress",
            "Changes since the last session or since the course ended, in the client's words and "
            "in the measures.",
            required_to_sign=True,
        ),
        Section(
            "concerns",
            "Concerns",
            "Current difficulties, risk, side effects or substance use that came up.",
        ),
        Section(
            "plan",
            "Plan",
            "Next steps: maintenance or booster sessions, referrals, the next appointment.",
            required_to_sign=True,
        ),
    ),
    measures_section="progress",
)

TEMPLATES: dict[str, NoteTemplate] = {t.kind: t for t in (PREPARATION, INTEGRATION, FOLLOW_UP)}
NOTE_KINDS: tuple[str, ...] = tuple(TEMPLATES)


def with_measures(kind: str, fields: Mapping[str, str], block: str) -> dict[str, str]:
    """`fields` with the measures `block` added at the end of the kind's measures section (as
    its only text when the section is empty); unchanged when the block is empty or already
    there, so adding it twice does not repeat it."""
    code = TEMPLATES[kind].measures_section
    result = dict(fields)
    block = block.strip()
    if code is None or not block:
        return result
    current = (result.get(code) or "").rstrip()
    if block in current:
        return result
    result[code] = f"{current}\n\n{block}" if current else block
    return result


def _field(code: str) -> str:
    return f"fields.{code}"


def clean_fields(kind: str, fields: Mapping[str, Any]) -> tuple[dict[str, str], list[Problem]]:
    """The sections as stored: known codes only, text stripped, empty sections left out, in the
    template's order. Every problem is reported, not only the first."""
    template = TEMPLATES[kind]
    problems: list[Problem] = []
    for code in fields:
        if code not in template.codes:
            problems.append(
                Problem(
                    _field(str(code)),
                    "unknown_section",
                    f"'{code}' is not a section of the {template.label.lower()} note; its "
                    f"sections are {', '.join(template.codes)}.",
                )
            )
    cleaned: dict[str, str] = {}
    for section in template.sections:
        value = fields.get(section.code)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(Problem(_field(section.code), "not_text", "This must be text."))
            continue
        value = value.strip()
        if len(value) > SECTION_MAX:
            problems.append(
                Problem(
                    _field(section.code),
                    "max_length",
                    f"At most {SECTION_MAX:,} characters (this has {len(value):,}).",
                )
            )
        elif value:
            cleaned[section.code] = value
    return cleaned, problems


def missing_to_sign(kind: str, fields: Mapping[str, str]) -> list[Problem]:
    """The required sections a note of this kind lacks before it can be signed."""
    return [
        Problem(
            _field(section.code),
            "required",
            f"{section.label} is needed before the note can be signed.",
        )
        for section in TEMPLATES[kind].required
        if not (fields.get(section.code) or "").strip()
    ]


def changed_sections(kind: str, before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """The codes of the sections whose text differs (what the audit log keeps of an edit: the
    names, never the text)."""
    return [code for code in TEMPLATES[kind].codes if before.get(code) != after.get(code)]


# ---------------------------------------------------------------------------------------------
# Modalities used in the session

MODALITY_ORDER: tuple[str, ...] = tuple(Modality.values)
MODALITY_LABELS: dict[str, str] = dict(Modality.choices)
EMDR = Modality.EMDR.value
# EMDR is recorded as its number of sets and the targets processed; every other modality (the
# somatic ones: breathwork, body awareness, movement; music; other) as a short description.
EMDR_KEYS = frozenset({"modality", "sets", "targets"})
DETAIL_KEYS = frozenset({"modality", "detail"})


def _text(
    entry: Mapping[str, Any], key: str, field: str, *, required: bool, problems: list[Problem]
) -> str:
    value = entry.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(Problem(field, "not_text", "This must be text."))
        return ""
    value = value.strip()
    if required and not value:
        problems.append(Problem(field, "required", "This is required."))
    elif len(value) > MODALITY_TEXT_MAX:
        problems.append(Problem(field, "max_length", f"At most {MODALITY_TEXT_MAX:,} characters."))
    return value


def _emdr(entry: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
    base = f"modalities.{EMDR}"
    sets = entry.get("sets")
    # bool is an int in Python; true is not a number of sets.
    if sets is None or isinstance(sets, bool) or not isinstance(sets, int):
        problems.append(Problem(f"{base}.sets", "required", "The number of EMDR sets is needed."))
    elif not 1 <= sets <= EMDR_SETS_MAX:
        problems.append(
            Problem(
                f"{base}.sets",
                "out_of_range",
                f"The number of sets is between 1 and {EMDR_SETS_MAX}.",
            )
        )
    targets = _text(entry, "targets", f"{base}.targets", required=True, problems=problems)
    return {"modality": EMDR, "sets": sets, "targets": targets}


def clean_modalities(entries: Sequence[Any]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The modalities as stored: one entry per modality, in the catalogue's order.

    EMDR: `{"modality": "emdr", "sets": 12, "targets": "..."}`, both required. Any other
    modality: `{"modality": "breathwork", "detail": "..."}`, with the detail required for
    `other` (it says what was done)."""
    problems: list[Problem] = []
    found: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            problems.append(Problem("modalities", "invalid", "Each modality is an object."))
            continue
        code = entry.get("modality")
        if code not in MODALITY_LABELS:
            problems.append(
                Problem(
                    "modalities",
                    "invalid_choice",
                    f"'{code}' is not a modality; choose from {', '.join(MODALITY_ORDER)}.",
                )
            )
            continue
        if code in found:
            problems.append(
                Problem(f"modalities.{code}", "duplicate", "Each modality is listed once.")
            )
            continue
        allowed = EMDR_KEYS if code == EMDR else DETAIL_KEYS
        for key in sorted(set(entry) - allowed):
            problems.append(
                Problem(
                    f"modalities.{code}.{key}",
                    "unknown_field",
                    f"{MODALITY_LABELS[code]} takes only {', '.join(sorted(allowed))}.",
                )
            )
        if code == EMDR:
            found[code] = _emdr(entry, problems)
        else:
            detail = _text(
                entry,
                "detail",
                f"modalities.{code}.detail",
                required=code == Modality.OTHER,
                problems=problems,
            )
            found[code] = {"modality": code, "detail": detail}
    return [found[code] for code in MODALITY_ORDER if code in found], problems


def changed_modalities(
    before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The modality codes added, removed or changed (for the audit log)."""
    old = {entry["modality"]: dict(entry) for entry in before}
    new = {entry["modality"]: dict(entry) for entry in after}
    return [code for code in MODALITY_ORDER if old.get(code) != new.get(code)]
