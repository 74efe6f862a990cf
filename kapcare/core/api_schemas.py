"""Base for API input schemas."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class StrictSchema(Schema):
    """Input that names a field kapcare does not know is refused (422, rule extra_forbidden)
    rather than silently ignored: a script sending "status" must learn it had no effect."""

    model_config = ConfigDict(extra="forbid")
