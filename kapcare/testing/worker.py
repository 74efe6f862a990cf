"""Running the real background worker inside a test."""

from __future__ import annotations

import io
import signal
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django_tasks_db.management.commands import db_worker


@pytest.fixture
def run_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """`run_worker(tasks=1)` runs `kapcare worker` until it has taken that many tasks.

    Needs committed data (pytest.mark.django_db(transaction=True)) so that on_commit hooks
    really enqueue. The worker's random start-up pause is skipped, and the signal handlers it
    installs for a graceful stop are put back afterwards.
    """
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    monkeypatch.setattr(db_worker, "random", SimpleNamespace(random=lambda: 0.0))

    def run(tasks: int = 1) -> None:
        call_command("worker", max_tasks=tasks, interval=0.01, stdout=io.StringIO())

    yield run
    for sig, handler in saved.items():
        signal.signal(sig, handler)
