"""Every write to staff accounts and API tokens (habit 2): validated, audited, atomic."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare.accounts.models import ROLE_FIELDS, ApiToken, Role, User
from kapcare.core import audit
from kapcare.core.time import now

STAFF_AUDIT_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "professional_title",
    *ROLE_FIELDS.values(),
    "prescriber_credential",
    "licence_number",
    "is_active",
]

# Unambiguous characters for generated passwords that a person may have to read aloud or type.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105


def generate_password() -> str:
    groups = ["".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


def _apply_roles(user: User, roles: Iterable[Role | str]) -> None:
    chosen = {Role(role) for role in roles}
    if not chosen:
        raise ValidationError({"roles": "Choose at least one role."}, code="required")
    for role, field in ROLE_FIELDS.items():
        setattr(user, field, role in chosen)
    if Role.PRESCRIBER not in chosen:
        user.prescriber_credential = ""
        user.licence_number = ""


def staff_create(
    *,
    actor: User | None,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    roles: Iterable[Role | str],
    professional_title: str = "",
    prescriber_credential: str = "",
    licence_number: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """Create a staff account; returns it with its initial password (generated when not given).

    `actor` is None only on the command line of the server (first admin, demo practice).
    """
    if actor is not None and not actor.is_practice_admin:
        raise PermissionError("Only a practice admin can create staff accounts.")
    user = User(
        username=username.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
        professional_title=professional_title.strip(),
        prescriber_credential=prescriber_credential,
        licence_number=licence_number.strip(),
    )
    _apply_roles(user, roles)
    initial_password = password if password is not None else generate_password()
    try:
        validate_password(initial_password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(initial_password)
    user.full_clean()
    with transaction.atomic():
        user.save()
        audit.record(
            actor=actor,
            action="staff.create",
            subject_type="staff",
            subject_public_id=user.public_id,
            after=audit.snapshot(user, STAFF_AUDIT_FIELDS),
        )
    return user, initial_password


def staff_update(
    *,
    actor: User,
    staff: User,
    roles: Iterable[Role | str] | None = None,
    **changes: str | bool,
) -> User:
    """Change a staff member's details, roles or active flag (practice admins only)."""
    if not actor.is_practice_admin:
        raise PermissionError("Only a practice admin can change staff accounts.")
    editable = set(STAFF_AUDIT_FIELDS) - set(ROLE_FIELDS.values())
    unknown = set(changes) - editable
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed here."))
    before = audit.snapshot(staff, STAFF_AUDIT_FIELDS)
    for name, value in changes.items():
        setattr(staff, name, value.strip() if isinstance(value, str) else value)
    if roles is not None:
        _apply_roles(staff, roles)
    if staff.pk == actor.pk and not staff.is_practice_admin:
        raise ValidationError({"roles": "You cannot remove your own practice admin role."})
    if staff.pk == actor.pk and not staff.is_active:
        raise ValidationError({"is_active": "You cannot deactivate your own account."})
    staff.full_clean()
    old, new = audit.changed(before, audit.snapshot(staff, STAFF_AUDIT_FIELDS))
    with transaction.atomic():
        staff.save()
        if new:
            audit.record(
                actor=actor,
                action="staff.update",
                subject_type="staff",
                subject_public_id=staff.public_id,
                before=old,
                after=new,
            )
    return staff


def staff_set_password(*, actor: User, staff: User, new_password: str) -> None:
    """Set a password (the person's own change, or an admin's reset). Never stored in the log."""
    try:
        validate_password(new_password, staff)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from None
    with transaction.atomic():
        staff.set_password(new_password)
        staff.save(update_fields=["password"])
        audit.record(
            actor=actor,
            action="staff.password_change" if actor.pk == staff.pk else "staff.password_reset",
            subject_type="staff",
            subject_public_id=staff.public_id,
        )


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(
    *, actor: User, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a personal API token for the actor; the raw token is returned once, never stored."""
    raw = "kc_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user=actor,
        name=name.strip(),
        prefix=raw[:10],
        token_hash=hash_token(raw),
        expires_at=expires_at,
    )
    if expires_at is not None and expires_at <= now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    token.full_clean()
    with transaction.atomic():
        token.save()
        audit.record(
            actor=actor,
            action="api_token.create",
            subject_type="api_token",
            subject_public_id=token.public_id,
            after={"name": token.name, "prefix": token.prefix, "expires_at": expires_at},
        )
        from kapcare.accounts.tasks import notify_new_api_token

        public_id = str(token.public_id)
        transaction.on_commit(lambda: notify_new_api_token.enqueue(public_id))
    return token, raw


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk and not actor.is_practice_admin:
        raise PermissionError("Only the token's owner or a practice admin can revoke it.")
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="api_token.revoke",
            subject_type="api_token",
            subject_public_id=token.public_id,
            after={"name": token.name, "prefix": token.prefix},
        )
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active owner of a usable token, or None. Records when the token was last used."""
    if not raw.startswith("kc_"):
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(token_hash=hash_token(raw), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    current = now()
    # Writing on every call would make each API read a write; once a minute is enough to see use.
    if token.last_used_at is None or current - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=current)
    return token.user
