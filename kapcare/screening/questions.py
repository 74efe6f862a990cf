"""The contraindication and caution questions (clinical-facts §3), as data. The screening form is
built from them and kapcare.screening.rules reads the answers by code."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["yes_no", "choice", "date", "number"]

YES_NO = (("yes", "Yes"), ("no", "No"))


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    kind: Kind = "yes_no"
    choices: tuple[tuple[str, str], ...] = YES_NO
    help: str = ""
    # Asked (and required) only when another answer has one of these values.
    asked_if: tuple[str, tuple[str, ...]] | None = None
    minimum: decimal.Decimal | None = None
    maximum: decimal.Decimal | None = None
    unit: str = ""
    group: str = ""


PSYCHIATRIC = "Psychiatric history"
VASCULAR = "Heart, blood vessels and brain"
MEDICAL = "Other medical"
REPRODUCTIVE = "Pregnancy and breastfeeding"
RISK = "Risk"

QUESTIONS: tuple[Question, ...] = (
    Question(
        "psychosis",
        "History of psychosis, schizophrenia, schizoaffective disorder or psychotic mania",
        group=PSYCHIATRIC,
    ),
    Question(
        "psychotic_features_current",
        "Psychotic features in the current depressive episode",
        group=PSYCHIATRIC,
        help="Also sets the Maudsley severity to 'severe with psychosis'.",
    ),
    Question(
        "psychosis_family",
        "A first-degree relative (parent, sibling, child) with a psychotic disorder",
        group=PSYCHIATRIC,
    ),
    Question(
        "bipolar", "Bipolar disorder, or a past manic or hypomanic episode", group=PSYCHIATRIC
    ),
    Question("mania_current", "Current mania or hypomania", group=PSYCHIATRIC),
    Question(
        "sud",
        "Substance use disorder (alcohol or drugs)",
        kind="choice",
        choices=(("none", "None"), ("past", "In remission"), ("current", "Current")),
        group=PSYCHIATRIC,
    ),
    Question(
        "sud_last_use",
        "Date of last problematic use",
        kind="date",
        asked_if=("sud", ("past",)),
        group=PSYCHIATRIC,
    ),
    Question("ketamine_misuse", "History of ketamine or PCP misuse", group=PSYCHIATRIC),
    Question(
        "personality_disorder",
        "Severe personality disorder that would impede cooperation with treatment",
        group=PSYCHIATRIC,
    ),
    Question(
        "aneurysm_avm",
        "Aneurysmal vascular disease (aortic, intracranial, peripheral) or arteriovenous "
        "malformation",
        group=VASCULAR,
    ),
    Question("intracerebral_haemorrhage", "History of intracerebral haemorrhage", group=VASCULAR),
    Question(
        "cardiac_event",
        "Myocardial infarction, unstable angina or coronary revascularisation, ever",
        group=VASCULAR,
    ),
    Question(
        "cardiac_event_on",
        "Date of the most recent event",
        kind="date",
        asked_if=("cardiac_event", ("yes",)),
        group=VASCULAR,
    ),
    Question("stroke_tia", "History of stroke or transient ischaemic attack", group=VASCULAR),
    Question(
        "hypertension",
        "Hypertension",
        kind="choice",
        choices=(("none", "None"), ("controlled", "Controlled"), ("uncontrolled", "Uncontrolled")),
        group=VASCULAR,
        help="Record intake blood pressure readings below as well.",
    ),
    Question(
        "raised_icp",
        "Raised intracranial pressure (head injury, mass, hydrocephalus)",
        group=VASCULAR,
    ),
    Question(
        "raised_iop",
        "Raised intraocular pressure, untreated glaucoma, open-eye injury or planned eye surgery",
        group=MEDICAL,
    ),
    Question("hyperthyroidism", "Untreated hyperthyroidism or thyrotoxicosis", group=MEDICAL),
    Question(
        "hepatic",
        "Hepatic impairment",
        kind="choice",
        choices=(
            ("none", "None"),
            ("mild", "Mild"),
            ("moderate", "Moderate"),
            ("severe", "Severe (Child-Pugh C)"),
        ),
        group=MEDICAL,
    ),
    Question("bladder", "Lower urinary tract or bladder disease", group=MEDICAL),
    Question(
        "hypersensitivity",
        "Hypersensitivity to ketamine, esketamine or their excipients",
        group=MEDICAL,
    ),
    Question(
        "height_cm",
        "Height",
        kind="number",
        minimum=decimal.Decimal(100),
        maximum=decimal.Decimal(250),
        unit="cm",
        group=MEDICAL,
        help="With the latest weight on the chart, gives the BMI.",
    ),
    Question(
        "pregnancy",
        "Pregnant, or could be pregnant",
        kind="choice",
        choices=(
            ("no", "No"),
            ("yes", "Yes"),
            ("possible", "Possibly"),
            ("not_applicable", "Not applicable"),
        ),
        group=REPRODUCTIVE,
    ),
    Question("preeclampsia", "Pre-eclampsia or eclampsia, current", group=REPRODUCTIVE),
    Question("breastfeeding", "Breastfeeding", group=REPRODUCTIVE),
    Question(
        "suicide_plan_intent",
        "Current suicidal ideation with a specific plan or intent",
        group=RISK,
        help="Open safety flags and a high-risk assessment on the chart are also considered.",
    ),
)

BY_CODE = {question.code: question for question in QUESTIONS}
GROUPS = tuple(dict.fromkeys(question.group for question in QUESTIONS))

Answers = Mapping[str, str]


def is_asked(question: Question, answers: Answers) -> bool:
    if question.asked_if is None:
        return True
    other, values = question.asked_if
    return answers.get(other) in values


def unanswered(answers: Answers) -> list[Question]:
    """Questions that are asked but have no answer (the screen is incomplete without them)."""
    return [q for q in QUESTIONS if is_asked(q, answers) and not answers.get(q.code)]


def validate(
    answers: Mapping[str, object], today: dt.date
) -> tuple[dict[str, str], dict[str, str]]:
    """Clean answers (unanswered ones left out) and errors by question code. Checks the value of
    each answer, future dates, and answers that contradict each other."""
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for code, raw in answers.items():
        question = BY_CODE.get(code)
        if question is None:
            errors[code] = "Not a screening question."
            continue
        if raw in (None, ""):
            continue
        value = str(raw).strip()
        if question.kind in ("yes_no", "choice"):
            if value not in dict(question.choices):
                errors[code] = f"Choose one of: {', '.join(dict(question.choices))}."
                continue
        elif question.kind == "date":
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                errors[code] = "Enter a date as YYYY-MM-DD."
                continue
            if day > today:
                errors[code] = "This date is in the future."
                continue
            value = day.isoformat()
        else:
            try:
                number = decimal.Decimal(value)
            except decimal.InvalidOperation:
                errors[code] = "Enter a number."
                continue
            if not number.is_finite() or (
                question.minimum is not None
                and not question.minimum <= number <= (question.maximum or number)
            ):
                errors[code] = (
                    f"Must be between {question.minimum} and {question.maximum} {question.unit}."
                )
                continue
            value = str(number.normalize())
        clean[code] = value
    for question in QUESTIONS:
        if question.asked_if and question.code in clean and not is_asked(question, clean):
            other, values = question.asked_if
            errors[question.code] = (
                f"Only answered when '{BY_CODE[other].text}' is "
                f"{' or '.join(dict(BY_CODE[other].choices)[v] for v in values)}."
            )
    if clean.get("mania_current") == "yes" and clean.get("bipolar") == "no":
        errors["bipolar"] = "Current mania is recorded, so this cannot be 'No'."
    if clean.get("psychotic_features_current") == "yes" and clean.get("psychosis") == "no":
        errors["psychosis"] = (
            "Psychotic features in this episode are recorded, so this cannot be 'No'."
        )
    if clean.get("preeclampsia") == "yes" and clean.get("pregnancy") == "not_applicable":
        errors["preeclampsia"] = (
            "Pre-eclampsia is recorded, so pregnancy cannot be 'Not applicable'."
        )
    return clean, errors
