"""The clinician's calendar feed: the secret works until revoked or replaced, shows only the
person's own sessions and nothing about any client, parses as iCalendar with UTC times that
stay right across a daylight-saving change, and every change is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import zoneinfo

import icalendar
import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.services import api_token_create
from kapcare.core.models import AuditEvent
from kapcare.core.time import now
from kapcare.courses.calendar_feed import feed_calendar, feed_create, feed_for_token, feed_revoke
from kapcare.courses.models import CalendarFeed, Course, Room, State
from kapcare.courses.tests.helpers import appointment, in_hours
from kapcare.courses.tests.test_services import course_for
from kapcare.testing.factories import make_client
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

URL = re.compile(r"/calendar/feed\.ics\?t=([A-Za-z0-9_-]+)")
LA = zoneinfo.ZoneInfo("America/Los_Angeles")


def fetch(raw: str) -> HttpClient:
    return HttpClient().get("/calendar/feed.ics", {"t": raw})


def events(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def uid(item) -> str:
    return f"{item.public_id}@kapcare"


def test_the_page_shows_the_address_once_and_the_feed_works(practice: Practice) -> None:
    browser = signed_in(practice.therapist)
    assert b"You have no calendar feed." in browser.get("/calendar/feed/").content
    page = browser.post("/calendar/feed/")
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    raw = URL.search(page.content.decode()).group(1)
    assert b"webcal://" in page.content
    again = browser.get("/calendar/feed/").content.decode()
    assert raw not in again
    assert "In use since" in again
    mine = appointment(practice, starts_at=in_hours(30))
    response = fetch(raw)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert list(events(response.content)) == [uid(mine)]
    feed = CalendarFeed.objects.get()
    assert feed.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert feed.last_used_at is not None
    event = AuditEvent.objects.get(action="calendar_feed.create")
    assert (event.actor, event.channel, event.subject_public_id) == (
        practice.therapist,
        "web",
        feed.public_id,
    )


def test_a_replaced_or_revoked_address_stops_working(practice: Practice) -> None:
    browser = signed_in(practice.therapist)
    first = URL.search(browser.post("/calendar/feed/").content.decode()).group(1)
    second = URL.search(browser.post("/calendar/feed/").content.decode()).group(1)
    assert fetch(first).status_code == 404
    assert fetch(second).status_code == 200
    replaced = AuditEvent.objects.get(action="calendar_feed.revoke")
    assert replaced.detail["reason"] == "replaced"
    response = browser.post("/calendar/feed/revoke/", follow=True)
    assert b"its address no longer works" in response.content
    assert fetch(second).status_code == 404
    assert [
        e.detail["reason"] for e in AuditEvent.objects.filter(action="calendar_feed.revoke")
    ] == [
        "revoked",
        "replaced",
    ]
    assert AuditEvent.objects.filter(action="calendar_feed.create").count() == 2
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()


@pytest.mark.parametrize("raw", ["", "nope", "x" * 43, "x" * 500])
def test_unknown_addresses_are_not_found(practice: Practice, raw: str) -> None:
    feed_create(actor=practice.therapist)
    assert fetch(raw).status_code == 404


def test_an_inactive_persons_feed_is_not_found(practice: Practice) -> None:
    _, raw = feed_create(actor=practice.therapist)
    practice.therapist.is_active = False
    practice.therapist.save()
    assert fetch(raw).status_code == 404


def test_only_revoked_by_its_owner_or_a_practice_admin(practice: Practice) -> None:
    feed, raw = feed_create(actor=practice.therapist)
    with pytest.raises(PermissionError):
        feed_revoke(actor=practice.nurse, feed=feed)
    assert feed_for_token(raw) is not None
    feed_revoke(actor=practice.admin, feed=feed)
    assert feed_for_token(raw) is None


def test_only_the_persons_own_sessions_in_the_window(practice: Practice) -> None:
    course = course_for(practice)
    room = Room.objects.create(name="Room 3")
    as_lead = appointment(practice, starts_at=in_hours(5))
    as_second = appointment(
        practice, starts_at=in_hours(50), kind="dosing", course=course, room=room, second=True
    )
    cancelled = appointment(practice, starts_at=in_hours(80), state=State.CANCELLED)
    recent = appointment(practice, starts_at=now() - dt.timedelta(days=29))
    appointment(practice, starts_at=now() - dt.timedelta(days=31))
    appointment(practice, starts_at=now() + dt.timedelta(days=181))
    colleague = Course.objects.create(
        client=make_client(), protocol="kap_sublingual", started_on=now().date()
    )
    other = appointment(practice, starts_at=in_hours(7), course=colleague)
    other.clinician = practice.outsider
    other.save()
    found = events(feed_calendar(practice.therapist, at=now()).to_ical())
    assert set(found) == {uid(as_lead), uid(as_second), uid(cancelled), uid(recent)}
    dosing = found[uid(as_second)]
    assert str(dosing["summary"]) == "Dosing session"
    assert str(dosing["location"]) == "Room 3"
    assert str(practice.prescriber) in str(dosing["description"])
    assert str(dosing["status"]) == "CONFIRMED"
    assert str(found[uid(cancelled)]["status"]) == "CANCELLED"
    assert str(found[uid(cancelled)]["summary"]) == "Cancelled: Preparation session"
    assert set(events(feed_calendar(practice.outsider, at=now()).to_ical())) == {uid(other)}


def test_nothing_about_the_client_is_in_the_feed(practice: Practice) -> None:
    course = course_for(practice)
    room = Room.objects.create(name="Room 1")
    appointment(
        practice, starts_at=in_hours(20), kind="dosing", course=course, room=room, second=True
    )
    appointment(practice, starts_at=in_hours(40), course=course)
    _, raw = feed_create(actor=practice.therapist)
    body = fetch(raw).content.decode()
    assert body.count("BEGIN:VEVENT") == 2
    client = practice.client
    unfolded = body.replace("\r\n ", "")
    for private in (
        client.legal_given_names,
        client.legal_family_name,
        client.preferred_name,
        "JQ",
        client.email,
        client.phone,
        str(client.public_id),
        str(course.public_id),
        "reconnect with family",
    ):
        assert private not in unfolded


def test_times_are_utc_and_right_across_a_daylight_saving_change(practice: Practice) -> None:
    # Los Angeles moves from PST (UTC-8) to PDT (UTC-7) on 14 March 2027.
    before = appointment(practice, starts_at=dt.datetime(2027, 3, 13, 10, 0, tzinfo=LA))
    after = appointment(practice, starts_at=dt.datetime(2027, 3, 15, 10, 0, tzinfo=LA), minutes=90)
    body = feed_calendar(practice.therapist, at=dt.datetime(2027, 3, 1, tzinfo=dt.UTC)).to_ical()
    text = body.decode()
    assert "DTSTART:20270313T180000Z" in text
    assert "DTSTART:20270315T170000Z" in text
    assert "DTEND:20270315T183000Z" in text
    found = events(body)
    assert found[uid(before)].decoded("dtstart") == dt.datetime(2027, 3, 13, 18, 0, tzinfo=dt.UTC)
    assert found[uid(after)].decoded("dtstart").astimezone(LA) == dt.datetime(
        2027, 3, 15, 10, 0, tzinfo=LA
    )


def test_the_secret_is_not_logged(practice: Practice, caplog) -> None:
    _, raw = feed_create(actor=practice.therapist)
    caplog.set_level(logging.DEBUG)
    fetch(raw)
    fetch(raw[:-2] + "zz")  # a wrong one is logged as "Not Found" with its path
    assert "feed.ics" in caplog.text
    assert raw not in caplog.text
    assert raw[:-2] not in caplog.text


def test_the_feed_query_count_does_not_grow(practice: Practice) -> None:
    _, raw = feed_create(actor=practice.therapist)
    room = Room.objects.create(name="Room 9")

    def add(n: int, offset: int) -> None:
        for i in range(n):
            appointment(practice, starts_at=in_hours(offset + 3 * i), room=room, second=True)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert fetch(raw).status_code == 200
        return len(captured)

    add(3, 10)
    few = count()
    add(30, 100)
    assert count() == few


def test_signed_out_and_forged_requests_are_refused(practice: Practice) -> None:
    assert HttpClient().get("/calendar/feed/").status_code == 302
    assert HttpClient().post("/calendar/feed/").status_code == 302
    forged = HttpClient(enforce_csrf_checks=True)
    forged.force_login(practice.therapist)
    assert forged.post("/calendar/feed/").status_code == 403
    assert forged.post("/calendar/feed/revoke/").status_code == 403
    assert not CalendarFeed.objects.exists()


def test_the_menu_links_to_the_feed_page(practice: Practice) -> None:
    assert b'href="/calendar/feed/"' in signed_in(practice.nurse).get("/").content


class TestApi:
    def test_own_feed_create_read_revoke(self, practice: Practice) -> None:
        _, token = api_token_create(actor=practice.nurse, name="phone")
        api = HttpClient(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.get("/api/v1/calendar-feed").status_code == 404
        created = api.post("/api/v1/calendar-feed")
        assert created.status_code == 201
        data = created.json()
        raw = URL.search(data["url"]).group(1)
        assert data["url"].startswith("http")
        assert (data["past_days"], data["ahead_days"]) == (30, 180)
        assert fetch(raw).status_code == 200
        shown = api.get("/api/v1/calendar-feed").json()
        assert shown["id"] == data["id"]
        assert "url" not in shown
        assert shown["last_used_at"] is not None
        assert api.delete("/api/v1/calendar-feed").status_code == 204
        assert fetch(raw).status_code == 404
        assert api.delete("/api/v1/calendar-feed").status_code == 404
        assert [
            (e.action, e.channel)
            for e in AuditEvent.objects.filter(action__startswith="calendar_feed").order_by("id")
        ] == [("calendar_feed.create", "api"), ("calendar_feed.revoke", "api")]

    def test_a_session_needs_its_csrf_token_and_others_are_unreachable(
        self, practice: Practice
    ) -> None:
        feed_create(actor=practice.therapist)
        forged = HttpClient(enforce_csrf_checks=True)
        forged.force_login(practice.nurse)
        assert forged.post("/api/v1/calendar-feed").status_code == 403
        assert forged.get("/api/v1/calendar-feed").status_code == 404  # the therapist's is not hers
        assert HttpClient().get("/api/v1/calendar-feed").status_code == 401
        assert CalendarFeed.objects.count() == 1
