"""The `kapcare` command: Django's management commands plus kapcare's own.

kapcare's subcommands (serve, worker, createstaff, demo, ...) are management commands in the
apps, so `kapcare X` and `python manage.py X` are the same thing.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapcare.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["kapcare", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
