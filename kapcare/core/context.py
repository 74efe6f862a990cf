"""Where the current piece of work came from: web, API, command line or worker.

The audit log records the address and channel of every event. Services take the actor as an
argument (habit 2) but read the channel from here, so a service called from the CLI records
"cli" and one called from a request records the client's address without threading the request
through every call.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkContext:
    channel: str  # "web", "api", "cli", "worker", "system"
    ip: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


_current: contextvars.ContextVar[WorkContext | None] = contextvars.ContextVar(
    "kapcare_work_context", default=None
)


def current() -> WorkContext:
    return _current.get() or WorkContext(channel="system")


@contextlib.contextmanager
def working_as(context: WorkContext) -> Iterator[WorkContext]:
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
