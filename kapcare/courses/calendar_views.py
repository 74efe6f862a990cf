"""The schedule pages: one clinician's or one room's day or week.

Any signed-in staff member may look at any clinician's or room's calendar (the front desk books
from them); who an appointment is for is shown only where the viewer may see that client
(kapcare.courses.calendar).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from kapcare.accounts.models import User
from kapcare.clients.forms import DateInput
from kapcare.core.time import practice_today, practice_zone
from kapcare.core.views import staff_user
from kapcare.courses import calendar
from kapcare.courses.models import Room

VIEWS = ((calendar.WEEK, "Week"), (calendar.DAY, "Day"))


class ChooseForm(forms.Form):
    """Whose calendar, which date, a day or a week (a GET form: it only leads to a page)."""

    show = forms.ChoiceField(label="Calendar of")
    date = forms.DateField(required=False, widget=DateInput())
    view = forms.ChoiceField(choices=VIEWS, initial=calendar.WEEK)
    cancelled = forms.BooleanField(required=False, label="Show cancelled")

    def __init__(self, *args: Any, current: User | Room | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = list(calendar.calendar_staff())
        rooms = list(Room.objects.filter(active=True))
        # The calendar on screen is always among the choices, even a front-desk colleague's or a
        # room no longer in use.
        if isinstance(current, User) and current not in staff:
            staff.append(current)
        if isinstance(current, Room) and current not in rooms:
            rooms.append(current)
        self.fields["show"].choices = [  # type: ignore[attr-defined]
            ("Clinicians", [(f"clinician:{user.public_id}", str(user)) for user in staff]),
            ("Rooms", [(f"room:{room.public_id}", room.name) for room in rooms]),
        ]


def _date(value: str | None, today: dt.date) -> dt.date:
    """The date asked for; an old or hand-edited link with a bad date shows today."""
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return today


def _page_url(of: str, subject_id: uuid.UUID, view: str, day: dt.date, cancelled: bool) -> str:
    query = {"date": day.isoformat()} | ({"cancelled": "1"} if cancelled else {})
    return f"{reverse(f'calendar:{of}_{view}', args=[subject_id])}?{urlencode(query)}"


@require_GET
def schedule_view(request: HttpRequest) -> HttpResponse:
    """The chooser's target: the calendar chosen, or without a choice the person's own week."""
    user = staff_user(request)
    today = practice_today()
    form = ChooseForm(request.GET)
    if request.GET and form.is_valid():
        of, _, subject_id = form.cleaned_data["show"].partition(":")
        return redirect(
            _page_url(
                of,
                uuid.UUID(subject_id),
                form.cleaned_data["view"],
                form.cleaned_data["date"] or today,
                form.cleaned_data["cancelled"],
            )
        )
    return redirect(_page_url("clinician", user.public_id, calendar.WEEK, today, False))


def _calendar_page(
    request: HttpRequest, *, of: str, subject: User | Room, view: str
) -> HttpResponse:
    viewer = staff_user(request)
    zone = practice_zone()
    today = practice_today()
    day = _date(request.GET.get("date"), today)
    cancelled = request.GET.get("cancelled") == "1"
    dates = calendar.days_of(day, view)
    start, end = calendar.day_range(dates[0], dates[-1], zone)
    if isinstance(subject, User):
        found = calendar.clinician_appointments(subject, start, end, include_cancelled=cancelled)
    else:
        found = calendar.room_appointments(subject, start, end, include_cancelled=cancelled)
    appointments = list(found)
    entries = calendar.entries(appointments, calendar.visible_names(viewer, appointments), zone)
    calendar.record_schedule_read(
        viewer=viewer, of=of, subject=subject, start=start, end=end, entries=entries
    )
    form = ChooseForm(
        initial={
            "show": f"{of}:{subject.public_id}",
            "date": day,
            "view": view,
            "cancelled": cancelled,
        },
        current=subject,
    )

    def link(when: dt.date, as_view: str = view) -> str:
        return _page_url(of, subject.public_id, as_view, when, cancelled)

    unit = "week" if view == calendar.WEEK else "day"
    return render(
        request,
        "courses/calendar.html",
        {
            "of": of,
            "subject": subject,
            "view": view,
            "day": day,
            "days": [
                (item, link(item.date, calendar.DAY))
                for item in calendar.lay_out(entries, dates, today)
            ],
            "first": dates[0],
            "last": dates[-1],
            "form": form,
            "cancelled": cancelled,
            "unit": unit,
            "previous_url": link(calendar.step(day, view, -1)),
            "next_url": link(calendar.step(day, view, 1)),
            "today_url": link(today),
            "week_url": link(day, calendar.WEEK),
            "day_url": link(day, calendar.DAY),
            "zone": str(zone),
        },
    )


@require_GET
def clinician_calendar_view(request: HttpRequest, staff_id: uuid.UUID, view: str) -> HttpResponse:
    staff_user(request)
    person = get_object_or_404(User, public_id=staff_id)
    return _calendar_page(request, of="clinician", subject=person, view=view)


@require_GET
def room_calendar_view(request: HttpRequest, room_id: uuid.UUID, view: str) -> HttpResponse:
    staff_user(request)
    room = get_object_or_404(Room, public_id=room_id)
    return _calendar_page(request, of="room", subject=room, view=view)
