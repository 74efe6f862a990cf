"""Shared pytest setup: persona fixtures, and Chromium for the browser tests."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from kapcare.testing.personas import Practice, practice  # noqa: F401  (fixtures)
from kapcare.testing.worker import run_worker  # noqa: F401  (fixture)

# Property tests check correctness, not speed: on a loaded CI machine (two databases and the
# browser tests share its cores) a deadline or the too-slow health check would fail them for
# nothing. Speed is measured by `kapcare bench`.
settings.register_profile("kapcare", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("kapcare")

BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("KAPCARE_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def browsers_required() -> bool:
    return os.environ.get("KAPCARE_TEST_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    path = chromium_path()
    if path is None:
        if browsers_required():
            pytest.fail("Chromium is required (KAPCARE_TEST_REQUIRE_ALL/CI) but was not found")
        pytest.skip("no Chromium on this machine: apt-get install chromium, or KAPCARE_CHROMIUM")
    return {**browser_type_launch_args, "executable_path": path, "args": BROWSER_FLAGS}


@pytest.fixture(autouse=True)
def _browser_tests_need_async_unsafe(request: pytest.FixtureRequest) -> None:
    # Playwright runs an event loop in the test thread; Django's ORM refuses to run under one
    # unless told the test knows what it is doing.
    if request.node.get_closest_marker("browser"):
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
