"""The instrument library, as data: items, response options, scoring range, bands, licence.

Every number here comes from ../shared/reference/clinical-facts.md sections 5.2, 6.1 and 6.3,
with the source named beside it. Item wording is included only where the licence allows it to be
shipped (`text_allowed`); the other instruments carry short descriptive labels, and their answers
come from the practice's own licensed forms. Scoring lives in kapcare.measures.rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    QUESTIONNAIRE = "questionnaire"  # answered item by item (client or staff on their behalf)
    SCORE_ENTRY = "score_entry"  # licensed scale: staff enter the total (and key items)


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    label: str
    options: tuple[Option, ...]
    text: str | None = None
    scored: bool = True
    required: bool = True
    loinc: str | None = None

    @property
    def values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str

    def contains(self, total: int) -> bool:
        return self.low <= total <= self.high


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: str
    kind: Kind
    recall_period: str
    items: tuple[Item, ...]
    total_range: tuple[int, int] | None
    bands: tuple[Band, ...]
    missing_rule: str
    scoring_rule: str
    licence: str
    text_allowed: bool
    source: str
    stem: str | None = None
    loinc_panel: str | None = None
    loinc_total: str | None = None
    notes: tuple[str, ...] = field(default=())

    def item(self, item_id: str) -> Item | None:
        return next((item for item in self.items if item.id == item_id), None)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def band_for(self, total: int | None) -> Band | None:
        if total is None:
            return None
        return next((band for band in self.bands if band.contains(total)), None)


def _options(*labels: str, start: int = 0) -> tuple[Option, ...]:
    return tuple(Option(start + index, label) for index, label in enumerate(labels))


FREQUENCY_2_WEEKS = _options(
    "Not at all", "Several days", "More than half the days", "Nearly every day"
)
DIFFICULTY = _options(
    "Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult"
)
PCL5_OPTIONS = _options("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")
NO_YES = _options("No", "Yes")
ZERO_TO_THREE = _options("0", "1", "2", "3")

PFIZER_NOTICE = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with "
    "an educational grant from Pfizer Inc. No permission is required to reproduce, translate, "
    "display or distribute."
)

PHQ9_TEXT = [
    ("Little interest or pleasure in doing things", "44250-9"),
    ("Feeling down, depressed, or hopeless", "44255-8"),
    ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
    ("Feeling tired or having little energy", "44254-1"),
    ("Poor appetite or overeating", "44251-7"),
    (
        "Feeling bad about yourself — or that you are a failure or have let yourself or your "
        "family down",
        "44258-2",
    ),
    (
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "44252-5",
    ),
    (
        "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
        "being so fidgety or restless that you have been moving around a lot more than usual",
        "44253-3",
    ),
    ("Thoughts that you would be better off dead or of hurting yourself in some way", "44260-8"),
]
PHQ9_LABELS = [
    "Interest or pleasure",
    "Feeling down",
    "Sleep",
    "Tiredness, energy",
    "Appetite",
    "Feeling bad about yourself",
    "Concentration",
    "Moving or speaking slowly, or restless",
    "Thoughts of death or self-harm",
]

PHQ9 = Instrument(
    code="phq9",
    name="Patient Health Questionnaire-9 (PHQ-9)",
    version="Kroenke, Spitzer & Williams 2001",
    kind=Kind.QUESTIONNAIRE,
    recall_period="the last 2 weeks",
    stem=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=(
        *(
            Item(f"q{number}", label, FREQUENCY_2_WEEKS, text=text, loinc=loinc)
            for number, (label, (text, loinc)) in enumerate(
                zip(PHQ9_LABELS, PHQ9_TEXT, strict=True), start=1
            )
        ),
        Item(
            "difficulty",
            "Difficulty caused by these problems",
            DIFFICULTY,
            text=(
                "If you checked off any problems, how difficult have these problems made it for "
                "you to do your work, take care of things at home, or get along with other people?"
            ),
            scored=False,
            required=False,
        ),
    ),
    total_range=(0, 27),
    bands=(
        Band(0, 4, "None–minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 19, "Moderately severe"),
        Band(20, 27, "Severe"),
    ),
    scoring_rule="Sum of items 1–9 (0–3 each). The difficulty question is not scored.",
    missing_rule=(
        "With 1 or 2 of items 1–9 unanswered the total is prorated: the mean of the answered "
        "items times 9, rounded half up, and marked as prorated. With 3 or more unanswered there "
        "is no total. Item 9 unanswered is itself flagged for review."
    ),
    licence=PFIZER_NOTICE,
    text_allowed=True,
    source="Kroenke, Spitzer & Williams 2001; bands and item 9 rule: clinical-facts §6.1",
    loinc_panel="44249-1",
    loinc_total="44261-6",
    notes=(
        "Any non-zero item 9 calls for a same-day suicide-risk assessment, whatever the total.",
    ),
)

GAD7_TEXT = [
    ("Feeling nervous, anxious, or on edge", "Nervous, anxious, on edge"),
    ("Not being able to stop or control worrying", "Cannot stop or control worrying"),
    ("Worrying too much about different things", "Worrying too much"),
    ("Trouble relaxing", "Trouble relaxing"),
    ("Being so restless that it is hard to sit still", "Restless"),
    ("Becoming easily annoyed or irritable", "Easily annoyed or irritable"),
    ("Feeling afraid, as if something awful might happen", "Afraid something awful might happen"),
]

GAD7 = Instrument(
    code="gad7",
    name="Generalized Anxiety Disorder-7 (GAD-7)",
    version="Spitzer et al. 2006",
    kind=Kind.QUESTIONNAIRE,
    recall_period="the last 2 weeks",
    stem="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=tuple(
        Item(f"q{number}", label, FREQUENCY_2_WEEKS, text=text)
        for number, (text, label) in enumerate(GAD7_TEXT, start=1)
    ),
    total_range=(0, 21),
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 21, "Severe"),
    ),
    scoring_rule="Sum of items 1–7 (0–3 each). A total of 10 or more is a positive screen.",
    missing_rule="Every item must be answered; with any unanswered there is no total.",
    licence=PFIZER_NOTICE,
    text_allowed=True,
    source="Spitzer et al. 2006; clinical-facts §6.1",
    loinc_panel="69737-5",
    loinc_total="70274-6",
    notes=(
        'The lowest answer is "Not at all" (not "Not at all sure", a known reproduction error).',
    ),
)

QIDS_LABELS = [
    "Falling asleep",
    "Sleep during the night",
    "Waking up too early",
    "Sleeping too much",
    "Feeling sad",
    "Decreased appetite",
    "Increased appetite",
    "Decreased weight (within the last two weeks)",
    "Increased weight (within the last two weeks)",
    "Concentration / decision making",
    "View of myself",
    "Thoughts of death or suicide",
    "General interest",
    "Energy level",
    "Feeling slowed down",
    "Feeling restless",
]
# Items answered only as one of the two appetite/weight directions: the unused pair is left blank.
QIDS_APPETITE_ITEMS = ("q6", "q7", "q8", "q9")

QIDS_SR16 = Instrument(
    code="qids_sr16",
    name="Quick Inventory of Depressive Symptomatology, self-report (QIDS-SR16)",
    version="Rush et al. 2003",
    kind=Kind.QUESTIONNAIRE,
    recall_period="the last 7 days",
    items=tuple(
        Item(
            f"q{number}",
            label,
            ZERO_TO_THREE,
            required=f"q{number}" not in QIDS_APPETITE_ITEMS,
        )
        for number, label in enumerate(QIDS_LABELS, start=1)
    ),
    total_range=(0, 27),
    bands=(
        Band(0, 5, "None"),
        Band(6, 10, "Mild"),
        Band(11, 15, "Moderate"),
        Band(16, 20, "Severe"),
        Band(21, 27, "Very severe"),
    ),
    scoring_rule=(
        "Nine domains of 0–3: sleep = highest of items 1–4; mood = item 5; appetite/weight = "
        "highest of items 6–9; concentration = item 10; self-view = item 11; suicidal ideation = "
        "item 12; interest = item 13; energy = item 14; psychomotor = highest of items 15–16. "
        "Total = sum of the nine domains (0–27)."
    ),
    missing_rule=(
        "Items 6–9 are answered in one direction only (decreased or increased appetite and "
        "weight); the unused pair is blank and counts as 0, but at least one of them must be "
        "answered. Every other item must be answered; otherwise there is no total."
    ),
    licence=(
        "© A. John Rush and UT Southwestern (ids-qids.org). Freely available for clinical and "
        "research use; terms for software are not settled, so kapcare does not ship the wording: "
        "answers are entered from the practice's own forms."
    ),
    text_allowed=False,
    source="Rush et al., Biol Psychiatry 2003;54:573; algorithm: clinical-facts §6.1",
    notes=("Item 12 above 0 calls for a same-day suicide-risk assessment.",),
)

PCL5_TEXT = [
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again "
    "(as if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience "
    "(for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, "
    "conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for example, "
    "having thoughts such as: I am bad, there is something seriously wrong with me, no one can "
    "be trusted, the world is completely dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or "
    "have loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    "Being “superalert” or watchful or on guard?",
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
]
PCL5_LABELS = [
    "Unwanted memories",
    "Disturbing dreams",
    "Reliving (flashbacks)",
    "Upset by reminders",
    "Physical reactions to reminders",
    "Avoiding memories, thoughts, feelings",
    "Avoiding external reminders",
    "Trouble remembering parts of it",
    "Strong negative beliefs",
    "Blaming self or others",
    "Strong negative feelings",
    "Loss of interest",
    "Feeling distant or cut off",
    "Trouble experiencing positive feelings",
    "Irritable, angry, aggressive",
    "Risk-taking",
    "Superalert, on guard",
    "Jumpy, easily startled",
    "Difficulty concentrating",
    "Trouble sleeping",
]
# DSM-5 symptom clusters by item number, and how many endorsed items (rated 2 or more) each needs
# for a provisional diagnosis (clinical-facts §6.1).
PCL5_CLUSTERS: dict[str, tuple[range, int]] = {
    "B": (range(1, 6), 1),
    "C": (range(6, 8), 1),
    "D": (range(8, 15), 2),
    "E": (range(15, 21), 2),
}
PCL5_ENDORSED_AT = 2

PCL5 = Instrument(
    code="pcl5",
    name="PTSD Checklist for DSM-5 (PCL-5)",
    version="Weathers et al. 2013",
    kind=Kind.QUESTIONNAIRE,
    recall_period="the past month",
    stem=(
        "Below is a list of problems that people sometimes have in response to a very stressful "
        "experience. Please read each problem carefully and then select one of the answers to "
        "indicate how much you have been bothered by that problem in the past month. In the past "
        "month, how much were you bothered by:"
    ),
    items=tuple(
        Item(f"q{number}", label, PCL5_OPTIONS, text=text)
        for number, (label, text) in enumerate(zip(PCL5_LABELS, PCL5_TEXT, strict=True), start=1)
    ),
    total_range=(0, 80),
    bands=(),
    scoring_rule=(
        "Total = sum of the 20 items (0–4 each). Provisional DSM-5 PTSD: items rated 2 or more "
        "count as endorsed, with at least 1 in B (items 1–5), 1 in C (6–7), 2 in D (8–14) and 2 "
        "in E (15–20). The total is also compared with a cut-point (published range 31–33; "
        "kapcare's default 33, a practice setting)."
    ),
    missing_rule=(
        "The total needs every item. The provisional diagnosis is reported as met when the "
        "answered items already meet it; otherwise, with items unanswered, it is undetermined."
    ),
    licence=(
        "PTSD Checklist for DSM-5 (PCL-5): Weathers, Litz, Keane, Palmieri, Marx & Schnurr, "
        "National Center for PTSD, 2013. A US Government work in the public domain."
    ),
    text_allowed=True,
    source="Weathers et al. 2013; Blevins et al. 2015; clinical-facts §6.1",
)

ACE_LABELS = [
    "Emotional abuse",
    "Physical abuse",
    "Sexual abuse",
    "Emotional neglect",
    "Physical neglect",
    "Parents separated or divorced",
    "Mother or stepmother treated violently",
    "Household substance misuse",
    "Household mental illness or suicide attempt",
    "Household member went to prison",
]

ACE = Instrument(
    code="ace",
    name="Adverse Childhood Experiences questionnaire (ACE, 10 items)",
    version="CDC–Kaiser ACE Study, Felitti et al. 1998",
    kind=Kind.QUESTIONNAIRE,
    recall_period="before the age of 18",
    items=tuple(
        Item(f"q{number}", label, NO_YES) for number, label in enumerate(ACE_LABELS, start=1)
    ),
    total_range=(0, 10),
    bands=(),
    scoring_rule="Count of the ten categories answered yes (0–10).",
    missing_rule="Every item must be answered; with any unanswered there is no total.",
    licence=(
        "CDC–Kaiser Permanente ACE Study questionnaire (Felitti et al. 1998), freely distributed. "
        "No formal licence text has been found, so kapcare shows the category labels only until "
        "the practice confirms the wording may be reproduced."
    ),
    text_allowed=False,
    source="Felitti et al. 1998; clinical-facts §6.1",
    notes=(
        "The score is not diagnostic or predictive for an individual (Anda et al. 2020): kapcare "
        "applies no cut-point to it.",
    ),
)

CSSRS_LABELS = [
    ("q1", "Wish to be dead"),
    ("q2", "Non-specific active suicidal thoughts"),
    ("q3", "Active suicidal ideation with any methods (not plan) without intent to act"),
    ("q4", "Active suicidal ideation with some intent to act, without specific plan"),
    ("q5", "Active suicidal ideation with specific plan and intent"),
    ("q6", "Suicidal behavior (ever)"),
    ("q6_recent", "Suicidal behavior within the past 3 months"),
]
CSSRS_ASKED_ONLY_IF_Q2 = ("q3", "q4", "q5")

CSSRS_SCREENER = Instrument(
    code="cssrs_screener",
    name="Columbia-Suicide Severity Rating Scale, screener (recent)",
    version="Screen Version — Recent",
    kind=Kind.QUESTIONNAIRE,
    recall_period="the past month (items 1–5); ever, and the past 3 months (item 6)",
    items=tuple(
        Item(item_id, label, NO_YES, required=item_id in ("q1", "q2", "q6"))
        for item_id, label in CSSRS_LABELS
    ),
    total_range=None,
    bands=(),
    scoring_rule=(
        "Not a sum: a risk level. High: item 4 or 5 yes, or suicidal behavior within the past 3 "
        "months. Moderate: item 3 yes, or suicidal behavior more than 3 months ago. Low: item 1 "
        "or 2 yes and nothing above. None: every answer no."
    ),
    missing_rule=(
        "Items 1, 2 and 6 are always asked; items 3–5 only when item 2 is yes; the past-3-months "
        "question only when item 6 is yes. Answers that the skip logic forbids are refused. When "
        "an asked item is unanswered the risk level is reported only if the answers given already "
        "make it high; otherwise it is undetermined."
    ),
    licence=(
        "© 2008 The Research Foundation for Mental Hygiene, Inc. (Posner et al.). Free for "
        "clinical use after registration with the Columbia Lighthouse Project; the wording may not "
        "be altered. kapcare shows item labels only; a registered practice enters the answers."
    ),
    text_allowed=False,
    source="Posner et al.; triage: clinical-facts §6.1 (⚠️ secondary source)",
    notes=("The actions for each level follow the practice's own risk protocol.",),
)


def _score_entry(
    code: str,
    name: str,
    version: str,
    total_max: int,
    bands: tuple[Band, ...],
    licence: str,
    source: str,
    extra_items: tuple[Item, ...] = (),
    notes: tuple[str, ...] = (),
) -> Instrument:
    return Instrument(
        code=code,
        name=name,
        version=version,
        kind=Kind.SCORE_ENTRY,
        recall_period="as the scale's manual defines",
        items=(
            Item("total", "Total score", _options(*(str(n) for n in range(total_max + 1)))),
            *extra_items,
        ),
        total_range=(0, total_max),
        bands=bands,
        scoring_rule="The total is entered from the practice's licensed form.",
        missing_rule="The total is required.",
        licence=licence,
        text_allowed=False,
        source=source,
        notes=notes,
    )


MADRS = _score_entry(
    "madrs",
    "Montgomery–Åsberg Depression Rating Scale (MADRS), score entry",
    "Montgomery & Åsberg 1979",
    60,
    (
        Band(0, 6, "Absent"),
        Band(7, 19, "Mild"),
        Band(20, 34, "Moderate"),
        Band(35, 60, "Severe"),
    ),
    "© Royal College of Psychiatrists. Not reproduced: enter the total from a licensed form.",
    "Snaith bands, clinical-facts §6.1 (other cut-offs exist; bands are a practice setting)",
    extra_items=(
        Item(
            "item10",
            "Item 10, suicidal thoughts (0–6)",
            _options(*(str(n) for n in range(7))),
            scored=False,  # recorded for the suicide-item rule; the total is entered
            required=False,
        ),
    ),
    notes=("Item 10 above 0 calls for a same-day suicide-risk assessment.",),
)

BDI2 = _score_entry(
    "bdi2",
    "Beck Depression Inventory-II (BDI-II), score entry",
    "Beck, Steer & Brown 1996",
    63,
    (
        Band(0, 13, "Minimal"),
        Band(14, 19, "Mild"),
        Band(20, 28, "Moderate"),
        Band(29, 63, "Severe"),
    ),
    "© Pearson. Not reproduced: enter the total and item 9 from a licensed form.",
    "Beck 1996 bands, clinical-facts §6.1",
    extra_items=(
        # Recorded for the suicide-item rule; the total is entered, not summed.
        Item("item9", "Item 9, suicidal thoughts or wishes (0–3)", ZERO_TO_THREE, scored=False),
    ),
    notes=("Item 9 above 0 calls for a same-day suicide-risk assessment.",),
)

# CADSS versions differ (clinical-facts §5.2, uncertain); every item is rated 0–4, so a
# version's range is 4 points per item. The version is stored with each score.
CADSS_VERSIONS = {6: "CADSS-6 (items 1, 2, 6, 7, 15, 22)", 23: "23 items", 27: "27 items"}
CADSS = Instrument(
    code="cadss",
    name="Clinician-Administered Dissociative States Scale (CADSS), score entry",
    version="Bremner et al. 1998",
    kind=Kind.SCORE_ENTRY,
    recall_period="now (during or after the session)",
    items=(
        Item(
            "version",
            "Version used",
            tuple(Option(count, label) for count, label in CADSS_VERSIONS.items()),
        ),
        Item("total", "Total score", _options(*(str(n) for n in range(4 * 27 + 1)))),
    ),
    total_range=None,
    bands=(),
    scoring_rule="Items rated 0–4; the total is entered with the version it was taken on.",
    missing_rule="Version and total are required; the total must fit the version (4 per item).",
    licence="Author-held (Bremner). Not reproduced: enter the total from the practice's form.",
    text_allowed=False,
    source="Bremner et al. 1998; versions: clinical-facts §5.2 (uncertain)",
    notes=("No cut-off is standard; none is applied.",),
)

MOAAS = Instrument(
    code="moaas",
    name="Modified Observer's Assessment of Alertness/Sedation (MOAA/S)",
    version="Chernik et al. 1990 (0–5)",
    kind=Kind.SCORE_ENTRY,
    recall_period="now",
    items=(
        Item(
            "total",
            "Score",
            (
                Option(0, "0: does not respond to pain"),
                Option(1, "1: does not respond to mild prodding or shaking"),
                Option(2, "2: responds only after mild prodding or shaking"),
                Option(3, "3: responds only after name is called loudly or repeatedly"),
                Option(4, "4: lethargic response to name spoken in normal tone"),
                Option(5, "5: responds readily to name spoken in normal tone"),
            ),
        ),
    ),
    total_range=(0, 5),
    bands=(
        Band(0, 3, "Moderate or greater sedation"),
        Band(4, 4, "Mild sedation"),
        Band(5, 5, "Alert"),
    ),
    scoring_rule="A single observed level, 0–5 (some papers use reversed variants; this is 0–5).",
    missing_rule="The score is required.",
    licence="Published scale (Chernik et al. 1990).",
    text_allowed=True,
    source="Chernik 1990; sedation levels: Spravato programme, clinical-facts §5.2",
)

INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument
    for instrument in (PHQ9, GAD7, QIDS_SR16, PCL5, ACE, CSSRS_SCREENER, MADRS, BDI2, CADSS, MOAAS)
}


def get(code: str) -> Instrument | None:
    return INSTRUMENTS.get(code)
