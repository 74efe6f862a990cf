"""Logging filters that keep PHI out of application logs."""

from __future__ import annotations

import logging
import re

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
