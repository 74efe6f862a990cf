"""Integration windows (across daylight-saving changes), integration states, proposed slots, and
the gates before a dose, each alone and combined, with the override path."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapcare.courses import rules
from kapcare.courses.protocols import PROTOCOLS

LA = zoneinfo.ZoneInfo("America/Los_Angeles")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(zone: dt.tzinfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone)  # type: ignore[misc]


class TestWindow:
    def test_72_hours_is_elapsed_time_across_spring_forward(self) -> None:
        # US clocks go forward on 2026-03-08 at 02:00: 72 elapsed hours end at 11:00 local.
        opens, closes = rules.integration_window(at(LA, 2026, 3, 7, 10, 0), 72)
        assert closes - opens == dt.timedelta(hours=72)
        assert closes.astimezone(LA).timetuple()[:5] == (2026, 3, 10, 11, 0)

    def test_across_fall_back(self) -> None:
        # US clocks go back on 2026-11-01: 72 elapsed hours end at 09:00 local.
        _, closes = rules.integration_window(at(LA, 2026, 10, 31, 10, 0), 72)
        assert closes.astimezone(LA).timetuple()[:5] == (2026, 11, 3, 9, 0)

    def test_same_instant_in_any_zone(self) -> None:
        dose = at(LA, 2026, 6, 1, 9, 0)
        _, in_la = rules.integration_window(dose, 72)
        _, in_berlin = rules.integration_window(dose.astimezone(BERLIN), 72)
        assert in_la == in_berlin

    def test_naive_times_and_empty_windows_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            rules.integration_window(dt.datetime(2026, 1, 1, 9), 72)  # noqa: DTZ001 (the point)
        with pytest.raises(ValueError, match="more than 0"):
            rules.integration_window(at(LA, 2026, 1, 1, 9), 0)


DOSE = at(LA, 2026, 3, 7, 13, 0)  # ends 13:00 the day before spring-forward


def later(hours: float) -> dt.datetime:
    """`hours` of elapsed time after the dose (in UTC: adding to an LA time adds wall-clock
    hours, which across the spring-forward change is an hour too many)."""
    return rules.utc(DOSE) + dt.timedelta(hours=hours)


def session(hours_after: float, state: str) -> rules.Session:
    return rules.Session(later(hours_after), state)


class TestIntegrationState:
    @pytest.mark.parametrize(
        ("sessions", "now_after", "expected"),
        [
            ([], 1, rules.AT_RISK),
            ([], 73, rules.MISSED),
            ([session(20, "booked")], 1, rules.BOOKED_IN_WINDOW),
            ([session(20, "held")], 30, rules.HELD_IN_WINDOW),
            ([session(20, "held")], 500, rules.HELD_IN_WINDOW),
            ([session(72, "held")], 80, rules.HELD_IN_WINDOW),  # at the very end still counts
            ([session(72.5, "held")], 80, rules.MISSED),
            ([session(80, "booked")], 1, rules.AT_RISK),  # booked, but outside the window
            ([session(20, "cancelled")], 1, rules.AT_RISK),
            ([session(20, "no_show")], 30, rules.AT_RISK),
            ([session(20, "booked")], 30, rules.AT_RISK),  # its time passed, not marked held
            ([session(20, "no_show"), session(50, "booked")], 30, rules.BOOKED_IN_WINDOW),
            ([session(-2, "held")], 30, rules.AT_RISK),  # before the dose ended
        ],
    )
    def test_states(self, sessions, now_after: float, expected: str) -> None:
        now = later(now_after)
        assert rules.integration_state(DOSE, sessions, hours=72, now=now) == expected

    def test_two_needed(self) -> None:
        one = [session(20, "held")]
        now = later(30)
        assert rules.integration_state(DOSE, one, hours=72, needed=2, now=now) == rules.AT_RISK
        two = [*one, session(60, "booked")]
        assert (
            rules.integration_state(DOSE, two, hours=72, needed=2, now=now)
            == rules.BOOKED_IN_WINDOW
        )


class TestProposedSlots:
    def test_slots_fall_inside_the_window_in_working_hours_and_avoid_busy_times(self) -> None:
        busy = [(at(LA, 2026, 3, 9, 9, 0), at(LA, 2026, 3, 9, 12, 0))]
        slots = rules.proposed_integration_slots(
            DOSE,
            hours=72,
            minutes=60,
            busy=busy,
            day_starts=dt.time(9),
            day_ends=dt.time(17),
            zone=LA,
            limit=200,
        )
        _, closes = rules.integration_window(DOSE, 72)
        assert slots
        assert slots[0] == at(LA, 2026, 3, 7, 13, 0)
        for start in slots:
            local = start.astimezone(LA)
            assert dt.time(9) <= local.time()
            assert (start + dt.timedelta(hours=1)).astimezone(LA).time() <= dt.time(17)
            assert start >= DOSE
            assert start + dt.timedelta(hours=1) <= closes
            assert not (busy[0][0] < start + dt.timedelta(hours=1) and start < busy[0][1])
        assert slots == sorted(slots)
        # Across the DST change the local half-hours stay on the half-hour.
        assert all(s.astimezone(LA).minute in (0, 30) for s in slots)

    def test_no_slot_is_proposed_in_the_past(self) -> None:
        later = at(LA, 2026, 3, 8, 15, 10)  # the day after the dose, mid-afternoon
        slots = rules.proposed_integration_slots(
            DOSE,
            hours=72,
            minutes=60,
            busy=[],
            day_starts=dt.time(9),
            day_ends=dt.time(17),
            zone=LA,
            not_before=later,
        )
        assert slots[0] == at(LA, 2026, 3, 8, 15, 30)
        assert all(slot >= later for slot in slots)

    def test_at_most_so_many_a_day_so_the_choice_spans_the_window(self) -> None:
        slots = rules.proposed_integration_slots(
            DOSE,
            hours=72,
            minutes=60,
            busy=[],
            day_starts=dt.time(9),
            day_ends=dt.time(17),
            zone=LA,
            limit=6,
            per_day=2,
        )
        days = [slot.astimezone(LA).date() for slot in slots]
        assert len(slots) == 6
        assert all(days.count(day) == 2 for day in set(days))
        assert len(set(days)) == 3
        assert slots == sorted(slots)

    def test_an_odd_end_time_rounds_up_to_the_next_half_hour(self) -> None:
        slots = rules.proposed_integration_slots(
            at(LA, 2026, 6, 2, 10, 7),
            hours=72,
            minutes=50,
            busy=[],
            day_starts=dt.time(9),
            day_ends=dt.time(17),
            zone=LA,
            limit=1,
        )
        assert slots == [at(LA, 2026, 6, 2, 10, 30)]


def inputs(**changes: object) -> rules.GateInputs:
    base = {
        "screening_cleared": True,
        "screening_reason": "",
        "consent_signed": True,
        "needs_rems": False,
        "rems_enrolled": False,
        "prep_done": 5,
        "prep_required": 5,
        "baseline_missing": (),
        "open_flags": (),
        "dose_at": DOSE_AT,
        "other_doses": (DOSE_AT - dt.timedelta(days=7),),
        "min_days_between_doses": 3,
        "zone": LA,
    }
    return rules.GateInputs(**(base | changes))  # type: ignore[arg-type]


DOSE_AT = dt.datetime(2026, 3, 12, 10, 0, tzinfo=LA)  # a Thursday

FAILURES = {
    "screening": {"screening_cleared": False, "screening_reason": "Clearance withdrawn: new MAOI."},
    "consent": {"consent_signed": False},
    "rems": {"needs_rems": True, "rems_enrolled": False},
    "preparation": {"prep_done": 4},
    "baseline": {"baseline_missing": ("PHQ-9", "GAD-7")},
    "safety": {"open_flags": ("high",)},
    "spacing": {"other_doses": (DOSE_AT - dt.timedelta(days=7), DOSE_AT - dt.timedelta(days=2))},
}


class TestGates:
    def test_all_pass(self) -> None:
        gates = rules.dosing_gates(inputs())
        assert rules.may_dose(gates)
        assert [g.code for g in gates] == [
            "screening",
            "consent",
            "preparation",
            "baseline",
            "spacing",
            "safety",
        ]
        assert all(g.source for g in gates)

    @pytest.mark.parametrize("code", FAILURES)
    def test_each_reason_alone_blocks_and_says_why(self, code: str) -> None:
        gates = rules.dosing_gates(inputs(**FAILURES[code]))
        failed = [g for g in gates if not g.passed]
        assert [g.code for g in failed] == [code]
        assert not rules.may_dose(gates)
        expected = {
            "screening": "Clearance withdrawn: new MAOI.",
            "consent": "No signed consent for this route.",
            "rems": "The patient is not enrolled in the REMS.",
            "preparation": "4 of 5 preparation sessions held.",
            "baseline": "Missing: PHQ-9, GAD-7.",
            "safety": "1 open (high): a clinician records a risk assessment first.",
            "spacing": "Another dose is on Tue Mar 10, 2 days away; the protocol asks for at "
            "least 3.",
        }
        assert failed[0].reason == expected[code]

    def test_every_combination_blocks_exactly_the_failed_gates(self) -> None:
        for size in range(len(FAILURES) + 1):
            for combo in itertools.combinations(FAILURES, size):
                changes: dict[str, object] = {}
                for code in combo:
                    changes |= FAILURES[code]
                gates = rules.dosing_gates(inputs(**changes))
                assert {g.code for g in gates if not g.passed} == set(combo)
                assert rules.may_dose(gates) == (not combo)

    def test_spacing_is_asked_only_when_the_dose_time_is_known(self) -> None:
        assert "spacing" not in {g.code for g in rules.dosing_gates(inputs(dose_at=None))}

    def test_spacing_counts_calendar_days_in_the_practice_zone(self) -> None:
        # Monday 16:00 to Thursday 09:00 is under 72 hours but 3 calendar days: allowed.
        monday = dt.datetime(2026, 3, 9, 16, 0, tzinfo=LA)
        thursday = dt.datetime(2026, 3, 12, 9, 0, tzinfo=LA)
        gates = rules.dosing_gates(inputs(dose_at=thursday, other_doses=(monday,)))
        assert all(g.passed for g in gates)
        # Wednesday 23:30 in Los Angeles is already Thursday in UTC: still 2 days in the clinic.
        wednesday = dt.datetime(2026, 3, 11, 23, 30, tzinfo=LA)
        assert rules.days_apart(monday, wednesday, LA) == 2
        assert rules.days_apart(monday, wednesday, dt.UTC) == 3
        late = rules.dosing_gates(inputs(dose_at=wednesday, other_doses=(monday,)))
        assert [g.code for g in late if not g.passed] == ["spacing"]

    def test_spacing_looks_both_ways_and_names_the_nearest_dose(self) -> None:
        later = DOSE_AT + dt.timedelta(days=1)
        earlier = DOSE_AT - dt.timedelta(days=2)
        gates = rules.dosing_gates(inputs(other_doses=(earlier, later)))
        spacing = next(g for g in gates if g.code == "spacing")
        assert not spacing.passed
        assert spacing.reason.startswith("Another dose is on Fri Mar 13, 1 day away")

    def test_spacing_across_the_daylight_saving_change(self) -> None:
        # Los Angeles springs forward on Sunday 8 March 2026: Friday to Monday is 3 days.
        friday = dt.datetime(2026, 3, 6, 10, 0, tzinfo=LA)
        monday = dt.datetime(2026, 3, 9, 9, 0, tzinfo=LA)
        assert rules.days_apart(friday, monday, LA) == 3
        gates = rules.dosing_gates(inputs(dose_at=monday, other_doses=(friday,)))
        assert all(g.passed for g in gates)

    def test_rems_is_asked_only_where_the_protocol_needs_it(self) -> None:
        assert "rems" not in {g.code for g in rules.dosing_gates(inputs())}
        assert rules.dosing_gates(inputs(needs_rems=True, rems_enrolled=True))[2].passed

    def test_an_override_needs_a_name_and_a_reason_and_opens_only_that_gate(self) -> None:
        gates = rules.dosing_gates(inputs(prep_done=3, consent_signed=False))
        assert not rules.may_dose(rules.with_overrides(gates, {"preparation": ("Dr. Patel", "")}))
        assert not rules.may_dose(rules.with_overrides(gates, {"preparation": ("", "Prior work")}))
        partly = rules.with_overrides(
            gates, {"preparation": ("Dr. Patel", "Two years of prior therapy")}
        )
        assert not rules.may_dose(partly)
        prep = next(g for g in partly if g.code == "preparation")
        assert (prep.passed, prep.open, prep.overridden_by) == (False, True, "Dr. Patel")
        both = rules.with_overrides(
            gates,
            {
                "preparation": ("Dr. Patel", "Prior therapy"),
                "consent": ("Dr. Patel", "Signed on paper"),
            },
        )
        assert rules.may_dose(both)

    def test_a_passing_gate_is_not_marked_overridden(self) -> None:
        gates = rules.with_overrides(rules.dosing_gates(inputs()), {"consent": ("Dr. Patel", "x")})
        assert all(not g.overridden_by for g in gates)


class TestProtocols:
    def test_every_setting_names_a_source(self) -> None:
        for protocol in PROTOCOLS:
            for name in (
                "prep_min",
                "prep_max",
                "induction_doses",
                "min_days_between_doses",
                "integration_within_hours",
                "integrations_per_dose",
                "dosing_minutes",
                "prep_minutes",
                "integration_minutes",
                "review_after_doses",
            ):
                setting = getattr(protocol, name)
                assert setting.value > 0
                assert setting.source
            assert protocol.prep_min.value <= protocol.prep_max.value
            assert protocol.integration_within_hours.value == 72

    def test_esketamine_follows_the_label_and_needs_rems(self) -> None:
        esketamine = next(p for p in PROTOCOLS if p.code == "esketamine")
        assert esketamine.needs_rems
        assert esketamine.induction_doses.value == 8  # twice weekly for 4 weeks
        assert esketamine.dosing_minutes.value >= 120  # at least 2 h of monitoring
        assert [p.code for p in PROTOCOLS if p.needs_rems] == ["esketamine"]


@given(
    st.integers(1, 24 * 14),
    st.datetimes(
        min_value=dt.datetime(2020, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=dt.datetime(2035, 1, 1),  # noqa: DTZ001
    ),
)
def test_window_length_is_exact_for_any_start(hours: int, naive: dt.datetime) -> None:
    start = naive.replace(tzinfo=LA)
    opens, closes = rules.integration_window(start, hours)
    assert closes.timestamp() - opens.timestamp() == hours * 3600


def booking(ref: str, start: int, end: int, *who: str, room: str = "") -> rules.Booking:
    day = at(LA, 2026, 3, 8, 0, 0)  # the spring-forward day: hours are elapsed from midnight
    return rules.Booking(
        ref=ref,
        label=f"{ref} {start}-{end}",
        starts_at=rules.utc(day) + dt.timedelta(hours=start),
        ends_at=rules.utc(day) + dt.timedelta(hours=end),
        clinicians=frozenset(who),
        room=room,
    )


class TestConflicts:
    def test_overlaps_by_clinician_and_room_are_named(self) -> None:
        existing = [
            booking("a", 9, 12, "therapist", "nurse", room="Room 1"),
            booking("b", 12, 13, "therapist"),  # inside the new one
            booking("c", 13, 16, "prescriber", room="Room 2"),
            booking("d", 8, 9, "therapist", room="Room 1"),
        ]
        new = booking("new", 11, 14, "therapist", "prescriber", room="Room 2")
        found = rules.conflicts(new, existing)
        assert [(c.kind, c.who, c.with_ref) for c in found] == [
            ("clinician", "therapist", "a"),
            ("clinician", "therapist", "b"),
            ("clinician", "prescriber", "c"),
            ("room", "Room 2", "c"),
        ]
        assert found[0].with_label == "a 9-12"

    def test_touching_and_unrelated_bookings_do_not_clash(self) -> None:
        existing = [booking("a", 9, 11, "therapist", room="Room 1"), booking("b", 11, 12, "nurse")]
        assert rules.conflicts(booking("new", 11, 12, "therapist", room="Room 1"), existing) == []

    def test_moving_a_booking_does_not_clash_with_itself(self) -> None:
        original = booking("a", 9, 11, "therapist", room="Room 1")
        assert rules.conflicts(booking("a", 10, 12, "therapist", room="Room 1"), [original]) == []

    def test_a_booking_must_end_after_it_starts(self) -> None:
        with pytest.raises(ValueError, match="ends after it starts"):
            rules.conflicts(booking("x", 10, 10, "therapist"), [])

    @given(st.integers(0, 20), st.integers(1, 6), st.integers(0, 20), st.integers(1, 6))
    def test_overlap_is_symmetric(self, s1: int, d1: int, s2: int, d2: int) -> None:
        one = booking("one", s1, s1 + d1, "therapist")
        two = booking("two", s2, s2 + d2, "therapist")
        assert bool(rules.conflicts(one, [two])) == bool(rules.conflicts(two, [one]))
        assert bool(rules.conflicts(one, [two])) == (s1 < s2 + d2 and s2 < s1 + d1)
