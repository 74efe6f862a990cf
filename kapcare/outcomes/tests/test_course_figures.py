"""One course's figures from plain facts (kapcare.outcomes.course_figures), no database: the age
band on the course's start day at every band boundary, attendance, integration within 72 h with
a window still open, measurement completion against a small schedule, REMS forms on time, safety
counts, and each instrument's outcome (response at exactly 50%, remission at PHQ-9 4 vs 5, days
in the practice zone, relapse and durability). Every expected value below is worked out by hand
from the rule it checks and the facts built here."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.courses.schedule import Anchor, CourseEvents, MeasureRule
from kapcare.measures.rules import REMISSION_DEFAULTS, practice_remission_rules
from kapcare.outcomes.course_figures import (
    CourseFacts,
    Figures,
    Outcome,
    RemsFacts,
    SafetyEvent,
    Visit,
    age_band,
    age_on,
    figures,
    outcome,
)
from kapcare.outcomes.rules import DEFAULT_SETTINGS, ProgressSettings, Score

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
START = dt.date(2026, 1, 5)  # a Monday, weeks away from a daylight-saving change
BORN = dt.date(1986, 7, 1)  # 39 on START: "35-44"


def at(day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """`hour`:`minute` Los Angeles time on calendar day `day` after START."""
    date = START + dt.timedelta(days=day)
    return dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=LA)


def visit(kind: str, state: str, starts: dt.datetime, minutes: int = 60) -> Visit:
    return Visit(kind, state, starts, starts + dt.timedelta(minutes=minutes))


def facts(**changes: object) -> CourseFacts:
    fields: dict = {"started_at": at(0), "birth_date": BORN} | changes
    return CourseFacts(**fields)


def run(now: dt.datetime | None = None, **changes: object) -> Figures:
    return figures(facts(**changes), now=now or at(30), zone=LA)


def scores(*points: tuple[int, int]) -> list[Score]:
    """(day, total) pairs, each at 09:00 Los Angeles time."""
    return [Score(at(day), total) for day, total in points]


def judged(
    points: list[Score],
    *,
    instrument: str = "phq9",
    now: dt.datetime | None = None,
    settings: ProgressSettings = DEFAULT_SETTINGS,
) -> Outcome | None:
    if now is None:
        now = max(item.at for item in points) + dt.timedelta(hours=1)
    return outcome(instrument, points, now=now, zone=LA, settings=settings)


# ---------------------------------------------------------------------------------------------
# Age


class TestAge:
    @pytest.mark.parametrize(
        ("age", "band"),
        [
            (None, "unknown"),
            (0, "unknown"),
            (17, "unknown"),
            (18, "18-24"),
            (24, "18-24"),
            (25, "25-34"),
            (34, "25-34"),
            (35, "35-44"),
            (44, "35-44"),
            (45, "45-54"),
            (54, "45-54"),
            (55, "55-64"),
            (64, "55-64"),
            (65, "65+"),
            (100, "65+"),
        ],
    )
    def test_every_band_boundary(self, age: int | None, band: str) -> None:
        assert age_band(age) == band

    @pytest.mark.parametrize(
        ("day", "age"),
        [
            (dt.date(2025, 6, 14), 34),  # the day before the 35th birthday
            (dt.date(2025, 6, 15), 35),  # the birthday
            (dt.date(2025, 6, 16), 35),  # the day after
            (dt.date(2026, 6, 14), 35),
            (dt.date(2026, 6, 15), 36),
            (dt.date(1990, 6, 15), 0),
        ],
    )
    def test_age_in_whole_years_turns_on_the_birthday(self, day: dt.date, age: int) -> None:
        assert age_on(dt.date(1990, 6, 15), day) == age

    def test_a_29_february_birthday_in_leap_and_other_years(self) -> None:
        born = dt.date(2000, 2, 29)
        assert age_on(born, dt.date(2024, 2, 28)) == 23
        assert age_on(born, dt.date(2024, 2, 29)) == 24
        assert age_on(born, dt.date(2023, 3, 1)) == 23

    @pytest.mark.parametrize(
        ("started_at", "band"),
        [
            # 18th birthday on 2025-06-15: the day before is "unknown", the day and after adult.
            (dt.datetime(2025, 6, 14, 12, tzinfo=LA), "unknown"),
            (dt.datetime(2025, 6, 15, 12, tzinfo=LA), "18-24"),
            (dt.datetime(2025, 6, 16, 12, tzinfo=LA), "18-24"),
            # 23:30 on the eve in Los Angeles is already the birthday in UTC: the zone's day.
            (dt.datetime(2025, 6, 14, 23, 30, tzinfo=LA), "unknown"),
            (dt.datetime(2025, 6, 15, 6, 30, tzinfo=dt.UTC), "unknown"),  # 23:30 the eve, LA
            (dt.datetime(2025, 6, 15, 7, 30, tzinfo=dt.UTC), "18-24"),  # 00:30 the day, LA
        ],
    )
    def test_the_band_is_of_the_age_on_the_course_start_day_in_the_zone(
        self, started_at: dt.datetime, band: str
    ) -> None:
        found = figures(
            facts(started_at=started_at, birth_date=dt.date(2007, 6, 15)),
            now=dt.datetime(2026, 1, 1, tzinfo=LA),
            zone=LA,
        )
        assert found.age_band == band

    @pytest.mark.parametrize(
        ("birth_date", "band"),
        [
            (dt.date(1991, 1, 4), "35-44"),  # 35 since yesterday
            (dt.date(1991, 1, 5), "35-44"),  # 35 on the day
            (dt.date(1991, 1, 6), "25-34"),  # 34 until tomorrow
            (dt.date(2001, 1, 5), "25-34"),  # 25 on the day
            (dt.date(2001, 1, 6), "18-24"),  # 24 until tomorrow
            (dt.date(1961, 1, 5), "65+"),  # 65 on the day
            (dt.date(1961, 1, 6), "55-64"),  # 64 until tomorrow
            (dt.date(1961, 1, 4), "65+"),  # 65 since yesterday
        ],
    )
    def test_birthday_before_on_and_after_the_course_start(
        self, birth_date: dt.date, band: str
    ) -> None:
        assert run(birth_date=birth_date).age_band == band


# ---------------------------------------------------------------------------------------------
# Attendance, doses, integration


class TestAttendance:
    def test_held_visits_of_every_kind_count_as_attended_and_no_shows_apart(self) -> None:
        visits = [
            visit("preparation", "held", at(-10)),
            visit("preparation", "held", at(-8)),
            visit("preparation", "no_show", at(-6)),
            visit("preparation", "cancelled", at(-5)),
            visit("dosing", "held", at(0), 180),
            visit("dosing", "no_show", at(3), 180),
            visit("dosing", "booked", at(40), 180),
            visit("integration", "held", at(1)),
            visit("integration", "cancelled", at(2)),
            visit("follow_up", "no_show", at(20)),
            visit("prescriber_visit", "held", at(21)),
        ]
        found = run(visits=visits)
        # held: 2 preparations, 1 dosing, 1 integration, 1 prescriber visit
        assert found.appointments_attended == 5
        # no-shows: 1 preparation, 1 dosing, 1 follow-up
        assert found.appointments_no_show == 3

    def test_no_visits(self) -> None:
        found = run()
        assert (found.appointments_attended, found.appointments_no_show) == (0, 0)
        assert (found.integration_doses, found.integration_met) == (0, 0)

    def test_doses_given_and_bp_excursions_are_the_loader_counts(self) -> None:
        found = run(doses_given=4, bp_excursion_sessions=2)
        assert (found.dosing_sessions, found.bp_excursion_sessions) == (4, 2)


class TestIntegration:
    def test_inside_outside_and_still_open(self) -> None:
        visits = [
            # Dose 1 ends day 0 12:00; integration held 47 h later: met.
            visit("dosing", "held", at(0, 9), 180),
            visit("integration", "held", at(2, 11)),
            # Dose 2 ends day 5 12:00; the window closes day 8 12:00; held day 8 13:00: missed.
            visit("dosing", "held", at(5, 9), 180),
            visit("integration", "held", at(8, 13)),
            # A cancelled integration inside dose 2's window is nothing.
            visit("integration", "cancelled", at(6, 10)),
            # Dose 3 ends day 10 12:00; now is day 11 12:00: the window is open, one booked in
            # it: pending, counted neither way.
            visit("dosing", "held", at(10, 9), 180),
            visit("integration", "booked", at(12, 10)),
            # Not doses: a booked and a missed dosing visit.
            visit("dosing", "booked", at(15, 9), 180),
            visit("dosing", "no_show", at(4, 9), 180),
        ]
        found = run(now=at(11, 12), visits=visits)
        assert found.integration_doses == 2
        assert found.integration_met == 1

    def test_the_pending_dose_is_judged_once_its_window_closes(self) -> None:
        visits = [
            visit("dosing", "held", at(10, 9), 180),  # ends day 10 12:00
            visit("integration", "booked", at(12, 10)),  # never marked held
        ]
        assert run(now=at(13, 11, 59), visits=visits).integration_doses == 0  # open to 12:00
        after = run(now=at(13, 12, 1), visits=visits)
        assert (after.integration_doses, after.integration_met) == (1, 0)

    @pytest.mark.parametrize(("minutes_after", "met"), [(0, 1), (72 * 60, 1), (72 * 60 + 1, 0)])
    def test_the_window_is_72_hours_from_the_end_of_the_dose_both_ends_included(
        self, minutes_after: int, met: int
    ) -> None:
        dose = visit("dosing", "held", at(0, 9), 180)  # ends day 0 12:00
        held = visit("integration", "held", dose.ends_at + dt.timedelta(minutes=minutes_after))
        found = run(now=at(20), visits=[dose, held])
        assert (found.integration_doses, found.integration_met) == (1, met)

    def test_the_window_length_is_the_course_plan(self) -> None:
        dose = visit("dosing", "held", at(0, 9), 180)  # ends day 0 12:00
        held = visit("integration", "held", at(2, 13))  # 49 h later
        assert run(visits=[dose, held]).integration_met == 1
        assert run(visits=[dose, held], integration_hours=48).integration_met == 0

    def test_an_integration_held_before_the_dose_ended_does_not_count(self) -> None:
        dose = visit("dosing", "held", at(0, 9), 180)
        held = visit("integration", "held", at(0, 8))
        found = run(visits=[dose, held])
        assert (found.integration_doses, found.integration_met) == (1, 0)


# ---------------------------------------------------------------------------------------------
# Measurement completion


SCHEDULE = (
    # Windows with the course starting day 0 09:00 and one dose starting day 7 10:00:
    # phq9 and gad7 [day 0 09:00, day 3 09:00]
    MeasureRule(("phq9", "gad7"), Anchor.COURSE_START, offsets_hours=(0,), window_hours=72),
    # phq9 [day 6 10:00, day 7 10:00]
    MeasureRule(("phq9",), Anchor.BEFORE_EACH_DOSE, offsets_hours=(-24,), window_hours=24),
    # phq9 [day 8 10:00, day 9 10:00], [day 10 10:00, day 11 10:00], [day 12 10:00, day 13 10:00]
    MeasureRule(("phq9",), Anchor.AFTER_EACH_DOSE, offsets_hours=(24, 72, 120), window_hours=24),
)
EVENTS = CourseEvents(started_at=at(0), doses=(at(7, 10),))


class TestMeasures:
    def test_done_inside_windows_overdue_outside_open_and_upcoming_not_counted(self) -> None:
        completions = {
            "phq9": [
                at(1, 12),  # course start window: done
                at(6, 20),  # before the dose: done
                at(9, 11),  # an hour after the first after-dose window closed: overdue
            ],
            "gad7": [at(4)],  # after the course start window closed: overdue
        }
        found = run(
            now=at(10, 12),  # the second after-dose window is open (due), the third upcoming
            schedule_events=EVENTS,
            measure_rules=SCHEDULE,
            completions=completions,
        )
        # expected: start phq9 (done), start gad7 (overdue), before-dose (done), after 1 (overdue)
        assert (found.measures_expected, found.measures_done) == (4, 2)

    def test_window_ends_are_included(self) -> None:
        completions = {"phq9": [at(3, 9)], "gad7": [at(0, 9)]}  # closing and opening instants
        found = run(
            now=at(5),  # only the course start windows have closed (before-dose opens day 6)
            schedule_events=EVENTS,
            measure_rules=SCHEDULE,
            completions=completions,
        )
        assert (found.measures_expected, found.measures_done) == (2, 2)

    def test_before_anything_closes_nothing_is_expected(self) -> None:
        found = run(
            now=at(1), schedule_events=EVENTS, measure_rules=SCHEDULE, completions={"phq9": []}
        )
        assert (found.measures_expected, found.measures_done) == (0, 0)

    def test_a_completion_inside_an_open_window_counts_as_done(self) -> None:
        found = run(
            now=at(10, 12),
            schedule_events=EVENTS,
            measure_rules=SCHEDULE,
            completions={"phq9": [at(10, 11)]},  # inside the open second after-dose window
        )
        # start phq9 overdue, start gad7 overdue, before-dose overdue, after 1 overdue, after 2
        # done (its window is open but the questionnaire is in); after 3 upcoming.
        assert (found.measures_expected, found.measures_done) == (5, 1)

    def test_no_schedule_no_measures(self) -> None:
        found = run(measure_rules=SCHEDULE, completions={"phq9": [at(1)]})
        assert (found.measures_expected, found.measures_done) == (0, 0)
        found = run(schedule_events=EVENTS, completions={"phq9": [at(1)]})
        assert (found.measures_expected, found.measures_done) == (0, 0)


# ---------------------------------------------------------------------------------------------
# REMS forms


def due(day: int) -> dt.date:
    return START + dt.timedelta(days=day)


class TestRems:
    def test_on_time_late_past_due_and_not_yet_due(self) -> None:
        forms = [
            RemsFacts(due(10), due(8)),  # submitted before the deadline: due, on time
            RemsFacts(due(10), due(10)),  # on the deadline day: due, on time
            RemsFacts(due(10), due(12)),  # submitted late: due, not on time
            RemsFacts(due(15), None),  # deadline passed, nothing sent: due, late
            RemsFacts(due(20), None),  # deadline today: not due yet
            RemsFacts(due(25), None),  # deadline to come: not due yet
        ]
        found = run(now=at(20, 12), rems_forms=forms)
        assert (found.rems_forms_due, found.rems_forms_on_time) == (4, 2)

    def test_a_form_submitted_early_counts_before_its_deadline(self) -> None:
        found = run(now=at(20, 12), rems_forms=[RemsFacts(due(25), due(19))])
        assert (found.rems_forms_due, found.rems_forms_on_time) == (1, 1)

    def test_today_is_the_practice_zone_day(self) -> None:
        # 20:00 on day 19 in Los Angeles is 04:00 on day 20 in UTC: the deadline is today.
        forms = [RemsFacts(due(19), None)]
        assert run(now=at(19, 20), rems_forms=forms).rems_forms_due == 0
        assert run(now=at(20, 0, 1), rems_forms=forms).rems_forms_due == 1


# ---------------------------------------------------------------------------------------------
# Safety


class TestSafety:
    def test_counts_by_category_kind_and_severity(self) -> None:
        events = [
            SafetyEvent("side_effect", "nausea", "mild"),
            SafetyEvent("adverse_event", "serious", "severe"),
            SafetyEvent("side_effect", "nausea", "mild"),
            SafetyEvent("adverse_event", "not_serious", "moderate"),
            SafetyEvent("side_effect", "headache", "mild"),
            SafetyEvent("side_effect", "nausea", "moderate"),
            SafetyEvent("adverse_event", "not_serious", "moderate"),
            SafetyEvent("side_effect", "nausea", "mild"),
        ]
        found = run(safety=events)
        assert found.safety == (
            ("adverse_event", "not_serious", "moderate", 2),
            ("adverse_event", "serious", "severe", 1),
            ("side_effect", "headache", "mild", 1),
            ("side_effect", "nausea", "mild", 3),
            ("side_effect", "nausea", "moderate", 1),
        )
        assert found.adverse_events == 3

    def test_side_effects_alone_are_no_adverse_events(self) -> None:
        found = run(safety=[SafetyEvent("side_effect", "dizziness", "severe")])
        assert found.adverse_events == 0
        assert found.safety == (("side_effect", "dizziness", "severe", 1),)
        assert run().safety == ()


# ---------------------------------------------------------------------------------------------
# Outcomes


class TestOutcome:
    def test_only_a_baseline(self) -> None:
        assert judged(scores((0, 20))) == Outcome(
            instrument="phq9",
            scores=1,
            baseline=20,
            latest=20,
            change=None,
            responded=None,
            remitted=None,
            days_to_response=None,
            days_to_remission=None,
            relapsed=None,
            kept_3_months=None,
            kept_6_months=None,
        )

    def test_exactly_half_is_a_response(self) -> None:
        found = judged(scores((0, 20), (7, 16), (14, 10)))
        assert found is not None
        assert (found.scores, found.baseline, found.latest, found.change) == (3, 20, 10, -10)
        assert found.responded is True
        assert found.days_to_response == 14
        assert found.remitted is False  # 10 > 4
        assert found.days_to_remission is None
        assert found.relapsed is None  # no remission to lose

    def test_a_point_short_of_half_is_not(self) -> None:
        found = judged(scores((0, 20), (14, 11)))
        assert found is not None
        assert (found.change, found.responded, found.days_to_response) == (-9, False, None)

    def test_the_first_response_is_dated_even_when_the_latest_is_not_one(self) -> None:
        found = judged(scores((0, 20), (10, 9), (20, 14)))
        assert found is not None
        assert (found.responded, found.days_to_response) == (False, 10)

    @pytest.mark.parametrize(("latest", "remitted", "days"), [(4, True, 28), (5, False, None)])
    def test_phq9_remission_is_4_or_less(
        self, latest: int, remitted: bool, days: int | None
    ) -> None:
        assert REMISSION_DEFAULTS["phq9"].at_most == 4  # clinical-facts §6.2: "<5"
        found = judged(scores((0, 20), (28, latest)))
        assert found is not None
        assert (found.remitted, found.days_to_remission) == (remitted, days)
        assert found.responded is True  # 20 -> 5 is also past half

    def test_days_are_calendar_days_in_the_zone(self) -> None:
        # One hour apart, across midnight in Los Angeles (both on the same UTC day).
        points = [Score(at(0, 23, 30), 20), Score(at(1, 0, 30), 3)]
        found = judged(points)
        assert found is not None
        assert (found.days_to_response, found.days_to_remission) == (1, 1)
        # Eight hours apart on one Los Angeles day (two UTC days).
        points = [Score(at(0, 9), 20), Score(at(0, 17), 3)]
        found = judged(points)
        assert found is not None
        assert (found.days_to_response, found.days_to_remission) == (0, 0)

    def test_relapse_after_remission(self) -> None:
        found = judged(scores((0, 20), (28, 4), (56, 9)))
        assert found is not None
        assert (found.remitted, found.relapsed) == (False, True)
        # Relapse 28 days after the first remission: not kept through 3 or 6 months.
        assert (found.kept_3_months, found.kept_6_months) == (False, False)

    def test_remission_kept(self) -> None:
        found = judged(scores((0, 20), (28, 4), (56, 2)))
        assert found is not None
        assert (found.remitted, found.relapsed) == (True, False)
        assert (found.kept_3_months, found.kept_6_months) == (None, None)  # 28 days on

    def test_no_remission_no_relapse_to_judge(self) -> None:
        found = judged(scores((0, 20), (28, 12), (56, 18)))
        assert found is not None
        assert (found.remitted, found.relapsed) == (False, None)
        assert (found.kept_3_months, found.kept_6_months) == (None, None)

    def test_durability_waits_for_91_and_182_days_after_the_first_remission(self) -> None:
        # First remission on day 28; 91 days after is day 119, 182 days after is day 210.
        early = scores((0, 20), (28, 4), (118, 3))
        found = judged(early, now=at(118, 12))
        assert found is not None
        assert (found.kept_3_months, found.kept_6_months) == (None, None)
        found = judged(early, now=at(125))  # 97 days on, but no score from day 119 on
        assert found is not None
        assert found.kept_3_months is None
        three = scores((0, 20), (28, 4), (119, 3))
        found = judged(three, now=at(119, 12))
        assert found is not None
        assert (found.kept_3_months, found.kept_6_months) == (True, None)
        six = scores((0, 20), (28, 4), (119, 3), (209, 2))
        found = judged(six, now=at(209, 12))
        assert found is not None
        assert (found.kept_3_months, found.kept_6_months) == (True, None)  # day 181
        six = scores((0, 20), (28, 4), (119, 3), (210, 2))
        found = judged(six, now=at(210, 12))
        assert found is not None
        assert (found.kept_3_months, found.kept_6_months) == (True, True)
        assert found.relapsed is False

    def test_a_relapse_between_3_and_6_months(self) -> None:
        # Relapse 100 days after the first remission (day 28 + 100 = day 128).
        found = judged(scores((0, 20), (28, 4), (100, 2), (128, 12)), now=at(200))
        assert found is not None
        assert found.relapsed is True
        assert (found.kept_3_months, found.kept_6_months) == (True, False)

    def test_scores_after_now_are_left_out(self) -> None:
        found = judged(scores((0, 20), (14, 10), (28, 3)), now=at(20))
        assert found is not None
        assert (found.scores, found.latest, found.remitted) == (2, 10, False)

    def test_an_instrument_without_a_remission_definition(self) -> None:
        assert "gad7" not in REMISSION_DEFAULTS
        found = judged(scores((0, 16), (14, 2)), instrument="gad7")
        assert found is not None
        assert (found.responded, found.remitted, found.relapsed) == (True, None, None)
        assert (found.days_to_response, found.days_to_remission) == (14, None)

    def test_the_practice_madrs_threshold_is_used(self) -> None:
        points = scores((0, 30), (28, 11))
        found = judged(points, instrument="madrs")
        assert found is not None
        assert found.remitted is True  # default ≤12
        practice = ProgressSettings(remission=practice_remission_rules(10))
        found = judged(points, instrument="madrs", settings=practice)
        assert found is not None
        assert found.remitted is False

    def test_no_scores_no_outcome(self) -> None:
        assert judged([], now=at(1)) is None


class TestOutcomesOfACourse:
    def test_one_per_instrument_with_scores_in_name_order(self) -> None:
        found = run(
            scores={
                "qids_sr16": scores((0, 16), (14, 5)),
                "phq9": scores((0, 20), (14, 10)),
                "madrs": [],
                "gad7": scores((0, 15)),
            }
        )
        assert [item.instrument for item in found.outcomes] == ["gad7", "phq9", "qids_sr16"]
        gad7, phq9, qids = found.outcomes
        assert (gad7.scores, gad7.baseline, gad7.change) == (1, 15, None)
        assert (phq9.latest, phq9.responded, phq9.remitted) == (10, True, False)
        assert (qids.latest, qids.remitted) == (5, True)  # QIDS-SR16 remission ≤5

    def test_the_settings_are_passed_on(self) -> None:
        facts_ = facts(scores={"madrs": scores((0, 30), (28, 11))})
        loose = figures(facts_, now=at(30), zone=LA)
        strict = figures(
            facts_,
            now=at(30),
            zone=LA,
            settings=ProgressSettings(remission=practice_remission_rules(10)),
        )
        assert (loose.outcomes[0].remitted, strict.outcomes[0].remitted) == (True, False)

    def test_no_scores_at_all(self) -> None:
        assert run().outcomes == ()
        assert run(scores={"phq9": []}).outcomes == ()


# ---------------------------------------------------------------------------------------------
# Properties for any input


KINDS = ("preparation", "dosing", "integration", "follow_up")
STATES = ("booked", "held", "cancelled", "no_show")
hours = st.integers(min_value=-24 * 5, max_value=24 * 40)
visits = st.lists(
    st.builds(
        lambda kind, state, hour, minutes: visit(
            kind, state, at(0) + dt.timedelta(hours=hour), minutes
        ),
        st.sampled_from(KINDS),
        st.sampled_from(STATES),
        hours,
        st.integers(min_value=30, max_value=240),
    ),
    max_size=25,
)
days = st.integers(min_value=-5, max_value=45)
rems = st.lists(
    st.builds(
        lambda due_day, sent: RemsFacts(due(due_day), None if sent is None else due(sent)),
        days,
        st.none() | days,
    ),
    max_size=10,
)
completions = st.dictionaries(
    st.sampled_from(("phq9", "gad7")),
    st.lists(hours.map(lambda hour: at(0) + dt.timedelta(hours=hour)), max_size=10),
)


@given(
    visits,
    rems,
    completions,
    st.lists(hours.map(lambda hour: at(0) + dt.timedelta(hours=hour)), max_size=6),
    hours,
    st.integers(min_value=1, max_value=120),
)
def test_parts_never_exceed_their_wholes(
    visits_: list[Visit],
    rems_: list[RemsFacts],
    completed: dict[str, list[dt.datetime]],
    doses: list[dt.datetime],
    now_hour: int,
    window: int,
) -> None:
    found = figures(
        facts(
            visits=visits_,
            rems_forms=rems_,
            completions=completed,
            schedule_events=CourseEvents(started_at=at(0), doses=tuple(sorted(doses))),
            measure_rules=SCHEDULE,
            integration_hours=window,
        ),
        now=at(0) + dt.timedelta(hours=now_hour),
        zone=LA,
    )
    assert 0 <= found.integration_met <= found.integration_doses
    held_doses = sum(1 for v in visits_ if v.kind == "dosing" and v.state == "held")
    assert found.integration_doses <= held_doses
    assert 0 <= found.measures_done <= found.measures_expected
    assert 0 <= found.rems_forms_on_time <= found.rems_forms_due <= len(rems_)
    assert found.appointments_attended + found.appointments_no_show <= len(visits_)
