"""Synthetic clients with plausible histories, for the demo practice and benchmark data sets.

Deterministic for a seed and a `now`, and written with bulk inserts so the same code that makes
40 demo clients can make a large data set. Everything it invents is fictional: names from Faker,
phone numbers in the 555-01xx range reserved for fiction, e-mail at example.org.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from faker import Faker

from kapcare.accounts.models import User
from kapcare.clients.models import (
    CareTeamMember,
    CareTeamRole,
    Client,
    ClientStatus,
    ContactChannel,
    SexAtBirth,
    StatusChange,
    WeightMeasurement,
)
from kapcare.core import audit
from kapcare.measures.models import Administration, Source
from kapcare.synthetic.trajectories import course_forms

# The order in which a client moves through the practice.
PATHWAY = [
    ClientStatus.INQUIRY,
    ClientStatus.CONSULTATION,
    ClientStatus.SCREENING,
    ClientStatus.ACTIVE,
    ClientStatus.MAINTENANCE,
]

# How a demo practice's clients are spread over statuses (relative weights; each appears).
STATUS_MIX: dict[ClientStatus, int] = {
    ClientStatus.INQUIRY: 4,
    ClientStatus.CONSULTATION: 4,
    ClientStatus.SCREENING: 6,
    ClientStatus.ACTIVE: 12,
    ClientStatus.MAINTENANCE: 8,
    ClientStatus.DISCHARGED: 6,
}

DISCHARGE_REASONS = [
    "Completed the course; follow-up with referring psychiatrist",
    "Not eligible after screening",
    "Chose not to proceed after consultation",
    "Moved out of the area",
    "Completed maintenance; remission sustained",
]
ACCESS_NEEDS = [
    "Spanish interpreter for all sessions",
    "Uses a wheelchair: ground-floor room",
    "Hard of hearing: face the client when speaking",
    "Prefers afternoon appointments (childcare)",
    "Anxious in small rooms: offer the larger room when free",
]
NICKNAMES = {
    "Alexander": "Alex",
    "Anthony": "Tony",
    "Benjamin": "Ben",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Elizabeth": "Liz",
    "Jennifer": "Jen",
    "Jessica": "Jess",
    "Joseph": "Joe",
    "Katherine": "Kate",
    "Margaret": "Maggie",
    "Matthew": "Matt",
    "Michael": "Mike",
    "Nicholas": "Nick",
    "Patricia": "Trish",
    "Rebecca": "Becca",
    "Robert": "Rob",
    "Samantha": "Sam",
    "Victoria": "Tori",
    "William": "Will",
}
# (gender identity, pronouns, weight) by sex at birth: mostly cisgender, some trans and
# non-binary people, and some records where nothing was asked yet.
IDENTITIES: dict[str, list[tuple[str, str, int]]] = {
    SexAtBirth.FEMALE: [
        ("woman", "she/her", 60),
        ("", "she/her", 25),
        ("", "", 6),
        ("non-binary", "they/them", 4),
        ("woman", "she/they", 3),
        ("man", "he/him", 2),
    ],
    SexAtBirth.MALE: [
        ("man", "he/him", 60),
        ("", "he/him", 25),
        ("", "", 6),
        ("non-binary", "they/them", 4),
        ("man", "he/they", 3),
        ("woman", "she/her", 2),
    ],
}
OTHER_IDENTITIES = [("", "", 50), ("non-binary", "they/them", 30), ("woman", "she/her", 20)]
RELATIONSHIPS = ["spouse", "partner", "parent", "sibling", "friend", "adult child"]


@dataclass
class PracticeStaff:
    therapists: Sequence[User]
    prescribers: Sequence[User]
    nurses: Sequence[User]
    front_desk: Sequence[User]


@dataclass
class GeneratedCounts:
    clients: int = 0
    care_team_members: int = 0
    status_changes: int = 0
    weights: int = 0
    administrations: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def status_sequence(count: int, rng: random.Random) -> list[ClientStatus]:
    """`count` statuses in STATUS_MIX proportions, every status present when count allows."""
    total = sum(STATUS_MIX.values())
    statuses: list[ClientStatus] = []
    for status, weight in STATUS_MIX.items():
        statuses += [status] * max(1, round(count * weight / total))
    while len(statuses) > count:
        # Trim from the most common status so the rarer ones keep their place.
        most = max(STATUS_MIX, key=lambda s: statuses.count(s))
        statuses.remove(most)
    while len(statuses) < count:
        statuses.append(rng.choices(list(STATUS_MIX), weights=list(STATUS_MIX.values()))[0])
    rng.shuffle(statuses)
    return statuses


def _path_to(final: ClientStatus, rng: random.Random) -> list[ClientStatus]:
    if final != ClientStatus.DISCHARGED:
        return PATHWAY[: PATHWAY.index(final) + 1]
    left_after = rng.choice(PATHWAY[1:])
    return [*PATHWAY[: PATHWAY.index(left_after) + 1], ClientStatus.DISCHARGED]


def _fictional_phone(rng: random.Random) -> str:
    return f"({rng.randint(201, 989)}) 555-01{rng.randint(0, 99):02d}"


def generate_clients(
    *,
    staff: PracticeStaff,
    count: int,
    seed: int,
    now: dt.datetime,
    actor: User | None = None,
    batch_size: int = 2000,
) -> GeneratedCounts:
    """Create `count` clients with status histories, care teams and weights."""
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    counts = GeneratedCounts()
    for start in range(0, count, batch_size):
        batch = min(batch_size, count - start)
        with transaction.atomic():
            _generate_batch(staff, batch, rng, fake, now, actor, counts)
            if start + batch >= count:
                audit.record(
                    actor=actor,
                    action="synthetic.generate",
                    subject_type="practice",
                    detail={"clients": counts.clients, "seed": seed},
                )
    return counts


def _generate_batch(
    staff: PracticeStaff,
    count: int,
    rng: random.Random,
    fake: Faker,
    now: dt.datetime,
    actor: User | None,
    counts: GeneratedCounts,
) -> None:
    finals = status_sequence(count, rng)
    clients: list[Client] = []
    histories: list[list[tuple[ClientStatus, dt.datetime]]] = []
    for final in finals:
        sex = rng.choices(
            [SexAtBirth.FEMALE, SexAtBirth.MALE, SexAtBirth.INTERSEX, SexAtBirth.UNKNOWN],
            weights=[55, 42, 1, 2],
        )[0]
        given = fake.first_name_female() if sex == SexAtBirth.FEMALE else fake.first_name_male()
        options = IDENTITIES.get(sex, OTHER_IDENTITIES)
        identity, pronouns, _ = rng.choices(options, weights=[w for _, _, w in options])[0]
        family = fake.last_name()
        birth = now.date() - dt.timedelta(days=rng.randint(19 * 365, 78 * 365))
        path = _path_to(final, rng)
        # Walk the path forward from a first contact up to 2 years ago, each step 5-45 days on.
        step_days = [rng.randint(5, 45) for _ in path[1:]]
        first_contact = now - dt.timedelta(
            days=sum(step_days) + rng.randint(0, 400), minutes=rng.randint(0, 1440)
        )
        history = [(path[0], first_contact)]
        for status, days in zip(path[1:], step_days, strict=True):
            history.append((status, history[-1][1] + dt.timedelta(days=days)))
        histories.append(history)
        channel = rng.choice(list(ContactChannel))
        email = f"{given}.{family}{rng.randint(1, 999)}@example.org".lower()
        clients.append(
            Client(
                legal_given_names=given,
                legal_family_name=family,
                preferred_name=NICKNAMES.get(given, "") if rng.random() < 0.5 else "",
                pronouns=pronouns,
                date_of_birth=birth,
                sex_at_birth=sex,
                gender_identity=identity,
                email=email,
                phone=_fictional_phone(rng),
                address=f"{fake.street_address()}\n{fake.city()}, {fake.state_abbr()} "
                f"{fake.zipcode()}",
                preferred_channel=channel,
                emergency_contact_name=fake.name(),
                emergency_contact_relationship=rng.choice(RELATIONSHIPS),
                emergency_contact_phone=_fictional_phone(rng),
                primary_care_provider=f"Dr {fake.last_name()}, {fake.city()} Family Medicine",
                primary_care_contact=_fictional_phone(rng),
                referring_provider=rng.choice(
                    ["", f"Dr {fake.last_name()} (psychiatry)", "Self-referred"]
                ),
                access_needs=rng.choice(ACCESS_NEEDS) if rng.random() < 0.15 else "",
                status=final,
                status_changed_at=history[-1][1],
                created_at=first_contact,
                created_by=actor,
                updated_by=actor,
            )
        )
    Client.objects.bulk_create(clients)

    members: list[CareTeamMember] = []
    changes: list[StatusChange] = []
    weights: list[WeightMeasurement] = []
    administrations: list[Administration] = []
    for client, history in zip(clients, histories, strict=True):
        reached = {status for status, _ in history}
        at = dict(history)
        previous = ""
        for status, when in history:
            reason = "Record created" if not previous else ""
            if status == ClientStatus.DISCHARGED:
                reason = rng.choice(DISCHARGE_REASONS)
            changes.append(
                StatusChange(
                    client=client,
                    from_status=previous,
                    to_status=status,
                    reason=reason,
                    changed_at=when,
                    changed_by=actor,
                )
            )
            previous = status
        team = [(rng.choice(staff.front_desk), CareTeamRole.COORDINATOR, at[ClientStatus.INQUIRY])]
        if ClientStatus.CONSULTATION in reached:
            team.append(
                (
                    rng.choice(staff.therapists),
                    CareTeamRole.PRIMARY_THERAPIST,
                    at[ClientStatus.CONSULTATION],
                )
            )
        if ClientStatus.SCREENING in reached:
            team.append(
                (rng.choice(staff.prescribers), CareTeamRole.PRESCRIBER, at[ClientStatus.SCREENING])
            )
        if ClientStatus.ACTIVE in reached:
            team.append((rng.choice(staff.nurses), CareTeamRole.NURSE, at[ClientStatus.ACTIVE]))
        for person, role, started in team:
            members.append(
                CareTeamMember(
                    client=client,
                    staff=person,
                    role=role,
                    started_at=started,
                    created_at=started,
                    created_by=actor,
                )
            )
        if ClientStatus.SCREENING in reached:
            base = decimal.Decimal(rng.randint(520, 1150)) / 10
            first_day = at[ClientStatus.SCREENING].date()
            for index in range(rng.randint(1, 4)):
                day = first_day + dt.timedelta(days=index * rng.randint(14, 40))
                if day > now.date():
                    break
                drift = decimal.Decimal(rng.randint(-15, 15)) / 10
                weights.append(
                    WeightMeasurement(
                        client=client,
                        measured_on=day,
                        weight_kg=base + drift,
                        created_by=actor,
                        updated_by=actor,
                    )
                )
        if ClientStatus.SCREENING in reached:
            # Measured from screening until discharge (or now), by the client's nurse or therapist.
            end = at.get(ClientStatus.DISCHARGED, now)
            entered_by = actor
            for form in course_forms(start=at[ClientStatus.SCREENING], end=end, rng=rng):
                administrations.append(
                    Administration(
                        client=client,
                        instrument=form.instrument,
                        source=Source.CLINIC,
                        completed_at=form.completed_at,
                        answers=form.answers,
                        total=form.result.total,
                        band=form.result.band or "",
                        complete=form.result.complete,
                        prorated=form.result.prorated,
                        missing=list(form.result.missing),
                        flags=list(form.result.flags),
                        details=dict(form.result.details),
                        scoring_version=form.result.scoring_version,
                        entered_by=entered_by,
                        created_at=form.completed_at,
                        created_by=entered_by,
                        updated_by=entered_by,
                    )
                )
    CareTeamMember.objects.bulk_create(members)
    StatusChange.objects.bulk_create(changes)
    WeightMeasurement.objects.bulk_create(weights)
    Administration.objects.bulk_create(administrations, batch_size=1000)
    counts.clients += len(clients)
    counts.care_team_members += len(members)
    counts.status_changes += len(changes)
    counts.weights += len(weights)
    counts.administrations += len(administrations)
    for final in finals:
        counts.by_status[final] = counts.by_status.get(final, 0) + 1
