"""A client with a complete, eligible screen, for service, page and API tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.clients.services import weight_record
from kapcare.core.time import practice_today
from kapcare.medications.models import Medication
from kapcare.screening import questions, services
from kapcare.screening.models import ScreeningDecision
from kapcare.screening.selectors import screening_for

CLEAN_ANSWERS = {
    q.code: ("none" if "none" in dict(q.choices) else "no")
    for q in questions.QUESTIONS
    if q.kind in ("yes_no", "choice") and q.asked_if is None
} | {"height_cm": "175", "pregnancy": "not_applicable"}


def trial_fields(name: str, dose: str, start: dt.date, weeks: int, **extra: object) -> dict:
    return {
        "medication": Medication.objects.get(name=name),
        "drug_text": "",
        "max_daily_dose_mg": Decimal(dose),
        "started_on": start,
        "ended_on": start + dt.timedelta(weeks=weeks),
        "adherence": "good",
        "outcome": "non_response",
        "note": "",
    } | extra


def make_eligible(client: Client, actor: User) -> None:
    today = practice_today()
    start = today - dt.timedelta(days=400)
    services.episode_start(actor=actor, client=client, started_on=start)
    services.history_save(
        actor=actor,
        client=client,
        kind="trial",
        fields=trial_fields("Sertraline", "150", start + dt.timedelta(days=10), 10),
    )
    services.history_save(
        actor=actor,
        client=client,
        kind="trial",
        fields=trial_fields("Venlafaxine", "225", start + dt.timedelta(days=100), 12),
    )
    weight_record(actor=actor, client=client, measured_on=today, weight_kg=Decimal(70))
    services.bp_record(actor=actor, client=client, systolic=122, diastolic=78)
    services.answers_save(actor=actor, client=client, answers=CLEAN_ANSWERS)


def clear(client: Client, prescriber: User, decision: str = "cleared") -> ScreeningDecision:
    return services.decision_record(
        actor=prescriber,
        client=client,
        decision=decision,
        note="Reviewed history and findings with the client.",
        conditions="BP re-checked before each dose."
        if decision == "cleared_with_conditions"
        else "",
        seen_signature=screening_for(client).result.signature(),
    )
