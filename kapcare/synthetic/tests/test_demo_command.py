"""The demo practice: its accounts, its refusal to touch a used database, and the command."""

from __future__ import annotations

import datetime as dt
import stat
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kapcare.accounts.models import Role, User
from kapcare.clients.models import Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today
from kapcare.courses.models import Course
from kapcare.outcomes.models import CourseSummary
from kapcare.synthetic.demo import DEMO_STAFF, PracticeNotEmpty, create_demo_practice
from kapcare.testing.factories import make_client, make_staff

NOW = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)


def test_demo_practice_has_one_account_per_person(db: None) -> None:
    accounts, counts = create_demo_practice(clients=12, seed=3, now=NOW)

    assert User.objects.count() == len(DEMO_STAFF)
    assert [a.username for a in accounts] == [p.username for p in DEMO_STAFF]
    for person, account in zip(DEMO_STAFF, accounts, strict=True):
        user = User.objects.get(username=person.username)
        assert set(user.roles) == set(person.roles)
        assert user.is_active
        assert user.first_name == person.first_name
        assert user.last_name == person.last_name
        assert user.check_password(account.password)
        assert account.name == user.display_name
        if Role.PRESCRIBER in person.roles:
            assert person.credential
            assert person.licence
            assert user.prescriber_credential == person.credential
            assert user.licence_number == person.licence
        else:
            assert user.prescriber_credential == ""
            assert user.licence_number == ""
    assert len({a.password for a in accounts}) == len(accounts)

    assert counts.clients == Client.objects.count() == 12
    demo_staff = set(User.objects.exclude(username="admin"))
    for client in Client.objects.prefetch_related("care_team__staff"):
        assert {m.staff for m in client.care_team.all()} <= demo_staff


def test_demo_roles_cover_the_practice() -> None:
    roles = {role for person in DEMO_STAFF for role in person.roles}
    assert roles == set(Role)
    assert len({p.username for p in DEMO_STAFF}) == len(DEMO_STAFF)


def test_demo_refuses_a_database_with_clients(db: None) -> None:
    make_client()
    with pytest.raises(PracticeNotEmpty):
        create_demo_practice(clients=3, seed=1, now=NOW)
    assert not User.objects.exists()


def test_demo_refuses_a_database_with_staff(db: None) -> None:
    make_staff(admin=True)
    with pytest.raises(PracticeNotEmpty):
        create_demo_practice(clients=3, seed=1, now=NOW)
    assert User.objects.count() == 1
    assert not Client.objects.exists()


def test_demo_refuses_to_run_twice(db: None) -> None:
    create_demo_practice(clients=2, seed=1, now=NOW)
    with pytest.raises(PracticeNotEmpty):
        create_demo_practice(clients=2, seed=1, now=NOW)
    assert User.objects.count() == len(DEMO_STAFF)
    assert Client.objects.count() == 2


def _accounts(path: Path) -> dict[str, list[str]]:
    lines = path.read_text().splitlines()
    return {line.split("\t")[0]: line.split("\t") for line in lines}


def test_command_writes_a_private_accounts_file(db: None, tmp_path: Path) -> None:
    path = tmp_path / "data" / "demo-accounts.txt"
    out = StringIO()
    call_command("demo", clients=5, seed=9, accounts_file=str(path), stdout=out)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = _accounts(path)
    assert set(accounts) == {p.username for p in DEMO_STAFF}
    for username, fields in accounts.items():
        assert len(fields) == 4
        assert User.objects.get(username=username).check_password(fields[1])
    assert Client.objects.count() == 5
    assert "5 clients" in out.getvalue()
    assert str(path) in out.getvalue()
    assert set(AuditEvent.objects.values_list("channel", flat=True)) == {"cli"}


def test_command_makes_an_existing_accounts_file_private(db: None, tmp_path: Path) -> None:
    path = tmp_path / "demo-accounts.txt"
    path.write_text("old\n")
    path.chmod(0o644)
    call_command("demo", clients=1, seed=9, accounts_file=str(path), stdout=StringIO())
    assert "old" not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_command_fails_on_a_used_database(db: None, tmp_path: Path) -> None:
    make_staff(therapist=True)
    path = tmp_path / "demo-accounts.txt"
    with pytest.raises(CommandError, match="empty database"):
        call_command("demo", clients=3, accounts_file=str(path), stdout=StringIO())
    assert not path.exists()
    assert not Client.objects.exists()
    assert User.objects.count() == 1


def test_command_fails_when_run_twice(db: None, tmp_path: Path) -> None:
    path = tmp_path / "demo-accounts.txt"
    call_command("demo", clients=2, accounts_file=str(path), stdout=StringIO())
    first = path.read_text()
    with pytest.raises(CommandError):
        call_command("demo", clients=2, accounts_file=str(path), stdout=StringIO())
    assert path.read_text() == first


def test_command_refuses_a_negative_count(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--clients"):
        call_command("demo", clients=-1, accounts_file=str(tmp_path / "a.txt"))
    assert not User.objects.exists()


def test_the_demo_opens_with_one_safety_flag(db: None) -> None:
    from kapcare.core.time import now
    from kapcare.safety.models import SafetyFlag
    from kapcare.synthetic.demo import create_demo_practice

    create_demo_practice(clients=40, seed=2026, now=now())
    flag = SafetyFlag.objects.open().get()
    assert flag.client.status == "active"
    assert flag.client.care_team.filter(staff__username="nurse").exists()
    assert flag.source_administration is not None
    assert flag.source_administration.answers["q9"] == 1


def test_the_demo_with_history_adds_partner_clinics_and_keeps_its_own_scenarios(
    db: None, tmp_path: Path
) -> None:
    out = StringIO()
    path = tmp_path / "accounts.txt"
    call_command("demo", clients=8, seed=4, history=40, accounts_file=str(path), stdout=out)
    assert "8 clients and 40 clients of partner clinics" in out.getvalue()
    demo_staff = set(User.objects.filter(username__in=[p.username for p in DEMO_STAFF]))
    own = Client.objects.filter(care_team__staff__in=demo_staff).distinct()
    partners = Client.objects.exclude(pk__in=own.values("pk"))
    assert own.count() == 8
    assert partners.count() == 40
    # The partner clinics' clients have their own staff, and years of courses behind them whose
    # outcome summaries are ready for the dashboard.
    partner_courses = Course.objects.filter(client__in=partners)
    assert partner_courses.count() >= 40
    assert CourseSummary.objects.count() == Course.objects.count()
    assert not partners.filter(care_team__staff__in=demo_staff).exists()
    first = partner_courses.order_by("started_on").values_list("started_on", flat=True)[0]
    assert first < practice_today() - dt.timedelta(days=365)


def test_history_must_not_be_negative(db: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="--history must be 0 or more"):
        call_command("demo", history=-1, accounts_file=str(tmp_path / "a"), stdout=StringIO())
    assert not Client.objects.exists()
