"""The demo practice that `./run` starts with: one account per role, synthetic clients, and a
few clients at each stage of ketamine screening (kapcare.synthetic.demo_screening).

With `history`, the practice also has that many clients of partner clinics with years of
courses behind them (a small network from kapcare.synthetic.network, with staff of its own), so
that the program dashboard has a program to describe; the demo's own clients and scenarios are
the same with or without it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kapcare.accounts.models import Role, User
from kapcare.accounts.services import staff_create
from kapcare.clients.models import Client, ClientStatus
from kapcare.courses.models import Course
from kapcare.measures.services import administration_record
from kapcare.outcomes.summaries import refresh_courses
from kapcare.parameters.services import can_sign_off
from kapcare.synthetic.demo_courses import create_course_demo
from kapcare.synthetic.demo_dosing import create_dosing_demo
from kapcare.synthetic.demo_inquiries import create_inquiry_demo
from kapcare.synthetic.demo_screening import create_screening_demo
from kapcare.synthetic.generator import GeneratedCounts, PracticeStaff, generate_clients
from kapcare.synthetic.network import generate_network


@dataclass(frozen=True)
class DemoPerson:
    username: str
    first_name: str
    last_name: str
    title: str
    roles: tuple[Role, ...]
    credential: str = ""
    licence: str = ""


DEMO_STAFF = [
    DemoPerson("admin", "Morgan", "Lee", "", (Role.PRACTICE_ADMIN,)),
    DemoPerson("therapist", "Avery", "Chen", "LMFT", (Role.THERAPIST,)),
    DemoPerson("therapist2", "Jordan", "Rivera", "LCSW", (Role.THERAPIST,)),
    # The medical director: a prescriber who is also a practice admin, so that she signs off the
    # practice's clinical rule parameters (kapcare.parameters.services.can_sign_off).
    DemoPerson(
        "prescriber",
        "Samira",
        "Patel",
        "MD",
        (Role.PRESCRIBER, Role.PRACTICE_ADMIN),
        "MD",
        "DEMO-MD-0001",
    ),
    DemoPerson(
        "prescriber2", "Daniel", "Okafor", "PMHNP", (Role.PRESCRIBER,), "NP", "DEMO-NP-0002"
    ),
    DemoPerson("nurse", "Riley", "Brooks", "RN", (Role.NURSE,)),
    DemoPerson("frontdesk", "Casey", "Nguyen", "", (Role.FRONT_DESK,)),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    name: str
    roles: str


class PracticeNotEmpty(Exception):
    """The database already holds clients: the demo only fills an empty practice."""


def create_demo_practice(
    *, clients: int, seed: int, now: dt.datetime, history: int = 0
) -> tuple[list[DemoAccount], GeneratedCounts]:
    if Client.objects.exists() or User.objects.exists():
        raise PracticeNotEmpty(
            "This database already has staff or clients; the demo practice is only created in an "
            "empty database (./run --reset starts afresh)."
        )
    accounts: list[DemoAccount] = []
    created: dict[str, User] = {}
    for person in DEMO_STAFF:
        user, password = staff_create(
            actor=None,
            username=person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.username}@kapcare.example.org",
            roles=person.roles,
            professional_title=person.title,
            prescriber_credential=person.credential,
            licence_number=person.licence,
        )
        created[person.username] = user
        roles = ", ".join(user.role_labels)
        if can_sign_off(user):
            roles += " (medical director)"
        accounts.append(DemoAccount(person.username, password, user.display_name, roles))
    staff = PracticeStaff(
        therapists=[created["therapist"], created["therapist2"]],
        prescribers=[created["prescriber"], created["prescriber2"]],
        nurses=[created["nurse"]],
        front_desk=[created["frontdesk"]],
    )
    counts = generate_clients(staff=staff, count=clients, seed=seed, now=now)
    _todays_phq9_with_item9(nurse=created["nurse"], now=now)
    screened = create_screening_demo(now=now)
    courses = create_course_demo(screened=screened, now=now)
    create_dosing_demo(courses=courses, staff=created, now=now)
    create_inquiry_demo(front_desk=created["frontdesk"], clinician=created["prescriber2"])
    refresh_courses(Course.objects.values_list("id", flat=True), now=now)
    if history:
        # In this process: the demo is built inside one transaction on SQLite.
        generate_network(clients=history, seed=seed, now=now, years=2, processes=1, alongside=True)
    return accounts, counts


def _todays_phq9_with_item9(*, nurse: User, now: dt.datetime) -> None:
    """One client in active treatment answered PHQ-9 item 9 this morning: the demo opens with a
    safety flag waiting for the care team, as a real day might."""
    client = (
        Client.objects.filter(status=ClientStatus.ACTIVE, care_team__staff=nurse)
        .order_by("legal_family_name", "id")
        .first()
    )
    if client is None:
        return
    answers = {"q1": 2, "q2": 2, "q3": 2, "q4": 1, "q5": 1, "q6": 2, "q7": 1, "q8": 0, "q9": 1}
    administration_record(
        actor=nurse,
        client=client,
        instrument="phq9",
        answers=answers,
        completed_at=now - dt.timedelta(hours=2),
    )
