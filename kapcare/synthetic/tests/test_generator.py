"""Synthetic clients: deterministic, plausible, fictional, and within the record's rules."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from kapcare.clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    SexAtBirth,
    StatusChange,
    WeightMeasurement,
)
from kapcare.core.models import AuditEvent
from kapcare.synthetic.generator import (
    DISCHARGE_REASONS,
    IDENTITIES,
    OTHER_IDENTITIES,
    STATUS_MIX,
    GeneratedCounts,
    PracticeStaff,
    generate_clients,
    status_sequence,
)
from kapcare.testing.factories import make_staff

NOW = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)
FICTIONAL_PHONE = re.compile(r"^\([2-9][0-9]{2}\) 555-01[0-9]{2}$")
PATHWAY_ORDER = list(ClientStatus)


@pytest.fixture
def staff(db: None) -> PracticeStaff:
    return PracticeStaff(
        therapists=[make_staff(username=f"t{i}", therapist=True) for i in range(2)],
        prescribers=[make_staff(username=f"p{i}", prescriber=True) for i in range(2)],
        nurses=[make_staff(username="n0", nurse=True)],
        front_desk=[make_staff(username="f0", front_desk=True)],
    )


class _Rollback(Exception):
    pass


def _snapshot() -> list[tuple[Any, ...]]:
    """Everything the generator wrote that does not depend on the wall clock or uuid4."""
    rows = []
    for client in Client.objects.prefetch_related("status_changes", "care_team", "weights"):
        rows.append(
            (
                client.legal_given_names,
                client.legal_family_name,
                client.preferred_name,
                client.pronouns,
                client.date_of_birth,
                client.sex_at_birth,
                client.gender_identity,
                client.email,
                client.phone,
                client.address,
                client.preferred_channel,
                client.emergency_contact_name,
                client.emergency_contact_phone,
                client.referring_provider,
                client.access_needs,
                client.status,
                client.status_changed_at,
                client.created_at,
                sorted(
                    (c.changed_at, c.from_status, c.to_status, c.reason)
                    for c in client.status_changes.all()
                ),
                sorted(
                    (m.staff.username, m.role, m.started_at)
                    for m in client.care_team.select_related("staff")
                ),
                sorted((w.measured_on, w.weight_kg) for w in client.weights.all()),
            )
        )
    return sorted(rows)


def _generate_and_roll_back(staff: PracticeStaff, seed: int, count: int = 25) -> list[Any]:
    """Generate into an otherwise empty database, take a snapshot, and undo it all."""
    assert not Client.objects.exists()
    snapshot: list[Any] = []
    try:
        with transaction.atomic():
            generate_clients(staff=staff, count=count, seed=seed, now=NOW)
            snapshot = _snapshot()
            raise _Rollback
    except _Rollback:
        pass
    assert not Client.objects.exists()
    return snapshot


def test_same_seed_and_now_give_the_same_practice(staff: PracticeStaff) -> None:
    first = _generate_and_roll_back(staff, seed=11)
    second = _generate_and_roll_back(staff, seed=11)
    assert len(first) == 25
    assert first == second


def test_a_different_seed_gives_different_people(staff: PracticeStaff) -> None:
    first = _generate_and_roll_back(staff, seed=11)
    other = _generate_and_roll_back(staff, seed=12)
    names = {(row[0], row[1]) for row in first}
    other_names = {(row[0], row[1]) for row in other}
    assert names != other_names
    assert len(names & other_names) < 5


@given(count=st.integers(min_value=0, max_value=60), seed=st.integers())
def test_status_sequence_length_and_coverage(count: int, seed: int) -> None:
    statuses = status_sequence(count, random.Random(seed))
    assert len(statuses) == count
    assert all(status in ClientStatus for status in statuses)
    if count >= len(ClientStatus):
        assert set(statuses) == set(ClientStatus)


@given(seed=st.integers())
@settings(max_examples=25)
def test_status_sequence_is_deterministic_for_a_seed(seed: int) -> None:
    assert status_sequence(40, random.Random(seed)) == status_sequence(40, random.Random(seed))


def test_status_sequence_follows_the_mix() -> None:
    counts = Counter(status_sequence(400, random.Random(1)))
    total = sum(STATUS_MIX.values())
    for status, weight in STATUS_MIX.items():
        assert counts[status] == pytest.approx(400 * weight / total, abs=2)


@pytest.fixture
def generated(staff: PracticeStaff) -> GeneratedCounts:
    return generate_clients(staff=staff, count=40, seed=2026, now=NOW)


def test_counts_match_what_was_written(generated: GeneratedCounts) -> None:
    assert generated.clients == Client.objects.count() == 40
    assert generated.care_team_members == CareTeamMember.objects.count()
    assert generated.status_changes == StatusChange.objects.count()
    assert generated.weights == WeightMeasurement.objects.count()
    assert generated.weights > 0
    assert sum(generated.by_status.values()) == 40
    assert set(generated.by_status) == set(ClientStatus)
    actual = Counter(Client.objects.values_list("status", flat=True))
    assert {str(k): v for k, v in generated.by_status.items()} == dict(actual)


def test_generation_is_audited_once(staff: PracticeStaff) -> None:
    generate_clients(staff=staff, count=7, seed=5, now=NOW, batch_size=3)
    assert Client.objects.count() == 7
    event = AuditEvent.objects.get(action="synthetic.generate")
    assert event.detail == {"clients": 7, "seed": 5}


def test_zero_clients(staff: PracticeStaff) -> None:
    counts = generate_clients(staff=staff, count=0, seed=1, now=NOW)
    assert counts.clients == 0
    assert not Client.objects.exists()


def test_status_histories_are_consistent(generated: GeneratedCounts) -> None:
    for client in Client.objects.prefetch_related("status_changes"):
        changes = sorted(client.status_changes.all(), key=lambda c: c.changed_at)
        assert changes, client
        assert changes[0].to_status == ClientStatus.INQUIRY
        assert changes[0].from_status == ""
        assert changes[-1].to_status == client.status
        assert client.status_changed_at == changes[-1].changed_at
        assert client.created_at == changes[0].changed_at
        times = [c.changed_at for c in changes]
        assert times == sorted(set(times)), "timestamps strictly increase"
        assert times[-1] <= NOW
        assert all(t.tzinfo is not None for t in times)
        for previous, change in itertools.pairwise(changes):
            assert change.from_status == previous.to_status
        path = [c.to_status for c in changes]
        if client.status == ClientStatus.DISCHARGED:
            assert path.count(ClientStatus.DISCHARGED) == 1
            assert changes[-1].reason.strip()
            assert changes[-1].reason in DISCHARGE_REASONS
            path = path[:-1]
        # The rest of the path is the pathway walked in order from its start.
        assert path == PATHWAY_ORDER[: len(path)]
        assert ClientStatus.DISCHARGED not in path


def _reached(client: Client) -> set[str]:
    return {change.to_status for change in client.status_changes.all()}


def test_care_teams_fit_the_stage(generated: GeneratedCounts, staff: PracticeStaff) -> None:
    later_than_consultation = {
        ClientStatus.CONSULTATION,
        ClientStatus.SCREENING,
        ClientStatus.ACTIVE,
        ClientStatus.MAINTENANCE,
    }
    for client in Client.objects.prefetch_related("status_changes", "care_team__staff"):
        team = list(client.care_team.all())
        roles = Counter(member.role for member in team)
        reached = _reached(client)
        assert roles[CareTeamRole.COORDINATOR] == 1
        if client.status in later_than_consultation or ClientStatus.CONSULTATION in reached:
            assert roles[CareTeamRole.PRIMARY_THERAPIST] == 1, client
        if client.status in {ClientStatus.SCREENING, ClientStatus.ACTIVE, ClientStatus.MAINTENANCE}:
            assert roles[CareTeamRole.PRESCRIBER] == 1, client
        if client.status in {ClientStatus.ACTIVE, ClientStatus.MAINTENANCE}:
            assert roles[CareTeamRole.NURSE] == 1, client
        # Nobody joins before the stage that needs them.
        expected = {CareTeamRole.COORDINATOR}
        if ClientStatus.CONSULTATION in reached:
            expected.add(CareTeamRole.PRIMARY_THERAPIST)
        if ClientStatus.SCREENING in reached:
            expected.add(CareTeamRole.PRESCRIBER)
        if ClientStatus.ACTIVE in reached:
            expected.add(CareTeamRole.NURSE)
        assert set(roles) == expected
        assert all(count == 1 for count in roles.values())
        reached_at = {c.to_status: c.changed_at for c in client.status_changes.all()}
        for member in team:
            assert member.ended_at is None
            assert member.started_at <= NOW
            role_field: str = {
                CareTeamRole.PRIMARY_THERAPIST: "is_therapist",
                CareTeamRole.PRESCRIBER: "is_prescriber",
                CareTeamRole.NURSE: "is_nurse",
                CareTeamRole.COORDINATOR: "is_front_desk",
            }[CareTeamRole(member.role)]
            assert getattr(member.staff, role_field), (member.staff, member.role)
            stage: str = {
                CareTeamRole.PRIMARY_THERAPIST: ClientStatus.CONSULTATION,
                CareTeamRole.PRESCRIBER: ClientStatus.SCREENING,
                CareTeamRole.NURSE: ClientStatus.ACTIVE,
                CareTeamRole.COORDINATOR: ClientStatus.INQUIRY,
            }[CareTeamRole(member.role)]
            assert member.started_at == reached_at[stage]


def test_weights_only_from_screening_and_never_after_now(generated: GeneratedCounts) -> None:
    for client in Client.objects.prefetch_related("status_changes", "weights"):
        weights = list(client.weights.all())
        reached = _reached(client)
        if ClientStatus.SCREENING not in reached:
            assert weights == [], client
            continue
        screened_on = next(
            c.changed_at for c in client.status_changes.all() if c.to_status == "screening"
        ).date()
        assert 1 <= len(weights) <= 4
        for weight in weights:
            assert screened_on <= weight.measured_on <= NOW.date()
            assert 25 <= weight.weight_kg <= 350
            weight.full_clean()


def test_identities_come_from_the_tables(generated: GeneratedCounts) -> None:
    for client in Client.objects.all():
        options = IDENTITIES.get(client.sex_at_birth, OTHER_IDENTITIES)
        allowed = {(identity, pronouns) for identity, pronouns, _ in options}
        assert (client.gender_identity, client.pronouns) in allowed, client


def test_identity_tables_cover_the_sexes_generated() -> None:
    assert set(IDENTITIES) == {SexAtBirth.FEMALE, SexAtBirth.MALE}
    for options in [*IDENTITIES.values(), OTHER_IDENTITIES]:
        assert all(weight > 0 for _, _, weight in options)


def test_contact_details_are_fictional(generated: GeneratedCounts) -> None:
    for client in Client.objects.all():
        for number in (client.phone, client.emergency_contact_phone, client.primary_care_contact):
            assert FICTIONAL_PHONE.match(number), number
        assert client.email.endswith("@example.org")
        assert client.email == client.email.lower()


def test_generated_clients_pass_the_record_rules(generated: GeneratedCounts) -> None:
    ages = []
    for client in Client.objects.all():
        client.full_clean()
        ages.append(client.age_on(NOW.date()))
    assert min(ages) >= 18
    assert max(ages) <= 79
