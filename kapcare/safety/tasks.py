"""Telling the care team about a new safety flag (run by `kapcare worker`)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task

from kapcare.safety.models import FlagKind, SafetyFlag


@task()
def notify_safety_flag(flag_public_id: str) -> int:
    """E-mail the client's active clinicians. The e-mail names no client and no answer (e-mail
    is not a safe place for PHI): it says a flag is waiting and links to the chart."""
    flag = SafetyFlag.objects.select_related("client").filter(public_id=flag_public_id).first()
    if flag is None or not flag.is_open:
        return 0
    recipients = sorted(
        {
            member.staff.email
            for member in flag.client.care_team.filter(ended_at__isnull=True).select_related(
                "staff"
            )
            if member.staff.is_active and member.staff.email and member.staff.is_clinician
        }
    )
    if not recipients:
        return 0
    link = f"{settings.PRACTICE_URL.rstrip('/')}/clients/{flag.client.public_id}/"
    if flag.kind == FlagKind.VITAL_SIGNS:
        subject = "kapcare: a vital-signs flag needs review"
        ask = "A prescriber or nurse needs to review it and record what was done."
    else:
        subject = f"kapcare: a safety flag needs review ({flag.get_severity_display()})"
        ask = "A clinician needs to review it and record a risk assessment today."
    send_mail(
        subject=subject,
        message=(
            f"A safety flag was raised for a client on your care team. {ask}"
            f"\n\nOpen the chart: {link}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
