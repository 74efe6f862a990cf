"""Background work for screening (run by `kapcare worker`)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task

from kapcare.core.context import WorkContext, working_as
from kapcare.screening.models import ScreeningDecision


@task()
def notify_clearance_invalidated(decision_public_id: str) -> int:
    """E-mail the prescriber who cleared and the client's active prescribers. Like every kapcare
    e-mail, it names no client and no clinical fact; it links to the screening page."""
    decision = (
        ScreeningDecision.objects.select_related("client", "decided_by")
        .filter(public_id=decision_public_id)
        .first()
    )
    if decision is None or decision.invalidated_at is None:
        return 0
    team = decision.client.care_team.filter(ended_at__isnull=True).select_related("staff")
    people = {member.staff for member in team if member.staff.is_prescriber}
    people.add(decision.decided_by)
    recipients = sorted({p.email for p in people if p.is_active and p.email})
    if not recipients:
        return 0
    link = f"{settings.PRACTICE_URL.rstrip('/')}/clients/{decision.client.public_id}/screening/"
    send_mail(
        subject="kapcare: a screening clearance was withdrawn",
        message=(
            "New information changed the screening result of a client you cleared, so the "
            "clearance is withdrawn until a prescriber reviews the screen again.\n\n"
            f"Open the screening: {link}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)


@task()
def rescreen_cleared_clients(trigger: str) -> int:
    """After a parameter or catalogue change: check every clearance in force."""
    from kapcare.screening.services import rescreen_cleared

    with working_as(WorkContext(channel="worker")):
        return rescreen_cleared(actor=None, trigger=trigger)
