"""Logging filters that keep PHI out of application logs."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

_QUERY = re.compile(r"\?[^\s\"']*")


class StripQueryStrings(logging.Filter):
    """Cuts query strings from request lines: a client search (?q=Jane+Doe) is PHI.

    Paths carry only opaque UUIDs, so what is left is safe to keep.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg = _QUERY.sub("?[redacted]", message)
            record.args = None
        return True


class SafeFormatter(logging.Formatter):
    """Keeps tracebacks useful (where it failed, and with what kind of error) but withholds
    exception messages, which can quote client data (a database error echoing a value)."""

    def formatException(self, ei: Any) -> str:
        exc_type, _value, tb = ei
        if exc_type is None:
            return ""
        frames = "".join(traceback.format_tb(tb))
        return (
            f"Traceback (most recent call last):\n{frames}"
            f"{exc_type.__module__}.{exc_type.__qualname__}: (message withheld: may hold PHI)"
        )
