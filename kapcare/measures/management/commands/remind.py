"""`kapcare remind`: send what is due. Run it hourly (cron or a systemd timer).

The workers send appointment reminders and a course's questionnaires at the moment they fall
due; this sweep catches any whose queued task was lost, and sends the reminders for questionnaire
links. Each is claimed before it is sent, so running it alongside the workers sends nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kapcare.core.context import WorkContext, working_as
from kapcare.core.time import now
from kapcare.courses.measure_sends import measures_send_due
from kapcare.courses.reminders import reminders_send_due
from kapcare.measures.self_report import links_remind


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class Command(BaseCommand):
    help = (
        "Send what is due: questionnaire-link reminders (once per link, "
        "KAPCARE_SELF_REPORT_REMINDER_HOURS after it was sent), appointment reminders "
        "(KAPCARE_APPOINTMENT_REMINDER_HOURS before the start) and the questionnaires of each "
        "course's measurement schedule whose window is open."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with working_as(WorkContext(channel="cli")):
            links = links_remind()
            appointments = reminders_send_due(at=now())
            measures = measures_send_due(at=now())
        self.stdout.write(f"{_count(links, 'reminder', 'reminders')} sent.")
        # The sweeps below usually find nothing (the workers sent it on time): quiet then.
        if appointments:
            self.stdout.write(
                f"{_count(appointments, 'appointment reminder', 'appointment reminders')} sent."
            )
        if measures:
            sends = _count(measures, "questionnaire send", "questionnaire sends")
            self.stdout.write(f"{sends} from course schedules recorded.")
