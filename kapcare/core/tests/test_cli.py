"""The `kapcare` command line."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from kapcare.cli import main

SAFE = {
    "DEBUG": False,
    "SECRET_KEY": secrets.token_hex(32),
    "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
    "TIME_ZONE": "America/New_York",
}


def test_check_passes_on_a_safe_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    with override_settings(**SAFE):
        assert main(["check"]) == 0
    output = capsys.readouterr()
    assert "System check identified" in output.out
    assert "ERRORS" not in output.out + output.err


def test_check_fails_on_the_placeholder_secret(capsys: pytest.CaptureFixture[str]) -> None:
    from kapcare.settings import PLACEHOLDER_SECRET_KEY

    with (
        override_settings(**{**SAFE, "SECRET_KEY": PLACEHOLDER_SECRET_KEY}),
        pytest.raises(SystemExit) as exited,
    ):
        main(["check"])
    assert exited.value.code != 0
    assert "kapcare.E001" in capsys.readouterr().err


def test_the_kapcare_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "kapcare"
    assert script.is_file()
    assert os.access(script, os.X_OK)
    assert "kapcare.cli" in script.read_text()
