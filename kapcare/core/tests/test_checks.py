"""System checks for dangerous configuration, and the start-up guard that runs them."""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path
from types import ModuleType

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from kapcare.core import checks
from kapcare.core.startup import refuse_unsafe_start
from kapcare.settings import PLACEHOLDER_SECRET_KEY

GOOD_KEY = secrets.token_hex(32)  # 64 random hex characters
LOCAL = ["127.0.0.1", "localhost"]


def ids(messages: list) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(PLACEHOLDER_SECRET_KEY, id="placeholder"),
        pytest.param("", id="empty"),
        pytest.param("abcdefghij0123456789", id="too-short"),
        pytest.param("ab" * 40, id="too-simple"),
        pytest.param("q8Zr-insecure-" + secrets.token_hex(30), id="contains-insecure"),
    ],
)
def test_e001_for_a_bad_secret_in_production(key: str) -> None:
    with override_settings(DEBUG=False, SECRET_KEY=key):
        errors = checks.check_secret_key(None)
    assert ids(errors) == ["kapcare.E001"]
    assert "KAPCARE_SECRET_KEY" in errors[0].msg
    assert errors[0].is_serious()


def load_production_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str
) -> ModuleType:
    """kapcare.settings evaluated afresh under the given environment (not installed)."""
    monkeypatch.setenv("KAPCARE_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = Path(__file__).resolve().parents[2] / "settings.py"
    spec = importlib.util.spec_from_file_location("kapcare_settings_probe", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_secret_in_the_environment_fails_e001(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    production = load_production_settings(
        monkeypatch, tmp_path, KAPCARE_SECRET_KEY=value, KAPCARE_DEBUG="0"
    )
    assert production.DEBUG is False
    assert production.SECRET_KEY == PLACEHOLDER_SECRET_KEY
    with override_settings(DEBUG=production.DEBUG, SECRET_KEY=production.SECRET_KEY):
        assert ids(checks.check_secret_key(None)) == ["kapcare.E001"]


def test_a_real_secret_in_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    production = load_production_settings(
        monkeypatch, tmp_path, KAPCARE_SECRET_KEY=GOOD_KEY, KAPCARE_DEBUG="0"
    )
    assert production.SECRET_KEY == GOOD_KEY
    with override_settings(DEBUG=production.DEBUG, SECRET_KEY=production.SECRET_KEY):
        assert checks.check_secret_key(None) == []


def test_e001_not_raised_for_a_long_random_secret() -> None:
    assert len(GOOD_KEY) == 64
    with override_settings(DEBUG=False, SECRET_KEY=GOOD_KEY):
        assert checks.check_secret_key(None) == []


def test_e001_not_raised_in_debug() -> None:
    with override_settings(DEBUG=True, SECRET_KEY=PLACEHOLDER_SECRET_KEY):
        assert checks.check_secret_key(None) == []


def test_e002_debug_with_non_local_hosts() -> None:
    with override_settings(DEBUG=True, ALLOWED_HOSTS=["127.0.0.1", "clinic.example.org"]):
        errors = checks.check_debug_over_network(None)
    assert ids(errors) == ["kapcare.E002"]
    assert errors[0].is_serious()


def test_e002_not_raised_for_local_hosts_or_without_debug() -> None:
    with override_settings(DEBUG=True, ALLOWED_HOSTS=[*LOCAL, "::1"]):
        assert checks.check_debug_over_network(None) == []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["clinic.example.org"]):
        assert checks.check_debug_over_network(None) == []


def test_w001_plain_http_with_a_non_local_host() -> None:
    with override_settings(HTTPS=False, ALLOWED_HOSTS=["clinic.example.org"]):
        warnings = checks.check_plain_http(None)
    assert ids(warnings) == ["kapcare.W001"]
    assert not warnings[0].is_serious()


def test_w001_not_raised_with_https_or_local_hosts() -> None:
    with override_settings(HTTPS=True, ALLOWED_HOSTS=["clinic.example.org"]):
        assert checks.check_plain_http(None) == []
    with override_settings(HTTPS=False, ALLOWED_HOSTS=LOCAL):
        assert checks.check_plain_http(None) == []


def test_w002_time_zone_utc_in_production() -> None:
    with override_settings(DEBUG=False, TIME_ZONE="UTC"):
        warnings = checks.check_time_zone(None)
    assert ids(warnings) == ["kapcare.W002"]
    assert not warnings[0].is_serious()


def test_w002_not_raised_with_a_practice_zone() -> None:
    with override_settings(DEBUG=False, TIME_ZONE="America/New_York"):
        assert checks.check_time_zone(None) == []


def test_the_checks_are_registered() -> None:
    from django.core import checks as django_checks

    registered = django_checks.registry.registry.get_checks()
    for check in (
        checks.check_secret_key,
        checks.check_debug_over_network,
        checks.check_plain_http,
        checks.check_time_zone,
    ):
        assert check in registered


def test_refuse_unsafe_start_names_e001() -> None:
    with (
        override_settings(DEBUG=False, SECRET_KEY=PLACEHOLDER_SECRET_KEY, ALLOWED_HOSTS=LOCAL),
        pytest.raises(ImproperlyConfigured, match=r"kapcare\.E001") as raised,
    ):
        refuse_unsafe_start()
    assert "KAPCARE_SECRET_KEY" in str(raised.value)


def test_refuse_unsafe_start_names_e002() -> None:
    with (
        override_settings(DEBUG=True, ALLOWED_HOSTS=["clinic.example.org"]),
        pytest.raises(ImproperlyConfigured, match=r"kapcare\.E002"),
    ):
        refuse_unsafe_start()


def test_refuse_unsafe_start_passes_a_safe_configuration() -> None:
    # Warnings (plain HTTP on localhost is fine; UTC is only a warning) do not stop a start.
    with override_settings(
        DEBUG=False, SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS=LOCAL, TIME_ZONE="UTC", HTTPS=False
    ):
        refuse_unsafe_start()
