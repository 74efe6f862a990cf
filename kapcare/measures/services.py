"""Recording administrations (habit 2): score with the rules, then save and audit together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.forms import field_error
from kapcare.core.time import now
from kapcare.measures import rules
from kapcare.measures.instruments import INSTRUMENTS, Kind
from kapcare.measures.models import Administration, Source
from kapcare.safety.services import flag_raise_for_administration


class AnswersInvalid(ValidationError):
    """The answers cannot be scored (the API answers 422, as for /score)."""


def scoring_problems(error: rules.ScoringError) -> AnswersInvalid:
    """A ScoringError as a ValidationError keyed `answers.<item>` (or `instrument`)."""
    by_field: dict[str, list[ValidationError]] = {}
    for problem in error.problems:
        name = f"answers.{problem.item}" if problem.item else "instrument"
        by_field.setdefault(name, []).append(ValidationError(problem.message, code=problem.rule))
    return AnswersInvalid(by_field)


def administration_record(
    *,
    actor: User | None,
    client: Client,
    instrument: str,
    answers: Mapping[str, Any],
    completed_at: dt.datetime | None = None,
    replaces: Administration | None = None,
    correction_reason: str = "",
    self_report: bool = False,
) -> Administration:
    """Score and store one completed form. A correction names the administration it replaces.

    `actor` is None only for a form the client completed from a self-report link
    (`self_report=True`); the audit row then says so.
    """
    if actor is None and not self_report:
        raise PermissionError("Only a self-report link records a form without a staff member.")
    definition = INSTRUMENTS.get(instrument)
    if definition is None:
        message = f"No instrument {instrument!r}; known: {', '.join(sorted(INSTRUMENTS))}."
        raise AnswersInvalid({"instrument": ValidationError(message, code="unknown_instrument")})
    try:
        cleaned = rules.validate(definition, answers)
        result = rules.score_validated(definition, cleaned)
    except rules.ScoringError as error:
        raise scoring_problems(error) from None
    when = completed_at or now()
    if when > now() + dt.timedelta(minutes=5):
        raise field_error("completed_at", "This cannot be in the future.", "future_date")
    correction_reason = correction_reason.strip()
    if replaces is not None:
        if replaces.client_id != client.pk or replaces.instrument != instrument:
            raise field_error(
                "replaces",
                "A correction replaces a form of the same client and instrument.",
                "mismatch",
            )
        if Administration.objects.filter(replaces=replaces).exists():
            raise field_error(
                "replaces",
                "That form has already been corrected; correct the newer one.",
                "already_replaced",
            )
        if not correction_reason:
            raise field_error("correction_reason", "Say why the form is corrected.", "required")
    administration = Administration(
        client=client,
        instrument=instrument,
        source=(
            Source.SELF_REPORT
            if self_report
            else Source.SCORE_ENTRY
            if definition.kind == Kind.SCORE_ENTRY
            else Source.CLINIC
        ),
        completed_at=when,
        answers=cleaned,
        total=result.total,
        band=result.band or "",
        complete=result.complete,
        prorated=result.prorated,
        missing=list(result.missing),
        flags=list(result.flags),
        details=dict(result.details),
        scoring_version=result.scoring_version,
        replaces=replaces,
        correction_reason=correction_reason,
        entered_by=actor,
        created_by=actor,
        updated_by=actor,
    )
    administration.full_clean()
    with transaction.atomic():
        administration.save()
        flag_raise_for_administration(actor=actor, administration=administration)
        audit.record(
            actor=actor,
            action="measure.correct" if replaces else "measure.record",
            subject_type="administration",
            subject_public_id=administration.public_id,
            client_public_id=client.public_id,
            after={
                "instrument": instrument,
                "completed_at": when,
                "answers": cleaned,
                "total": result.total,
                "band": result.band,
                "flags": list(result.flags),
            },
            detail=(
                {"replaces": str(replaces.public_id), "reason": correction_reason}
                if replaces
                else {"completed_by": "client", "via": "self_report_link"}
                if self_report
                else None
            ),
        )
    return administration
