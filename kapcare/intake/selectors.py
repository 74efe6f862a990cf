"""Reads of inquiries for the front desk's pages."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404

from kapcare.intake.models import OPEN_STATUSES, Inquiry, InquiryStatus

# Open inquiries first, in the order they move through, then the finished ones.
LIST_ORDER = [status.value for status in InquiryStatus]
OPEN_FILTER = "open"


def inquiry_list(status: str = "") -> QuerySet[Inquiry]:
    """Inquiries, open first (new, contacted, consultation booked, consultation held), newest
    first within each status; `status` narrows to one status, or to every open one."""
    inquiries = Inquiry.objects.select_related("consultation_with", "client").annotate(
        stage=Case(
            *[When(status=value, then=Value(rank)) for rank, value in enumerate(LIST_ORDER)],
            output_field=IntegerField(),
        )
    )
    if status == OPEN_FILTER:
        inquiries = inquiries.filter(status__in=OPEN_STATUSES)
    elif status in InquiryStatus.values:
        inquiries = inquiries.filter(status=status)
    return inquiries.order_by("stage", "-created_at", "-id")


def new_inquiry_count() -> int:
    return Inquiry.objects.filter(status=InquiryStatus.NEW).count()


def get_inquiry(public_id: uuid.UUID | str) -> Inquiry:
    """The inquiry with this public id and what its page shows, or Http404."""
    try:
        return Inquiry.objects.select_related("consultation_with", "client").get(
            public_id=public_id
        )
    except (Inquiry.DoesNotExist, ValueError, ValidationError) as missing:
        raise Http404("No such inquiry.") from missing
