"""Personal API tokens: shown once, stored only as a hash, checked, revoked, announced by mail."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from kapcare.accounts import services
from kapcare.accounts.models import ApiToken
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.testing.factories import make_staff


def test_create_returns_a_raw_token_that_is_not_stored(practice) -> None:
    token, raw = services.api_token_create(actor=practice.therapist, name="nightly export")
    assert raw.startswith("kc_")
    assert len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.prefix == raw[:10]
    assert stored.user == practice.therapist
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    for column, value in row.items():
        assert raw not in str(value), f"the raw token is stored in {column}"


def test_create_is_audited_without_the_secret(practice) -> None:
    token, raw = services.api_token_create(actor=practice.therapist, name="nightly export")
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == practice.therapist
    assert event.subject_public_id == token.public_id
    assert event.after == {"name": "nightly export", "prefix": raw[:10], "expires_at": None}
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    assert all(raw not in str(value) for value in row.values())
    assert all(token.token_hash not in str(value) for value in row.values())


def test_create_refuses_an_expiry_in_the_past(practice) -> None:
    with pytest.raises(ValidationError) as raised:
        services.api_token_create(
            actor=practice.therapist, name="old", expires_at=now() - dt.timedelta(minutes=1)
        )
    assert "expires_at" in raised.value.message_dict
    assert not ApiToken.objects.exists()


def test_authenticate_returns_the_owner(practice) -> None:
    _, raw = services.api_token_create(actor=practice.nurse, name="script")
    assert services.api_token_authenticate(raw) == practice.nurse


def test_authenticate_updates_last_used(practice) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    assert token.last_used_at is None
    before = now()
    services.api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at >= before


def test_last_used_is_written_at_most_once_a_minute(practice, monkeypatch) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    start = now()
    monkeypatch.setattr(services, "now", lambda: start)
    services.api_token_authenticate(raw)
    monkeypatch.setattr(services, "now", lambda: start + dt.timedelta(seconds=30))
    services.api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + dt.timedelta(minutes=2)
    monkeypatch.setattr(services, "now", lambda: later)
    services.api_token_authenticate(raw)
    token.refresh_from_db()
    assert token.last_used_at == later


def test_a_revoked_token_no_longer_authenticates(practice) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    services.api_token_revoke(actor=practice.nurse, token=token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.api_token_authenticate(raw) is None
    event = AuditEvent.objects.get(action="api_token.revoke")
    assert event.actor == practice.nurse
    assert event.subject_public_id == token.public_id


def test_an_expired_token_no_longer_authenticates(practice, monkeypatch) -> None:
    expires = now() + dt.timedelta(days=30)
    _, raw = services.api_token_create(actor=practice.nurse, name="script", expires_at=expires)
    assert services.api_token_authenticate(raw) == practice.nurse
    from kapcare.accounts import models

    monkeypatch.setattr(models, "now", lambda: expires + dt.timedelta(seconds=1))
    monkeypatch.setattr(services, "now", lambda: expires + dt.timedelta(seconds=1))
    assert services.api_token_authenticate(raw) is None


def test_an_inactive_users_token_does_not_authenticate(practice) -> None:
    _, raw = services.api_token_create(actor=practice.outsider, name="script")
    services.staff_update(actor=practice.admin, staff=practice.outsider, is_active=False)
    assert services.api_token_authenticate(raw) is None


@pytest.mark.parametrize(
    "garbage",
    ["", "kc_", "kc_not-a-real-token", "Bearer kc_x", "something else entirely", "💥"],
)
def test_garbage_does_not_authenticate(practice, garbage: str) -> None:
    services.api_token_create(actor=practice.nurse, name="script")
    assert services.api_token_authenticate(garbage) is None


def test_a_token_without_the_prefix_does_not_authenticate(practice) -> None:
    _, raw = services.api_token_create(actor=practice.nurse, name="script")
    assert services.api_token_authenticate(raw.removeprefix("kc_")) is None


def test_another_user_cannot_revoke_a_token(practice) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    with pytest.raises(PermissionError):
        services.api_token_revoke(actor=practice.therapist, token=token)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert services.api_token_authenticate(raw) == practice.nurse
    assert not AuditEvent.objects.filter(action="api_token.revoke").exists()


def test_a_practice_admin_can_revoke_anyones_token(practice) -> None:
    token, raw = services.api_token_create(actor=practice.nurse, name="script")
    services.api_token_revoke(actor=practice.admin, token=token)
    assert services.api_token_authenticate(raw) is None
    assert AuditEvent.objects.get(action="api_token.revoke").actor == practice.admin


def test_revoking_twice_records_once(practice) -> None:
    token, _ = services.api_token_create(actor=practice.nurse, name="script")
    services.api_token_revoke(actor=practice.nurse, token=token)
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    services.api_token_revoke(actor=practice.nurse, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_create_enqueues_the_notice_on_commit(practice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        token, _ = services.api_token_create(actor=practice.nurse, name="script")
        assert not DBTaskResult.objects.exists()  # not before the commit
    assert len(callbacks) == 1
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kapcare.accounts.tasks.notify_new_api_token"
    assert queued.args_kwargs["args"] == [str(token.public_id)]
    assert queued.status == TaskResultStatus.READY
    assert mail.outbox == []  # the worker sends it, not the request


def test_a_failed_create_enqueues_nothing(practice, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError),
    ):
        services.api_token_create(actor=practice.nurse, name="")
    assert callbacks == []
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_mails_the_owner(run_worker: Callable[..., None]) -> None:
    owner = make_staff(username="owner", first_name="Robin", email="robin@example.org")
    token, raw = services.api_token_create(actor=owner, name="nightly export")
    # transaction=True: the create really commits, so its on_commit hook really enqueued.
    queued = DBTaskResult.objects.get()
    assert queued.status == TaskResultStatus.READY
    assert mail.outbox == []
    run_worker()

    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    assert queued.return_value is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["robin@example.org"]
    assert "nightly export" in message.body
    assert token.prefix in message.body
    assert raw not in message.body
    assert "Robin" in message.body


def test_the_notice_is_skipped_without_an_email(db: None) -> None:
    from kapcare.accounts.tasks import notify_new_api_token

    owner = make_staff(email="")
    token, _ = services.api_token_create(actor=owner, name="script")
    assert notify_new_api_token.call(str(token.public_id)) is False
    assert mail.outbox == []
