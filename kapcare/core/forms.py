from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(
    form: forms.BaseForm, error: ValidationError, rename: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError on the form: on the named field where the form has it
    (`rename` maps a service field to the form field that entered it), otherwise at the top of
    the form, so no message is ever lost."""
    if hasattr(error, "error_dict"):
        for service_field, messages in error.message_dict.items():
            field = (rename or {}).get(service_field, service_field)
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message if target else f"{field}: {message}")
    else:
        for message in error.messages:
            form.add_error(None, message)


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A ValidationError for one field that keeps its rule code.

    (ValidationError({field: message}, code=...) silently drops the code for dict entries, and
    the code is what the API reports as the rule that was broken.)
    """
    return ValidationError({field: ValidationError(message, code=code)})
