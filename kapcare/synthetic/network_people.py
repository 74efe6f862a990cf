"""The people of a synthetic network: clinic staff and clients, all fictional.

Names and addresses come from Faker (seeded, drawn once into pools so that a hundred thousand
clients do not call Faker a million times); phone numbers are in the 555-01xx range reserved
for fiction; e-mail addresses are at example.org. Identities, nicknames, access needs and the
other client details reuse the demo generator's lists (kapcare.synthetic.generator).

Staff usernames are stable across runs: `therapist-0001`, `prescriber-0001`, `nurse-0001`,
`frontdesk-0001` (numbered across the clinics in clinic order) and `admin-0001`, the network's
practice admin. Every account has an unusable password (staff are logged in by `force_login` in
benchmarks, or given a password with `kapcare changepassword`).
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass

from faker import Faker

from kapcare.accounts.models import PrescriberCredential
from kapcare.clients.models import ContactChannel, SexAtBirth
from kapcare.synthetic.generator import (
    ACCESS_NEEDS,
    IDENTITIES,
    NICKNAMES,
    OTHER_IDENTITIES,
    RELATIONSHIPS,
    _fictional_phone,
)

POOL = 2500  # distinct names and addresses drawn from Faker per kind, at most

THERAPIST_TITLES = (("LMFT", 4), ("LCSW", 4), ("LPC", 3), ("PsyD", 2), ("PhD", 1))
# (credential, title shown after the name, weight)
PRESCRIBER_KINDS = (
    (PrescriberCredential.MD, "MD", 4),
    (PrescriberCredential.DO, "DO", 1),
    (PrescriberCredential.NP, "PMHNP", 3),
    (PrescriberCredential.PA, "PA-C", 1),
)
PASSWORD_CHARS = string.ascii_letters + string.digits


class Pools:
    """Names and addresses drawn once from a seeded Faker."""

    def __init__(self, seed: int, people: int) -> None:
        fake = Faker("en_US")
        fake.seed_instance(seed)
        size = min(POOL, max(100, people))
        self.female = [fake.first_name_female() for _ in range(size)]
        self.male = [fake.first_name_male() for _ in range(size)]
        self.family = [fake.last_name() for _ in range(size)]
        self.full = [fake.name() for _ in range(size)]
        self.streets = [fake.street_address() for _ in range(size)]
        self.places = [f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}" for _ in range(size)]
        self.cities = list(dict.fromkeys(fake.city() for _ in range(max(size, 200))))


@dataclass(frozen=True)
class Person:
    """A client's identity and contact details, in kapcare.clients.models.Client's terms."""

    given: str
    family: str
    preferred: str
    pronouns: str
    born: dt.date
    sex: str
    identity: str
    email: str
    phone: str
    address: str
    channel: str
    emergency_name: str
    emergency_relationship: str
    emergency_phone: str
    primary_care: str
    primary_care_contact: str
    referring: str
    access_needs: str


SEXES = [SexAtBirth.FEMALE, SexAtBirth.MALE, SexAtBirth.INTERSEX, SexAtBirth.UNKNOWN]
SEX_WEIGHTS = [55, 42, 1, 2]
CHANNELS = list(ContactChannel)


def person(pools: Pools, rng: random.Random, today: dt.date) -> Person:
    """One fictional adult client (19 to 78 years old, as the demo's clients)."""
    sex = rng.choices(SEXES, weights=SEX_WEIGHTS)[0]
    given = rng.choice(pools.female if sex == SexAtBirth.FEMALE else pools.male)
    options = IDENTITIES.get(sex, OTHER_IDENTITIES)
    identity, pronouns, _ = rng.choices(options, weights=[w for _, _, w in options])[0]
    family = rng.choice(pools.family)
    born = today - dt.timedelta(days=rng.randint(19 * 365, 78 * 365))
    return Person(
        given=given,
        family=family,
        preferred=NICKNAMES.get(given, "") if rng.random() < 0.5 else "",
        pronouns=pronouns,
        born=born,
        sex=sex,
        identity=identity,
        email=f"{given}.{family}{rng.randint(1, 999)}@example.org".lower().replace(" ", ""),
        phone=_fictional_phone(rng),
        address=f"{rng.choice(pools.streets)}\n{rng.choice(pools.places)}",
        channel=rng.choice(CHANNELS),
        emergency_name=rng.choice(pools.full),
        emergency_relationship=rng.choice(RELATIONSHIPS),
        emergency_phone=_fictional_phone(rng),
        primary_care=f"Dr {rng.choice(pools.family)}, "
        f"{rng.choice(pools.places).split(',')[0]} Family Medicine",
        primary_care_contact=_fictional_phone(rng),
        referring=rng.choice(["", f"Dr {rng.choice(pools.family)} (psychiatry)", "Self-referred"]),
        access_needs=rng.choice(ACCESS_NEEDS) if rng.random() < 0.15 else "",
    )


def age_on(born: dt.date, day: dt.date) -> int:
    """Age in whole years on `day` (as Client.age_on counts it)."""
    passed = (day.month, day.day) >= (born.month, born.day)
    return day.year - born.year - (0 if passed else 1)


@dataclass(frozen=True)
class StaffPlan:
    username: str
    first_name: str
    last_name: str
    title: str
    role: str  # therapist, prescriber, nurse, front_desk, practice_admin
    credential: str = ""
    licence: str = ""

    @property
    def display_name(self) -> str:
        """As User.display_name shows it."""
        name = f"{self.first_name} {self.last_name}".strip() or self.username
        return f"{name}, {self.title}" if self.title else name


def unusable_password(rng: random.Random) -> str:
    """A password hash no password matches (Django's "!" prefix), drawn from `rng` so that a
    seed always gives the same rows."""
    return "!" + "".join(rng.choice(PASSWORD_CHARS) for _ in range(40))


def staff_member(
    pools: Pools, rng: random.Random, role: str, number: int, prefix: str
) -> StaffPlan:
    """The `number`th member of a role across the network (1-based)."""
    female = rng.random() < 0.6
    first = rng.choice(pools.female if female else pools.male)
    last = rng.choice(pools.family)
    username = f"{prefix}-{number:04d}"
    if role == "therapist":
        title = rng.choices(
            [t for t, _ in THERAPIST_TITLES], weights=[w for _, w in THERAPIST_TITLES]
        )[0]
        return StaffPlan(username, first, last, title, role)
    if role == "prescriber":
        credential, title, _ = rng.choices(
            PRESCRIBER_KINDS, weights=[w for *_, w in PRESCRIBER_KINDS]
        )[0]
        licence = f"SYN-{credential}-{number:06d}"  # fictional, marked as synthetic
        return StaffPlan(username, first, last, title, role, credential, licence)
    if role == "nurse":
        return StaffPlan(username, first, last, "RN", role)
    return StaffPlan(username, first, last, "", role)
