"""The demo practice's screening: a client at each stage, entered through the services."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from kapcare.accounts.models import User
from kapcare.clients.models import Client, ClientStatus, SexAtBirth
from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.intake.models import Inquiry, InquiryStatus
from kapcare.parameters.services import can_sign_off
from kapcare.screening import rules
from kapcare.screening.models import (
    AntidepressantTrial,
    BloodPressureReading,
    Decision,
    Episode,
    ScreeningDecision,
)
from kapcare.screening.selectors import Screening, screening_for
from kapcare.synthetic.demo import create_demo_practice
from kapcare.synthetic.demo_screening import SCENARIOS, create_screening_demo

CLEARANCES = (Decision.CLEARED, Decision.CLEARED_WITH_CONDITIONS)


def _build_demo(tmp_path: Path) -> tuple[dict[str, Screening], str]:
    """The demo as `./run` builds it (one build for every check below: it takes seconds)."""
    accounts = tmp_path / "demo-accounts.txt"
    call_command("demo", clients=40, seed=2026, accounts_file=str(accounts), stdout=StringIO())
    clients = Client.objects.filter(episodes__isnull=False).distinct().order_by("id")
    screened = {f"{c.legal_given_names} {c.legal_family_name}": screening_for(c) for c in clients}
    return screened, accounts.read_text()


def test_the_demo_screens_a_client_at_each_stage(db: None, tmp_path: Path) -> None:
    screened, accounts = _build_demo(tmp_path)
    assert len(screened) == len(SCENARIOS)
    _check_counts(screened)
    _check_cleared(screened)
    _check_needs_review(screened)
    _check_not_eligible(screened)
    _check_withdrawn()
    _check_incomplete(screened)
    _check_facts_and_audit(screened)
    _check_medical_director(accounts)


def _by_status(screened: dict[str, Screening], status: str) -> list[Screening]:
    return [s for s in screened.values() if s.result.status == status]


def _codes(screening: Screening) -> set[str]:
    return {finding.code for finding in screening.result.findings}


def _check_counts(screened: dict[str, Screening]) -> None:
    counts = Counter(s.result.status for s in screened.values())
    assert counts[rules.ELIGIBLE] >= 3  # two cleared, one whose clearance was withdrawn
    assert counts[rules.NEEDS_REVIEW] >= 2
    assert counts[rules.NOT_ELIGIBLE] >= 1
    assert counts[rules.INCOMPLETE] >= 1


def _check_cleared(screened: dict[str, Screening]) -> None:
    cleared = [s for s in _by_status(screened, rules.ELIGIBLE) if s.clearance_valid]
    assert len(cleared) >= 2
    for screening in cleared:
        decision = screening.decision
        assert decision is not None
        assert decision.decision in CLEARANCES
        assert decision.decided_by.is_prescriber
        assert screening.client.care_team.filter(
            staff=decision.decided_by, role="prescriber", ended_at__isnull=True
        ).exists()
        assert screening.client.status in (ClientStatus.ACTIVE, ClientStatus.MAINTENANCE)
        assert screening.resistance.is_trd
        assert 2 <= screening.resistance.failures <= 3
        assert screening.episode is not None
        assert screening.episode.started_on < practice_today() - dt.timedelta(days=365)
        assert screening.augmentations or screening.ect_courses
        assert screening.result.bmi is not None
        assert screening.result.bmi < 35
        assert not screening.result.missing
        assert (screening.bp_readings[0].systolic, screening.bp_readings[0].diastolic) == (
            122,
            78,
        )
    plain = [s for s in cleared if s.decision and s.decision.decision == Decision.CLEARED]
    with_conditions = [
        s for s in cleared if s.decision and s.decision.decision == Decision.CLEARED_WITH_CONDITIONS
    ]
    assert plain
    assert with_conditions
    benzodiazepine = with_conditions[0]
    assert "interaction.benzodiazepine" in _codes(benzodiazepine)
    assert benzodiazepine.decision is not None
    assert benzodiazepine.decision.conditions
    assert any(m.drug_name == "Lorazepam" for m in benzodiazepine.medications)


def _check_needs_review(screened: dict[str, Screening]) -> None:
    review = _by_status(screened, rules.NEEDS_REVIEW)
    waiting = [s for s in review if s.decision is None]
    decided = [s for s in review if s.decision is not None]
    assert waiting
    assert decided
    assert any("bp_high" in _codes(s) for s in waiting)
    assert waiting[0].bp_readings[0].systolic == 152
    assert {"bipolar", "not_trd"} <= {code for s in decided for code in _codes(s)}
    # A relative finding may be cleared (conditions written) or not; both appear.
    assert {s.decision.decision for s in decided if s.decision} == {
        Decision.CLEARED_WITH_CONDITIONS,
        Decision.NOT_CLEARED,
    }
    for screening in review:
        assert not any(f.klass == rules.ABSOLUTE for f in screening.result.findings)


def _check_not_eligible(screened: dict[str, Screening]) -> None:
    (screening,) = _by_status(screened, rules.NOT_ELIGIBLE)
    assert "aneurysm_avm" in _codes(screening)
    decision = screening.decision
    assert decision is not None
    assert decision.decision == Decision.NOT_CLEARED
    assert "aneurysm" in decision.note
    assert not screening.clearance_valid


def _check_withdrawn() -> None:
    """A clearance withdrawn by a medication entered after it."""
    withdrawn = ScreeningDecision.objects.filter(invalidated_at__isnull=False)
    assert withdrawn.count() == 1
    decision = withdrawn.get()
    assert decision.decision == Decision.CLEARED
    assert decision.invalidated_by_run is not None
    assert decision.invalidated_at is not None
    assert decision.invalidated_at >= decision.decided_at
    assert "MAO inhibitors" in decision.invalidation_reason
    screening = screening_for(decision.client)
    assert not screening.clearance_valid
    assert "interaction.maoi" in _codes(screening)
    assert "interaction.maoi" not in {f["code"] for f in decision.screen_run.findings}
    assert AuditEvent.objects.filter(
        action="screening.clearance_invalidated", subject_public_id=decision.public_id
    ).exists()


def _check_incomplete(screened: dict[str, Screening]) -> None:
    (screening,) = _by_status(screened, rules.INCOMPLETE)
    assert screening.trials
    assert screening.episode is not None
    assert screening.answers
    assert not screening.bp_readings
    assert "An intake blood pressure reading" in screening.result.missing
    assert screening.decision is None


def _check_facts_and_audit(screened: dict[str, Screening]) -> None:
    today = practice_today()
    assert not Episode.objects.filter(started_on__gt=today).exists()
    assert not AntidepressantTrial.objects.filter(ended_on__gt=today).exists()
    assert not BloodPressureReading.objects.filter(taken_at__gt=now()).exists()
    for screening in screened.values():
        client = screening.client
        assert screening.result.bmi is None or screening.result.bmi < 35
        assert client.sex_at_birth != SexAtBirth.MALE or screening.answers.get("pregnancy") in (
            None,
            "not_applicable",
        )
        actions = set(
            AuditEvent.objects.filter(client_public_id=client.public_id).values_list(
                "action", flat=True
            )
        )
        assert {"screening.episode", "screening.trial_add", "screening.answers"} <= actions
        assert "screening.run" in actions
    screening_events = AuditEvent.objects.filter(action__startswith="screening.")
    assert set(screening_events.values_list("channel", flat=True)) == {"cli"}
    decisions = ScreeningDecision.objects.count()
    assert AuditEvent.objects.filter(action="screening.decision").count() == decisions == 6


def _check_medical_director(accounts: str) -> None:
    directors = [user.username for user in User.objects.all() if can_sign_off(user)]
    assert directors == ["prescriber"]
    (line,) = [line for line in accounts.splitlines() if line.startswith("prescriber\t")]
    assert "medical director" in line


def test_a_small_demo_screens_the_clients_it_has(db: None) -> None:
    """With few clients (and a fixed day in the past) the scenarios without a client are left
    out; the rest are still built, by each client's own prescriber."""
    chosen = create_screening_demo(now=dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC))
    assert chosen == {}
    create_demo_practice(clients=12, seed=3, now=dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC))
    screened = Client.objects.filter(episodes__isnull=False).distinct()
    assert 0 < screened.count() < len(SCENARIOS)
    for client in screened:
        assert client.care_team.filter(role="prescriber", ended_at__isnull=True).exists()
        decision = client.screening_decisions.first()
        if decision is not None:
            assert client.care_team.filter(staff=decision.decided_by).exists()
    assert not Episode.objects.filter(started_on__gt=dt.date(2026, 3, 2)).exists()


def test_the_demo_gives_the_front_desk_inquiries_to_work_on(db: None, tmp_path: Path) -> None:
    call_command(
        "demo", clients=12, seed=3, accounts_file=str(tmp_path / "a.txt"), stdout=StringIO()
    )
    statuses = sorted(Inquiry.objects.values_list("status", flat=True))
    assert statuses.count(InquiryStatus.NEW) == 3
    booked = Inquiry.objects.exclude(consultation_at=None).get()
    assert booked.consultation_at > timezone.now()
