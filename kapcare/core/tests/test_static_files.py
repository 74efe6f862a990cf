"""The production static-file build (hashed names, compressed) succeeds with every asset."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management import call_command
from django.test import override_settings


def test_collectstatic_with_the_production_storage(tmp_path: Path) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for asset in (
        "kapcare/kapcare.css",
        "kapcare/vendor/htmx/htmx.min.js",
        "kapcare/vendor/chartjs/chart.umd.min.js",
        "measures/trajectory.js",
    ):
        assert asset in manifest
        assert (tmp_path / manifest[asset]).exists()
