"""The schedule pages: days in the practice zone across a daylight-saving change, clients named
only to those who may see them, a flat query count, 404s and sign-in."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core.models import AuditEvent
from kapcare.core.time import practice_today
from kapcare.courses import calendar
from kapcare.courses.models import Appointment, Room, State
from kapcare.testing.factories import make_client, make_member, make_staff
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice

LA = zoneinfo.ZoneInfo("America/Los_Angeles")  # the test settings' practice zone


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LA)


def book(
    client: Client,
    clinician: User,
    starts_at: dt.datetime,
    *,
    minutes: int = 60,
    kind: str = "consultation",
    room: Room | None = None,
    second: User | None = None,
    state: str = State.BOOKED,
) -> Appointment:
    """A row made directly: the calendar shows the past too, which booking refuses."""
    return Appointment.objects.create(
        client=client,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        clinician=clinician,
        second_clinician=second,
        room=room,
        state=state,
        created_by=clinician,
        updated_by=clinician,
    )


def week_url(user: User, day: str) -> str:
    return f"/schedule/clinician/{user.public_id}/week/?date={day}"


def columns(response) -> dict[dt.date, list[uuid.UUID]]:
    return {
        day.date: [entry.appointment.public_id for entry in day.entries]
        for day, _ in response.context["days"]
    }


@pytest.fixture
def room(db: None) -> Room:
    return Room.objects.create(name="Garden room")


class TestDays:
    def test_a_week_is_monday_to_sunday(self) -> None:
        days = calendar.week_days(dt.date(2026, 3, 8))  # a Sunday
        assert days[0] == dt.date(2026, 3, 2)
        assert days[-1] == dt.date(2026, 3, 8)
        assert [d.weekday() for d in days] == list(range(7))

    @pytest.mark.parametrize(
        ("day", "hours"),
        [
            (dt.date(2026, 3, 8), 7 * 24 - 1),  # clocks go forward on Sunday 8 March
            (dt.date(2026, 11, 1), 7 * 24 + 1),  # and back on Sunday 1 November
            (dt.date(2026, 6, 10), 7 * 24),
        ],
    )
    def test_a_week_lasts_as_long_as_the_clock_says(self, day: dt.date, hours: int) -> None:
        days = calendar.week_days(day)
        start, end = calendar.day_range(days[0], days[-1], LA)
        assert end - start == dt.timedelta(hours=hours)
        assert start.astimezone(LA).time() == end.astimezone(LA).time() == dt.time(0, 0)

    def test_a_range_may_not_end_before_it_starts(self) -> None:
        with pytest.raises(ValueError, match="ends before"):
            calendar.day_range(dt.date(2026, 3, 9), dt.date(2026, 3, 8), LA)


class TestDaylightSaving:
    def test_appointments_land_on_their_local_day_in_a_week_with_a_clock_change(
        self, practice: Practice
    ) -> None:
        t = practice.therapist
        jamie = practice.client
        before_week = book(jamie, t, at(2026, 3, 1, 22, 30))  # Sunday of the week before
        into_monday = book(jamie, t, at(2026, 3, 1, 23, 30))  # runs past midnight into Monday
        monday_early = book(jamie, t, at(2026, 3, 2, 0, 15))
        sunday_before_change = book(jamie, t, at(2026, 3, 8, 1, 30))
        sunday_late = book(jamie, t, at(2026, 3, 8, 22, 30))  # 05:30 UTC on Monday 9th
        next_monday = book(jamie, t, at(2026, 3, 9, 0, 30))  # before 01:00: 24 h from midnight
        http = signed_in(t)

        response = http.get(week_url(t, "2026-03-05"))

        assert response.status_code == 200
        week = columns(response)
        assert list(week) == [dt.date(2026, 3, d) for d in range(2, 9)]
        # A session that began on the Sunday before and ran into Monday is shown there, as such.
        assert week[dt.date(2026, 3, 2)] == [into_monday.public_id, monday_early.public_id]
        assert "Sun 23:30–00:30" in response.content.decode()
        assert week[dt.date(2026, 3, 8)] == [
            sunday_before_change.public_id,
            sunday_late.public_id,
        ]
        shown = {pk for ids in week.values() for pk in ids}
        assert before_week.public_id not in shown
        assert next_monday.public_id not in shown
        # An hour of elapsed time across the change reads 01:30 to 03:30 on the clock.
        assert "01:30–03:30" in response.content.decode()

        following = columns(http.get(week_url(t, "2026-03-09")))
        assert following[dt.date(2026, 3, 9)] == [next_monday.public_id]

    def test_the_day_view_of_the_change_holds_its_two_sessions(self, practice: Practice) -> None:
        t = practice.therapist
        first = book(practice.client, t, at(2026, 3, 8, 1, 30))
        last = book(practice.client, t, at(2026, 3, 8, 22, 30))
        book(practice.client, t, at(2026, 3, 9, 0, 30))

        response = signed_in(t).get(f"/schedule/clinician/{t.public_id}/day/?date=2026-03-08")

        assert columns(response) == {dt.date(2026, 3, 8): [first.public_id, last.public_id]}


class TestWhoIsShown:
    def test_an_outsider_sees_booked_with_kind_and_time_but_never_the_client(
        self, practice: Practice, room: Room
    ) -> None:
        when = at(2026, 3, 4, 10)
        book(practice.client, practice.therapist, when, kind="preparation", room=room)

        page = signed_in(practice.outsider).get(week_url(practice.therapist, "2026-03-04"))

        html = page.content.decode()
        assert page.status_code == 200
        assert "Booked" in html
        assert "Preparation" in html
        assert "10:00–11:00" in html
        for secret in ("Quinlan", str(practice.client.public_id)):
            assert secret not in html

    def test_the_care_team_sees_the_name_linked_to_the_chart(self, practice: Practice) -> None:
        book(practice.client, practice.therapist, at(2026, 3, 4, 10))
        for viewer in (practice.therapist, practice.front_desk, practice.admin):
            html = signed_in(viewer).get(week_url(practice.therapist, "2026-03-04")).content
            assert b"Jay Quinlan" in html
            assert f'href="/clients/{practice.client.public_id}/"'.encode() in html

    def test_a_room_shows_each_viewer_only_their_own_clients(
        self, practice: Practice, room: Room
    ) -> None:
        other = Client.objects.get(legal_family_name="Person")  # the outsider's client
        book(practice.client, practice.therapist, at(2026, 3, 4, 9), room=room)
        book(other, practice.outsider, at(2026, 3, 4, 11), room=room)
        url = f"/schedule/room/{room.public_id}/week/?date=2026-03-04"

        html = signed_in(practice.outsider).get(url).content.decode()

        assert "Other Person" in html
        assert "Quinlan" not in html
        assert html.count(">Booked<") == 1
        event = AuditEvent.objects.filter(action="schedule.read").latest("id")
        assert event.subject_public_id == room.public_id
        assert event.detail["clients"] == [str(other.public_id)]
        assert event.detail["shown"] == 2

    def test_cancelled_sessions_are_left_out_unless_asked_for_and_then_struck_through(
        self, practice: Practice
    ) -> None:
        book(practice.client, practice.therapist, at(2026, 3, 4, 9), state=State.CANCELLED)
        http = signed_in(practice.therapist)
        url = week_url(practice.therapist, "2026-03-04")

        assert all(not day.entries for day, _ in http.get(url).context["days"])
        html = http.get(url + "&cancelled=1").content.decode()
        assert "<del>" in html
        assert "Cancelled" in html
        assert "09:00–10:00" in html

    def test_the_second_clinician_sees_the_session_too(self, practice: Practice) -> None:
        session = book(
            practice.client,
            practice.prescriber,
            at(2026, 3, 4, 9),
            kind="dosing",
            second=practice.therapist,
        )
        week = columns(
            signed_in(practice.therapist).get(week_url(practice.therapist, "2026-03-04"))
        )
        assert week[dt.date(2026, 3, 4)] == [session.public_id]


def test_the_query_count_does_not_grow_with_appointments(practice: Practice, room: Room) -> None:
    http = signed_in(practice.outsider)
    url = week_url(practice.therapist, "2026-03-04")
    strangers = [make_client() for _ in range(3)]
    for client in strangers:
        make_member(client=client, staff=practice.outsider)
    everyone = [practice.client, *strangers, make_client()]

    def add(count: int) -> None:
        for n in range(count):
            book(
                everyone[n % len(everyone)],
                practice.therapist,
                at(2026, 3, 2 + n % 7, 8) + dt.timedelta(minutes=61 * (n // 7)),
                room=room if n % 2 else None,
                second=practice.nurse if n % 3 else None,
            )

    add(2)
    http.get(url)  # anything cached on a first request is cached before counting
    with CaptureQueriesContext(connection) as few:
        assert http.get(url).status_code == 200
    add(10)
    with CaptureQueriesContext(connection) as many:
        response = http.get(url)
    assert sum(len(day.entries) for day, _ in response.context["days"]) == 12
    assert len(many) == len(few)


class TestPages:
    def test_unknown_room_or_person_is_404(self, practice: Practice) -> None:
        http = signed_in(practice.front_desk)
        assert http.get(f"/schedule/room/{uuid.uuid4()}/week/").status_code == 404
        assert http.get(f"/schedule/room/{uuid.uuid4()}/day/").status_code == 404
        assert http.get(f"/schedule/clinician/{uuid.uuid4()}/week/").status_code == 404

    def test_signed_out_visitors_are_sent_to_sign_in(self, practice: Practice, room: Room) -> None:
        http = signed_in(practice.therapist)
        http.logout()
        for path in (
            "/schedule/",
            week_url(practice.therapist, "2026-03-04"),
            f"/schedule/room/{room.public_id}/day/",
        ):
            response = http.get(path)
            assert response.status_code == 302, path
            assert response["Location"].startswith("/accounts/login/")

    def test_schedule_opens_my_week_and_the_chooser_leads_to_a_calendar(
        self, practice: Practice, room: Room
    ) -> None:
        http = signed_in(practice.nurse)
        mine = http.get("/schedule/")
        assert mine.status_code == 302
        assert mine["Location"] == (
            f"/schedule/clinician/{practice.nurse.public_id}/week/"
            f"?date={practice_today().isoformat()}"
        )
        chosen = http.get(
            "/schedule/",
            {
                "show": f"room:{room.public_id}",
                "date": "2026-03-05",
                "view": "day",
                "cancelled": "on",
            },
        )
        assert chosen["Location"] == (
            f"/schedule/room/{room.public_id}/day/?date=2026-03-05&cancelled=1"
        )
        # A choice that is not on the list leads back to the person's own week.
        wrong = http.get("/schedule/", {"show": f"room:{uuid.uuid4()}", "view": "week"})
        assert f"/schedule/clinician/{practice.nurse.public_id}/week/" in wrong["Location"]

    def test_previous_next_and_today_links(self, practice: Practice) -> None:
        t = practice.therapist
        response = signed_in(t).get(week_url(t, "2026-03-04"))
        assert response.context["previous_url"].endswith("?date=2026-02-25")
        assert response.context["next_url"].endswith("?date=2026-03-11")
        assert response.context["today_url"].endswith(f"?date={practice_today().isoformat()}")
        html = response.content.decode()
        assert 'href="/schedule/"' in html  # the main navigation's Schedule item
        assert "Previous week" in html

    def test_a_bad_date_shows_today(self, practice: Practice) -> None:
        t = practice.therapist
        response = signed_in(t).get(week_url(t, "2026-02-30"))
        assert response.status_code == 200
        assert response.context["day"] == practice_today()

    def test_the_chooser_lists_clinicians_and_rooms(self, practice: Practice, room: Room) -> None:
        retired = Room.objects.create(name="Old annex", active=False)
        colleague = make_staff(front_desk=True, first_name="Fern", last_name="Desk")
        html = (
            signed_in(practice.therapist)
            .get(f"/schedule/clinician/{colleague.public_id}/week/")
            .content.decode()
        )
        assert f'value="room:{room.public_id}"' in html
        assert f'value="clinician:{practice.prescriber.public_id}"' in html
        assert f'value="clinician:{colleague.public_id}"' in html  # the calendar on screen
        assert f'value="room:{retired.public_id}"' not in html
