"""`kapcare createstaff`: the first admin (and others) from the server's command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from kapcare.accounts.models import User
from kapcare.core.models import AuditEvent


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("createstaff", *args, stdout=out)
    return out.getvalue()


def test_creates_the_user_and_prints_the_initial_password(db: None) -> None:
    output = run(
        "--username",
        "lee",
        "--first-name",
        "Morgan",
        "--last-name",
        "Lee",
        "--email",
        "morgan.lee@example.org",
        "--role",
        "practice_admin",
        "--role",
        "therapist",
    )
    user = User.objects.get(username="lee")
    assert user.is_practice_admin
    assert user.is_therapist
    assert user.email == "morgan.lee@example.org"
    assert "Created lee" in output
    assert "Initial password: " in output
    password = output.split("Initial password: ")[1].strip()
    assert user.check_password(password)
    event = AuditEvent.objects.get(action="staff.create")
    assert event.actor is None
    assert event.channel == "cli"
    assert event.subject_public_id == user.public_id


def test_creates_a_prescriber(db: None) -> None:
    run(
        "--username=ng",
        "--first-name=Alex",
        "--last-name=Ng",
        "--role=prescriber",
        "--credential=NP",
        "--licence=NP-2024-77",
        "--title=PMHNP",
    )
    user = User.objects.get(username="ng")
    assert user.is_prescriber
    assert user.prescriber_credential == "NP"
    assert user.licence_number == "NP-2024-77"
    assert user.professional_title == "PMHNP"


def test_an_invalid_combination_names_the_field(db: None) -> None:
    with pytest.raises(CommandError, match="licence_number"):
        run(
            "--username=ng",
            "--first-name=Alex",
            "--last-name=Ng",
            "--role=prescriber",
            "--credential=MD",
        )
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_duplicate_username_names_the_field(db: None) -> None:
    args = ("--username=lee", "--first-name=Morgan", "--last-name=Lee", "--role=therapist")
    run(*args)
    with pytest.raises(CommandError, match="username"):
        run(*args)
    assert User.objects.count() == 1


def test_password_from_stdin(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-chosen-passphrase-9\n"))
    output = run(
        "--username=lee",
        "--first-name=Morgan",
        "--last-name=Lee",
        "--role=nurse",
        "--password-stdin",
    )
    user = User.objects.get(username="lee")
    assert user.check_password("a-long-chosen-passphrase-9")
    assert "Initial password" not in output
    assert "a-long-chosen-passphrase-9" not in output


def test_a_weak_password_from_stdin_is_refused(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError, match="password"):
        run(
            "--username=lee",
            "--first-name=Morgan",
            "--last-name=Lee",
            "--role=nurse",
            "--password-stdin",
        )
    assert not User.objects.exists()


def test_an_unknown_role_is_refused(db: None) -> None:
    with pytest.raises(CommandError, match="role"):
        run("--username=lee", "--first-name=Morgan", "--last-name=Lee", "--role=janitor")
    assert not User.objects.exists()


@pytest.mark.parametrize("command", ["createsuperuser", "changepassword"])
def test_unaudited_django_account_commands_are_refused(db: None, command: str) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="createstaff"):
        call_command(command)
