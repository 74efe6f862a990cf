"""Changes to the medication catalogue (practice admins only), audited; a change that can move a
screen result asks the cleared screens to be checked again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare.accounts.models import User
from kapcare.core import audit
from kapcare.core.signals import practice_rules_changed
from kapcare.medications.interactions import BY_CODE
from kapcare.medications.models import Kind, Medication

FIELDS = (
    "name",
    "other_names",
    "kind",
    "antidepressant_class",
    "min_adequate_daily_dose_mg",
    "min_dose_source",
    "usual_max_daily_dose_mg",
    "interaction_categories",
    "lorazepam_equivalent_mg",
    "active",
)


def _check(medication: Medication) -> None:
    errors: dict[str, ValidationError] = {}
    try:
        medication.full_clean()
    except ValidationError as error:
        errors.update({name: ValidationError(found) for name, found in error.error_dict.items()})
    unknown = [c for c in medication.interaction_categories if c not in BY_CODE]
    if unknown:
        errors["interaction_categories"] = ValidationError(
            f"Unknown interaction categories: {', '.join(unknown)}.", code="invalid_choice"
        )
    if medication.kind == Kind.ANTIDEPRESSANT and not medication.antidepressant_class:
        errors["antidepressant_class"] = ValidationError(
            "An antidepressant needs its class (the Thase–Rush stage depends on it).",
            code="required",
        )
    if medication.kind != Kind.ANTIDEPRESSANT:
        for name in ("antidepressant_class", "min_adequate_daily_dose_mg"):
            if getattr(medication, name) not in ("", None):
                errors[name] = ValidationError(
                    "Only antidepressants have a class and a minimum adequate dose.",
                    code="not_antidepressant",
                )
    if medication.min_adequate_daily_dose_mg is not None and not medication.min_dose_source:
        errors["min_dose_source"] = ValidationError(
            "Say where the minimum adequate dose comes from.", code="required"
        )
    for name in (
        "min_adequate_daily_dose_mg",
        "usual_max_daily_dose_mg",
        "lorazepam_equivalent_mg",
    ):
        value = getattr(medication, name)
        if value is not None and value <= 0:
            errors[name] = ValidationError("Must be more than 0.", code="min_value")
    low, high = medication.min_adequate_daily_dose_mg, medication.usual_max_daily_dose_mg
    if low is not None and high is not None and high < low:
        errors["usual_max_daily_dose_mg"] = ValidationError(
            "The top of the usual range is below the minimum adequate dose.", code="range"
        )
    if Medication.objects.filter(name__iexact=medication.name).exclude(pk=medication.pk).exists():
        errors["name"] = ValidationError("The catalogue already has this drug.", code="unique")
    if errors:
        raise ValidationError(errors)


def medication_save(
    *, actor: User, fields: Mapping[str, Any], medication: Medication | None = None
) -> Medication:
    if not actor.is_practice_admin:
        raise PermissionError("Only practice admins change the medication catalogue.")
    creating = medication is None
    target = medication if medication is not None else Medication()
    before = {} if creating else audit.snapshot(target, FIELDS)
    for name in FIELDS:
        if name in fields:
            setattr(target, name, fields[name])
    if isinstance(target.name, str):
        target.name = target.name.strip()
    _check(target)
    after = audit.snapshot(target, FIELDS)
    with transaction.atomic():
        if creating:
            target.created_by = actor
        target.updated_by = actor
        target.save()
        old, new = audit.changed(before, after)
        audit.record(
            actor=actor,
            action="medication.create" if creating else "medication.update",
            subject_type="medication",
            subject_public_id=target.public_id,
            before=old or None,
            after=new,
        )
        practice_rules_changed.send(
            sender=Medication, actor=actor, reason=f"catalogue: {target.name}"
        )
    return target
