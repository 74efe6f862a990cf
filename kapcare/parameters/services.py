"""Signing off a new value for a clinical rule parameter."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.signals import practice_rules_changed
from kapcare.parameters import registry
from kapcare.parameters.models import ParameterVersion


def can_sign_off(user: User) -> bool:
    """The medical director's decision: a practice admin who is also a prescriber."""
    return bool(user.is_active and user.is_practice_admin and user.is_prescriber)


def parameter_sign_off(
    *, actor: User, key: str, value: object, source: str, reason: str
) -> ParameterVersion:
    if not can_sign_off(actor):
        raise PermissionError("Only a practice admin who is a prescriber signs off parameters.")
    try:
        parameter = registry.get(key)
    except KeyError as unknown:
        raise field_error("key", "No such parameter.", "unknown_parameter") from unknown
    errors: dict[str, ValidationError] = {}
    try:
        parsed = parameter.parse(value)
    except ValueError as bad:
        errors["value"] = ValidationError(str(bad), code="out_of_range")
    if not source.strip():
        errors["source"] = ValidationError(
            "Name the source of this value (label, guideline, protocol or practice policy).",
            code="required",
        )
    if not reason.strip():
        errors["reason"] = ValidationError("Say why the practice chose it.", code="required")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            latest = ParameterVersion.objects.filter(key=key).aggregate(top=Max("version"))["top"]
            row = ParameterVersion.objects.create(
                key=key,
                version=(latest or 0) + 1,
                value=parsed,
                source=source.strip(),
                reason=reason.strip(),
                signed_off_by=actor,
                created_by=actor,
                updated_by=actor,
            )
            audit.record(
                actor=actor,
                action="parameter.sign_off",
                subject_type="parameter",
                subject_public_id=row.public_id,
                after={"key": key, "version": row.version, "value": parsed, "source": row.source},
            )
            practice_rules_changed.send(
                sender=ParameterVersion, actor=actor, reason=f"parameter: {key}", key=key
            )
    except IntegrityError as race:  # two sign-offs of the same key at once
        raise field_error(
            "value", "Someone signed off this parameter at the same moment; try again.", "conflict"
        ) from race
    return row
