"""Screening in the demo practice: a handful of demo clients whose ketamine screening stands at
each point a real practice meets: cleared, cleared with conditions, waiting for a prescriber's
review, not eligible, a clearance withdrawn by new information, and half done.

Everything is entered through kapcare.screening.services by the client's own care team (the
prescriber takes the history and decides, the nurse takes the blood pressure, the therapist adds
the psychotherapy history), so each fact, screen result and decision is audited as in real use.
Dates are in the past of the practice's today; the decisions themselves, like the screen results
the services store, are stamped with the moment the demo is built.

Deterministic: the clients are chosen by status and care team in creation order, and every
value below is fixed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    SexAtBirth,
    WeightMeasurement,
)
from kapcare.core.time import now as clock_now
from kapcare.core.time import practice_today, practice_zone
from kapcare.medications.models import Medication
from kapcare.safety.models import RiskAssessment, SafetyFlag
from kapcare.screening import questions
from kapcare.screening.models import Decision
from kapcare.screening.selectors import screening_for
from kapcare.screening.services import (
    answers_save,
    bp_record,
    decision_record,
    episode_start,
    history_save,
    medication_add,
)

ACTIVE_OR_MAINTENANCE = (ClientStatus.ACTIVE, ClientStatus.MAINTENANCE)
MAINTENANCE_OR_ACTIVE = (ClientStatus.MAINTENANCE, ClientStatus.ACTIVE)
IN_SCREENING = (ClientStatus.SCREENING,)


@dataclass(frozen=True)
class Team:
    prescriber: User
    therapist: User | None
    nurse: User | None

    @property
    def vitals(self) -> User:
        """Who takes the blood pressure: the client's nurse, or their prescriber before a nurse
        joins the team (clients still in screening)."""
        return self.nurse or self.prescriber

    @property
    def talking(self) -> User:
        return self.therapist or self.prescriber


@dataclass
class Context:
    client: Client
    team: Team
    today: dt.date
    latest: dt.datetime  # no reading is taken after this moment
    drugs: dict[str, Medication]

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def at(self, days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
        when = dt.datetime.combine(
            self.day(days_ago), dt.time(hour, minute), tzinfo=practice_zone()
        )
        return min(when, self.latest)


# ---------------------------------------------------------------------------------------------
# Building blocks


def _episode(ctx: Context, days_ago: int, note: str) -> None:
    episode_start(
        actor=ctx.team.prescriber, client=ctx.client, started_on=ctx.day(days_ago), note=note
    )


def _trial(
    ctx: Context,
    drug: str,
    mg: str,
    start_ago: int,
    weeks: int | None,
    outcome: str,
    note: str,
    adherence: str = "good",
) -> int:
    """An antidepressant trial from `start_ago` days ago, lasting `weeks` (None: ongoing).
    Returns how many days ago it ended (0 if ongoing)."""
    started = ctx.day(start_ago)
    ended = None if weeks is None else started + dt.timedelta(weeks=weeks)
    history_save(
        actor=ctx.team.prescriber,
        client=ctx.client,
        kind="trial",
        fields={
            "medication": ctx.drugs[drug],
            "max_daily_dose_mg": decimal.Decimal(mg),
            "started_on": started,
            "ended_on": ended,
            "adherence": adherence,
            "outcome": outcome,
            "note": note,
        },
    )
    return 0 if ended is None else (ctx.today - ended).days


def _augmentation(
    ctx: Context, drug: str, start_ago: int, weeks: int, outcome: str, note: str
) -> None:
    started = ctx.day(start_ago)
    history_save(
        actor=ctx.team.prescriber,
        client=ctx.client,
        kind="augmentation",
        fields={
            "medication": ctx.drugs[drug],
            "started_on": started,
            "ended_on": started + dt.timedelta(weeks=weeks),
            "outcome": outcome,
            "note": note,
        },
    )


def _psychotherapy(
    ctx: Context, modality: str, sessions: int, start_ago: int, weeks: int, outcome: str
) -> None:
    started = ctx.day(start_ago)
    history_save(
        actor=ctx.team.talking,
        client=ctx.client,
        kind="psychotherapy",
        fields={
            "modality": modality,
            "sessions": sessions,
            "started_on": started,
            "ended_on": started + dt.timedelta(weeks=weeks),
            "outcome": outcome,
        },
    )


def _medication(
    ctx: Context,
    drug: str,
    amount: str,
    frequency: str,
    start_ago: int,
    note: str = "",
    actor: User | None = None,
) -> None:
    medication_add(
        actor=actor or ctx.team.prescriber,
        client=ctx.client,
        fields={
            "medication": ctx.drugs[drug],
            "dose_amount": decimal.Decimal(amount),
            "dose_unit": "mg",
            "frequency": frequency,
            "started_on": ctx.day(start_ago),
            "note": note,
        },
    )


def _bp(
    ctx: Context,
    systolic: int,
    diastolic: int,
    heart_rate: int,
    taken_at: dt.datetime,
    note: str = "",
) -> None:
    bp_record(
        actor=ctx.team.vitals,
        client=ctx.client,
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=heart_rate,
        taken_at=taken_at,
        note=note,
    )


def _height_cm(client: Client) -> int:
    """A height that, with the latest weight on the chart, gives a BMI in the mid-20s to low 30s
    (well under the review level for every weight the generator makes)."""
    weight = client.weights.order_by("-measured_on", "-id").values_list("weight_kg", flat=True)[0]
    return min(max(round(math.sqrt(float(weight) / 27) * 100), 152), 193)


def _pregnancy(client: Client, today: dt.date) -> str:
    if client.sex_at_birth == SexAtBirth.MALE or client.age_on(today) >= 55:
        return "not_applicable"
    return "no"


def _nothing_found(ctx: Context, **overrides: str) -> dict[str, str]:
    """Every question answered with the answer that finds nothing, then `overrides`."""
    answers: dict[str, str] = {}
    for question in questions.QUESTIONS:
        if question.asked_if is not None:
            continue
        if question.kind == "yes_no":
            answers[question.code] = "no"
        elif question.kind == "choice":
            choices = dict(question.choices)
            answers[question.code] = "none" if "none" in choices else "no"
    answers["height_cm"] = str(_height_cm(ctx.client))
    answers["pregnancy"] = _pregnancy(ctx.client, ctx.today)
    answers.update(overrides)
    return answers


def _answers(ctx: Context, answers: dict[str, str]) -> None:
    answers_save(actor=ctx.team.prescriber, client=ctx.client, answers=answers)


def _decide(ctx: Context, decision: str, note: str, conditions: str = "") -> None:
    decision_record(
        actor=ctx.team.prescriber,
        client=ctx.client,
        decision=decision,
        note=note,
        conditions=conditions,
        seen_signature=screening_for(ctx.client).result.signature(),
    )


def _treatment_resistant(ctx: Context, episode_ago: int = 640) -> None:
    """The history most KAP referrals bring: an episode of well over a year, sertraline then
    venlafaxine at adequate doses, aripiprazole augmentation, and a course of CBT."""
    _episode(
        ctx,
        episode_ago,
        "Recurrent MDD; current episode began after a job loss, per client and referral letter.",
    )
    ended = _trial(
        ctx,
        "Sertraline",
        "150",
        episode_ago - 35,
        10,
        "non_response",
        "Titrated to 150 mg over 3 weeks; PHQ-9 unchanged at 10 weeks. Per pharmacy records.",
    )
    start = ended - 14
    _trial(
        ctx,
        "Venlafaxine",
        "225",
        start,
        12,
        "partial_response",
        "XR; some improvement in energy, mood still low. Tapered off at referral.",
    )
    _augmentation(
        ctx,
        "Aripiprazole",
        start - 28,
        8,
        "non_response",
        "5 mg added to venlafaxine by the referring psychiatrist; stopped for akathisia, "
        "no benefit.",
    )
    _psychotherapy(
        ctx,
        "CBT",
        16,
        episode_ago - 60,
        20,
        "Engaged well; behavioural activation helped routine, mood largely unchanged.",
    )


# ---------------------------------------------------------------------------------------------
# The scenarios, one client each


def _cleared(ctx: Context) -> None:
    """Eligible, cleared outright; hypertension controlled on amlodipine (a prompt only)."""
    _treatment_resistant(ctx, episode_ago=700)
    _medication(ctx, "Amlodipine", "5", "once_daily", 900, "Prescribed by PCP.")
    _answers(ctx, _nothing_found(ctx, hypertension="controlled"))
    _bp(ctx, 122, 78, 72, ctx.at(9, 10, 15), "Seated, left arm, after 5 minutes' rest.")
    _decide(
        ctx,
        Decision.CLEARED,
        "Reviewed history with client; BP controlled on amlodipine (122/78 at intake). Two "
        "adequate failed trials this episode (sertraline 150 mg x 10 wk, venlafaxine XR 225 mg x "
        "12 wk) plus aripiprazole augmentation: TRD established. No psychosis, mania, SUD or "
        "vascular contraindication. Cleared for sublingual KAP; take amlodipine as usual on "
        "session mornings.",
    )


def _cleared_with_conditions(ctx: Context) -> None:
    """Eligible, three failed trials and a course of ECT; a night-time lorazepam prompts the
    prescriber, who clears with conditions."""
    episode_ago = 820
    _episode(ctx, episode_ago, "Third lifetime episode; insidious onset over the winter.")
    ended = _trial(
        ctx,
        "Escitalopram",
        "20",
        episode_ago - 20,
        8,
        "non_response",
        "Adherent per client and pill counts.",
    )
    ended = _trial(
        ctx, "Duloxetine", "90", ended - 10, 10, "non_response", "Nausea early on, settled."
    )
    ended = _trial(
        ctx,
        "Mirtazapine",
        "45",
        ended - 14,
        12,
        "partial_response",
        "Sleep improved; mood and anhedonia did not. Weight gain 4 kg.",
    )
    history_save(
        actor=ctx.team.prescriber,
        client=ctx.client,
        kind="ect",
        fields={
            "sessions": 8,
            "laterality": "right_unilateral",
            "started_on": ctx.day(ended - 21),
            "ended_on": ctx.day(ended - 48),
            "outcome": "partial_response",
            "note": "Stopped by the client after 8 sessions for memory complaints.",
        },
    )
    _trial(ctx, "Vortioxetine", "20", 70, None, "ongoing", "Current; continue through KAP course.")
    _medication(ctx, "Vortioxetine", "20", "once_daily", 70)
    _medication(
        ctx,
        "Lorazepam",
        "0.5",
        "at_night",
        400,
        "For sleep; client uses it most nights.",
    )
    _psychotherapy(
        ctx, "IPT", 12, episode_ago - 100, 14, "Helpful for role transition; depression persisted."
    )
    _answers(ctx, _nothing_found(ctx))
    _bp(ctx, 122, 78, 66, ctx.at(16, 14, 40))
    _decide(
        ctx,
        Decision.CLEARED_WITH_CONDITIONS,
        "Three adequate failed antidepressant trials this episode (escitalopram, duloxetine, "
        "mirtazapine) and a partial RUL ECT course: TRD established, MSM moderate. Lorazepam "
        "0.5 mg at night is well below the review level; discussed added sedation and a possible "
        "blunting of response. No other contraindication. Cleared for KAP with the conditions "
        "below.",
        conditions="Omit lorazepam the night before and the morning of each dosing session. "
        "A named adult drives the client home. Repeat BP before each session; hold dosing if "
        "above 140/90.",
    )


def _review_cleared(ctx: Context) -> None:
    """Needs prescriber review (bipolar II history), reviewed and cleared with conditions."""
    _treatment_resistant(ctx, episode_ago=560)
    _medication(
        ctx,
        "Lamotrigine",
        "200",
        "once_daily",
        1500,
        "Started by outpatient psychiatrist after the hypomanic episode.",
    )
    _answers(ctx, _nothing_found(ctx, bipolar="yes"))
    _bp(ctx, 118, 76, 70, ctx.at(21, 9, 30))
    _decide(
        ctx,
        Decision.CLEARED_WITH_CONDITIONS,
        "Bipolar II: one hypomanic episode six years ago, none since on lamotrigine; currently "
        "euthymic between depressions, no psychotic features ever. Depressive episode of 18 "
        "months with two failed adequate trials. Discussed switch risk and that lamotrigine may "
        "dampen dissociation; client wishes to proceed. Benefit judged to outweigh risk.",
        conditions="Continue lamotrigine 200 mg. Therapist screens for hypomanic symptoms at "
        "each integration session; stop dosing and contact the prescriber if any appear. "
        "Outpatient psychiatrist informed and co-managing.",
    )


def _invalidated(ctx: Context) -> None:
    """Cleared, then an MAO inhibitor started elsewhere is entered: the screen result changes
    and the clearance is withdrawn until a prescriber looks again."""
    _treatment_resistant(ctx, episode_ago=610)
    _answers(ctx, _nothing_found(ctx))
    _bp(ctx, 124, 80, 74, ctx.at(45, 11, 0))
    _decide(
        ctx,
        Decision.CLEARED,
        "TRD established (sertraline, venlafaxine; aripiprazole augmentation). Medically well, "
        "BP normal, no interacting medications. Cleared for IM KAP in clinic.",
    )
    _medication(
        ctx,
        "Phenelzine",
        "15",
        "three_times_daily",
        6,
        "Started by outside psychiatrist; client told the nurse at today's check-in.",
        actor=ctx.team.vitals,
    )


def _review_waiting(ctx: Context) -> None:
    """Needs prescriber review: blood pressure above the hold level at intake. Not decided."""
    _treatment_resistant(ctx, episode_ago=500)
    _answers(ctx, _nothing_found(ctx))
    _bp(ctx, 158, 96, 84, ctx.at(3, 10, 0), "First reading; client rushed from parking.")
    _bp(
        ctx,
        152,
        94,
        80,
        ctx.at(3, 10, 12),
        "Repeat after 10 minutes' rest. No known hypertension; PCP letter requested.",
    )


def _review_not_trd(ctx: Context) -> None:
    """Needs prescriber review: only one failed adequate trial. Decided: not cleared yet."""
    _episode(ctx, 260, "First episode; onset after bereavement, worsening since the spring.")
    _trial(ctx, "Escitalopram", "20", 230, 9, "non_response", "Adherent; no change in PHQ-9.")
    _trial(ctx, "Sertraline", "100", 28, None, "ongoing", "Started 4 weeks ago by PCP.")
    _medication(ctx, "Sertraline", "100", "once_daily", 28)
    _psychotherapy(
        ctx, "Grief-focused therapy", 8, 200, 10, "Some benefit; still meets MDD criteria."
    )
    _answers(ctx, _nothing_found(ctx))
    _bp(ctx, 116, 74, 68, ctx.at(12, 15, 20))
    _decide(
        ctx,
        Decision.NOT_CLEARED,
        "One adequate failed trial this episode (escitalopram 20 mg x 9 wk); sertraline 100 mg "
        "started 4 weeks ago is not yet an adequate trial. TRD not established. Recommend "
        "completing sertraline at a therapeutic dose for at least 6 more weeks, then re-screen. "
        "Discussed with client, who agrees; therapy continues meanwhile.",
    )


def _not_eligible(ctx: Context) -> None:
    """Not eligible: a known intracranial aneurysm (absolute). Decided: not cleared."""
    _treatment_resistant(ctx, episode_ago=760)
    _answers(ctx, _nothing_found(ctx, aneurysm_avm="yes"))
    _bp(ctx, 134, 84, 76, ctx.at(18, 13, 5))
    _decide(
        ctx,
        Decision.NOT_CLEARED,
        "Client reports a 6 mm anterior communicating artery aneurysm found on MRA three "
        "years ago, under neurosurgical surveillance (report received from PCP). Ketamine's "
        "pressor effect is an unacceptable risk: not cleared for KAP. Discussed with client; "
        "referred back to the treating psychiatrist to consider other options (e.g. TMS).",
    )


def _incomplete(ctx: Context) -> None:
    """Incomplete: the history started at the first visit, half the questions answered, no
    blood pressure yet."""
    _episode(ctx, 430, "Per client; onset after a house move and the end of a long relationship.")
    _trial(
        ctx,
        "Fluoxetine",
        "40",
        380,
        12,
        "non_response",
        "Dose and dates per client; pharmacy records requested.",
    )
    _psychotherapy(ctx, "CBT", 10, 300, 12, "Attended 10 of 12 planned sessions.")
    first_visit = {
        q.code
        for q in questions.QUESTIONS
        if q.group in (questions.PSYCHIATRIC, questions.VASCULAR) and not q.asked_if
    }
    _answers(
        ctx, {code: value for code, value in _nothing_found(ctx).items() if code in first_visit}
    )


@dataclass(frozen=True)
class Scenario:
    name: str
    statuses: tuple[ClientStatus, ...]
    build: Callable[[Context], None]


# In the order clients are handed out, so that a small demo keeps the most telling ones.
SCENARIOS = (
    Scenario("cleared", ACTIVE_OR_MAINTENANCE, _cleared),
    Scenario("review_waiting", IN_SCREENING, _review_waiting),
    Scenario("not_eligible", IN_SCREENING, _not_eligible),
    Scenario("incomplete", IN_SCREENING, _incomplete),
    Scenario("invalidated", MAINTENANCE_OR_ACTIVE, _invalidated),
    Scenario("cleared_with_conditions", ACTIVE_OR_MAINTENANCE, _cleared_with_conditions),
    Scenario("review_cleared", ACTIVE_OR_MAINTENANCE, _review_cleared),
    Scenario("review_not_trd", IN_SCREENING, _review_not_trd),
)

DRUGS = (
    "Sertraline",
    "Venlafaxine",
    "Escitalopram",
    "Duloxetine",
    "Mirtazapine",
    "Vortioxetine",
    "Fluoxetine",
    "Phenelzine",
    "Aripiprazole",
    "Lorazepam",
    "Amlodipine",
    "Lamotrigine",
)


def _candidates() -> QuerySet[Client]:
    """Clients with a prescriber on their care team, a weight on the chart, and no safety flag
    or risk assessment (which the screen would count)."""
    prescribed = CareTeamMember.objects.filter(
        client=OuterRef("pk"), role=CareTeamRole.PRESCRIBER, ended_at__isnull=True
    )
    weighed = WeightMeasurement.objects.filter(client=OuterRef("pk"))
    return (
        Client.objects.filter(Exists(prescribed), Exists(weighed))
        .exclude(Exists(SafetyFlag.objects.filter(client=OuterRef("pk"))))
        .exclude(Exists(RiskAssessment.objects.filter(client=OuterRef("pk"))))
    )


def _pick(
    candidates: QuerySet[Client], statuses: tuple[ClientStatus, ...], taken: list[int]
) -> Client | None:
    """The first client not yet taken in the first of `statuses` that has one."""
    for status in statuses:
        client = candidates.filter(status=status).exclude(pk__in=taken).order_by("id").first()
        if client is not None:
            return client
    return None


def _team(client: Client) -> Team:
    by_role: dict[str, User] = {}
    members = client.care_team.filter(ended_at__isnull=True).select_related("staff")
    for member in members.order_by("id"):
        by_role.setdefault(member.role, member.staff)
    return Team(
        prescriber=by_role[CareTeamRole.PRESCRIBER],
        therapist=by_role.get(CareTeamRole.PRIMARY_THERAPIST),
        nurse=by_role.get(CareTeamRole.NURSE),
    )


def create_screening_demo(*, now: dt.datetime) -> dict[str, Client]:
    """Screen a few demo clients, one per scenario, as far as the practice has clients for them.
    Returns the client given to each scenario."""
    today = min(practice_today(), timezone.localdate(now, practice_zone()))
    latest = min(now, clock_now()) - dt.timedelta(minutes=30)
    drugs = {m.name: m for m in Medication.objects.filter(name__in=DRUGS)}
    candidates = _candidates()
    chosen: dict[str, Client] = {}
    for scenario in SCENARIOS:
        client = _pick(candidates, scenario.statuses, [c.pk for c in chosen.values()])
        if client is None:
            continue
        context = Context(
            client=client, team=_team(client), today=today, latest=latest, drugs=drugs
        )
        scenario.build(context)
        chosen[scenario.name] = client
    return chosen
