"""`kapcare remind`: send the reminders that are due. Run it hourly (cron or a systemd timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kapcare.core.context import WorkContext, working_as
from kapcare.measures.self_report import links_remind


class Command(BaseCommand):
    help = (
        "Remind clients whose questionnaire link is still not completed "
        "KAPCARE_SELF_REPORT_REMINDER_HOURS after it was sent (once per link)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with working_as(WorkContext(channel="cli")):
            count = links_remind()
        self.stdout.write(f"{count} reminder{'s' if count != 1 else ''} sent.")
