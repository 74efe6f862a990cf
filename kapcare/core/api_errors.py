"""One JSON shape for every API error: {"errors": [{"field", "rule", "message"}]}.

A client of the API can always tell which field broke which rule, whether the problem was a
wrong type (caught by the schema) or a clinical or record rule (caught by a service).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


def error_item(field: str | None, rule: str, message: str) -> dict[str, Any]:
    return {"field": field, "rule": rule, "message": message}


def from_django(error: ValidationError) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                message = item.message % item.params if item.params else item.message
                target = None if field == "__all__" else field
                items.append(error_item(target, item.code or "invalid", str(message)))
    else:
        for item in error.error_list:
            message = item.message % item.params if item.params else item.message
            items.append(error_item(None, item.code or "invalid", str(message)))
    return items


def from_schema(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic's errors (as django-ninja passes them) in kapcare's shape."""
    items = []
    for error in errors:
        location = [str(part) for part in error.get("loc", []) if part not in ("body", "payload")]
        field = ".".join(location) or None
        items.append(error_item(field, str(error.get("type", "invalid")), str(error.get("msg"))))
    return items
