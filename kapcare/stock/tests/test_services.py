"""Writing the log: every rule by field and code with nothing saved when refused; balances and
running balances; witnesses; the link to the dose record; transfers; lots and locations; every
write audited."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.stock import selectors, services
from kapcare.stock.models import Location, Lot, Movement
from kapcare.stock.tests.helpers import (
    make_dose,
    make_location,
    make_lot,
    mg,
    receive,
    refused,
)
from kapcare.testing.factories import make_staff
from kapcare.testing.personas import Practice


@pytest.fixture
def safe(db: None) -> Location:
    return make_location("Main safe")


@pytest.fixture
def lot(db: None) -> Lot:
    return make_lot("KT-2301")


def record(practice: Practice, lot: Lot, location: Location, **changes: object) -> Movement:
    values: dict[str, object] = {
        "actor": practice.nurse,
        "lot": lot,
        "location": location,
        "kind": "wasted",
        "quantity_mg": "10",
        "witness": practice.prescriber,
    }
    values.update(changes)
    return services.movement_record(**values)  # type: ignore[arg-type]


class TestReceiving:
    def test_a_receipt_adds_stock_and_is_audited(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        movement = receive(practice, lot, safe, "1000")
        movement.refresh_from_db()
        assert (movement.kind, movement.quantity_mg, movement.balance_after_mg) == (
            "received",
            mg(1000),
            mg(1000),
        )
        assert movement.recorded_by == practice.prescriber
        assert abs((movement.moved_at - now()).total_seconds()) < 60
        event = AuditEvent.objects.get(action="stock.movement")
        assert event.subject_public_id == movement.public_id
        assert event.client_public_id is None
        assert event.after is not None
        assert event.after["kind"] == "received"
        assert event.after["quantity_mg"] == "1000.00"
        assert event.after["balance_after_mg"] == "1000.00"
        assert event.after["lot_number"] == "KT-2301"
        assert event.after["location"] == str(safe.public_id)

    @pytest.mark.parametrize("who", ["prescriber", "nurse", "admin"])
    def test_prescribers_nurses_and_admins_receive(
        self, practice: Practice, lot: Lot, safe: Location, who: str
    ) -> None:
        services.movement_record(
            actor=getattr(practice, who), lot=lot, location=safe, kind="received", quantity_mg=5
        )
        assert selectors.balance_of(lot, safe) == mg(5)


class TestBalances:
    def test_running_balance_per_lot_and_location(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        cabinet = make_location("Room 2 cabinet")
        other = make_lot("KT-9999")
        receive(practice, lot, safe, "1000")
        receive(practice, lot, cabinet, "200")
        receive(practice, other, safe, "500")
        record(practice, lot, safe, quantity_mg="12.5")
        services.movement_record(
            actor=practice.admin,
            lot=lot,
            location=safe,
            kind="adjusted",
            quantity_mg="-7.25",
            reason="Count on Monday",
        )
        services.movement_record(
            actor=practice.admin,
            lot=lot,
            location=cabinet,
            kind="returned",
            quantity_mg="200",
            reason="Recalled",
        )
        entries = list(Movement.objects.filter(lot=lot, location=safe))
        assert [(e.kind, e.quantity_mg, e.balance_after_mg) for e in entries] == [
            ("received", mg(1000), mg(1000)),
            ("wasted", mg("-12.5"), mg("987.5")),
            ("adjusted", mg("-7.25"), mg("980.25")),
        ]
        assert selectors.balance_of(lot, safe) == mg("980.25")
        assert selectors.balance_of(lot, cabinet) == mg(0)
        assert selectors.balance_of(other, safe) == mg(500)
        assert selectors.balance_of(other, cabinet) == mg(0)
        shown = {
            (row.lot.lot_number, row.location.name): row.balance_after_mg
            for row in selectors.balances()
        }
        assert shown == {("KT-2301", "Main safe"): mg("980.25"), ("KT-9999", "Main safe"): mg(500)}
        every = {
            (r.lot.lot_number, r.location.name) for r in selectors.balances(include_empty=True)
        }
        assert ("KT-2301", "Room 2 cabinet") in every
        assert selectors.lot_totals(selectors.balances()) == {
            lot.pk: mg("980.25"),
            other.pk: mg(500),
        }

    def test_the_ledger_has_the_lot_total_over_locations(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        cabinet = make_location("Room 2 cabinet")
        receive(practice, lot, safe, "100")
        receive(practice, lot, cabinet, "50")
        record(practice, lot, cabinet, quantity_mg="20")
        rows = list(selectors.ledger(lot))
        assert [(r.balance_after_mg, r.lot_balance_mg) for r in rows] == [
            (mg(100), mg(100)),
            (mg(50), mg(150)),
            (mg(30), mg(130)),
        ]
        assert all(abs(r.drift_mg) < selectors.HALF_CENT for r in rows)

    def test_stock_never_goes_below_zero_and_the_message_names_the_balance(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        receive(practice, lot, make_location("Cabinet"), "500")  # another location's stock
        errors = refused(lambda: record(practice, lot, safe, quantity_mg="100.01"))
        assert errors == {"quantity_mg": ["insufficient"]}
        with pytest.raises(Exception, match=r"holds 100 mg; 100\.01 mg cannot"):
            record(practice, lot, safe, quantity_mg="100.01")
        assert refused(
            lambda: services.movement_record(
                actor=practice.admin,
                lot=lot,
                location=safe,
                kind="adjusted",
                quantity_mg="-101",
                reason="Count",
            )
        ) == {"quantity_mg": ["insufficient"]}
        record(practice, lot, safe, quantity_mg="100")
        assert selectors.balance_of(lot, safe) == mg(0)


class TestRules:
    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"kind": "borrowed"}, "kind", "invalid_choice"),
            ({"kind": "transferred_in"}, "kind", "use_transfer"),
            ({"quantity_mg": "0"}, "quantity_mg", "not_positive"),
            ({"quantity_mg": "-5"}, "quantity_mg", "not_positive"),
            ({"quantity_mg": "ten"}, "quantity_mg", "invalid"),
            ({"quantity_mg": "NaN"}, "quantity_mg", "invalid"),
            ({"quantity_mg": "1.234"}, "quantity_mg", "max_decimal_places"),
            ({"quantity_mg": "100000000"}, "quantity_mg", "too_large"),
            ({"moved_at": now() + dt.timedelta(hours=1)}, "moved_at", "future"),
            ({"moved_at": dt.datetime(2026, 1, 1, 9)}, "moved_at", "naive"),  # noqa: DTZ001
            ({"reason": "x" * 301}, "reason", "max_length"),
            ({"witness": None}, "witness", "required"),
        ],
    )
    def test_bad_input_is_refused_by_field_and_rule(
        self,
        practice: Practice,
        lot: Lot,
        safe: Location,
        changes: dict[str, object],
        field: str,
        rule: str,
    ) -> None:
        receive(practice, lot, safe, "100")
        assert refused(lambda: record(practice, lot, safe, **changes)) == {field: [rule]}

    @pytest.mark.parametrize("kind", ["adjusted", "returned"])
    def test_adjustments_and_returns_need_a_reason(
        self, practice: Practice, lot: Lot, safe: Location, kind: str
    ) -> None:
        receive(practice, lot, safe, "100")
        assert refused(
            lambda: record(practice, lot, safe, kind=kind, witness=None, reason="  ")
        ) == {"reason": ["required"]}

    def test_an_adjustment_goes_either_way_but_not_by_zero(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        adjust = {"kind": "adjusted", "witness": None, "reason": "Count"}
        assert refused(lambda: record(practice, lot, safe, quantity_mg=0, **adjust)) == {
            "quantity_mg": ["zero"]
        }
        record(practice, lot, safe, quantity_mg="2.5", **adjust)
        record(practice, lot, safe, quantity_mg="-0.5", **adjust)
        assert selectors.balance_of(lot, safe) == mg(102)

    def test_several_problems_are_reported_together(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        safe.active = False
        safe.save()
        errors = refused(
            lambda: record(practice, lot, safe, quantity_mg="0", witness=practice.nurse)
        )
        assert errors == {
            "quantity_mg": ["not_positive"],
            "witness": ["same_as_recorder"],
            "location": ["inactive"],
        }

    @pytest.mark.parametrize("who", ["therapist", "front_desk", "outsider"])
    @pytest.mark.parametrize("kind", ["received", "wasted", "returned", "adjusted"])
    def test_only_prescribers_nurses_and_admins_record(
        self, practice: Practice, lot: Lot, safe: Location, who: str, kind: str
    ) -> None:
        receive(practice, lot, safe, "100")
        errors = refused(
            lambda: record(practice, lot, safe, actor=getattr(practice, who), kind=kind)
        )
        assert errors == {"kind": ["not_permitted"]}

    @pytest.mark.parametrize("kind", ["wasted", "administered"])
    def test_an_admin_does_not_waste_or_administer(
        self, practice: Practice, lot: Lot, safe: Location, kind: str
    ) -> None:
        receive(practice, lot, safe, "100")
        dose = make_dose(practice, mg=10) if kind == "administered" else None
        errors = refused(
            lambda: record(practice, lot, safe, actor=practice.admin, kind=kind, dose=dose)
        )
        assert errors == {"kind": ["not_permitted"]}

    def test_stock_is_not_moved_at_a_location_out_of_use(
        self, practice: Practice, lot: Lot
    ) -> None:
        closed = make_location("Old safe", active=False)
        errors = refused(
            lambda: services.movement_record(
                actor=practice.prescriber, lot=lot, location=closed, kind="received", quantity_mg=5
            )
        )
        assert errors == {"location": ["inactive"]}


class TestWitness:
    def test_a_waste_is_witnessed_by_another_prescriber_or_nurse(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        movement = record(practice, lot, safe, witness=practice.prescriber, reason="Vial end")
        assert movement.witness == practice.prescriber
        second_nurse = make_staff(nurse=True)
        record(practice, lot, safe, actor=practice.prescriber, witness=second_nurse)
        assert selectors.balance_of(lot, safe) == mg(80)
        event = AuditEvent.objects.filter(action="stock.movement").first()
        assert event is not None
        assert event.after is not None
        assert event.after["witness"] == str(second_nurse.public_id)

    def test_witness_rules(self, practice: Practice, lot: Lot, safe: Location) -> None:
        receive(practice, lot, safe, "100")
        gone = make_staff(nurse=True, is_active=False)
        for witness, rule in [
            (practice.nurse, "same_as_recorder"),
            (gone, "inactive"),
            (practice.therapist, "not_witness_role"),
            (practice.front_desk, "not_witness_role"),
            (practice.admin, "not_witness_role"),
        ]:
            assert refused(lambda w=witness: record(practice, lot, safe, witness=w)) == {
                "witness": [rule]
            }

    def test_a_witness_is_optional_for_other_kinds_but_checked_when_given(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        returned = {"kind": "returned", "reason": "Expired"}
        record(practice, lot, safe, witness=None, **returned)
        assert refused(
            lambda: record(practice, lot, safe, witness=practice.therapist, **returned)
        ) == {"witness": ["not_witness_role"]}


class TestDoseLink:
    def test_an_administration_is_linked_to_its_dose_and_audited_without_the_name(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "1000")
        dose = make_dose(practice, lot="kt-2301", mg="52.5")
        movement = services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
        assert (movement.kind, movement.dose, movement.lot) == ("administered", dose, lot)
        assert (movement.quantity_mg, movement.balance_after_mg) == (mg("-52.5"), mg("947.5"))
        assert movement.moved_at == dose.given_at
        assert list(dose.stock_movements.all()) == [movement]
        event = AuditEvent.objects.get(
            action="stock.movement", subject_public_id=movement.public_id
        )
        assert event.client_public_id == practice.client.public_id
        assert event.after is not None
        assert event.after["dose"] == str(dose.public_id)
        stored = json.dumps([event.before, event.after, event.detail])
        client = practice.client
        for name in (client.legal_given_names, client.legal_family_name, client.preferred_name):
            assert name not in stored

    def test_administer_for_dose_finds_the_esketamine_lot_by_the_dose(
        self, practice: Practice, safe: Location
    ) -> None:
        make_lot("SP-001", drug="ketamine")
        esketamine = make_lot(
            "SP-001", drug="esketamine", product="Spravato", form="28 mg nasal spray device"
        )
        receive(practice, esketamine, safe, "280")
        dose = make_dose(
            practice, lot="SP-001", mg=56, route="intranasal", product="Spravato 28 mg"
        )
        movement = services.administer_for_dose(actor=practice.prescriber, dose=dose, location=safe)
        assert movement.lot == esketamine
        assert selectors.balance_of(esketamine, safe) == mg(224)

    def test_an_unknown_lot_is_refused_on_lot(self, practice: Practice, safe: Location) -> None:
        dose = make_dose(practice, lot="NOPE-1")
        errors = refused(
            lambda: services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
        )
        assert errors == {"lot": ["unknown_lot"]}

    def test_inside_the_dose_services_transaction_both_or_neither_are_saved(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "10")
        dose = make_dose(practice, mg=50)
        before = Movement.objects.count()
        with pytest.raises(Exception, match="holds 10 mg"), transaction.atomic():
            services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
        assert Movement.objects.count() == before

    @pytest.mark.parametrize(
        ("dose_options", "quantity", "field", "rule"),
        [
            ({"lot": "KT-9999"}, "50", "dose", "lot_mismatch"),
            ({"route": "intranasal", "product": "Spravato"}, "50", "dose", "drug_mismatch"),
            ({}, "49", "quantity_mg", "not_dose_amount"),
        ],
    )
    def test_the_dose_must_match_the_lot_and_the_amount(
        self,
        practice: Practice,
        lot: Lot,
        safe: Location,
        dose_options: dict[str, str],
        quantity: str,
        field: str,
        rule: str,
    ) -> None:
        receive(practice, lot, safe, "1000")
        dose = make_dose(practice, mg=50, **dose_options)
        errors = refused(
            lambda: record(
                practice,
                lot,
                safe,
                kind="administered",
                quantity_mg=quantity,
                dose=dose,
                witness=None,
            )
        )
        assert errors == {field: [rule]}

    def test_an_administration_needs_a_dose_and_only_it_takes_one(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "1000")
        assert refused(lambda: record(practice, lot, safe, kind="administered", witness=None)) == {
            "dose": ["required"]
        }
        dose = make_dose(practice, mg=10)
        assert refused(lambda: record(practice, lot, safe, dose=dose)) == {
            "dose": ["not_administered"]
        }

    def test_a_dose_has_one_administration(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "1000")
        dose = make_dose(practice, mg=10)
        services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
        assert refused(
            lambda: services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
        ) == {"dose": ["already_recorded"]}

    def test_an_expired_lot_is_not_administered_but_may_be_wasted_or_returned(
        self, practice: Practice, safe: Location
    ) -> None:
        expired = make_lot("OLD-1", expires_on=practice_today() - dt.timedelta(days=1))
        receive(practice, expired, safe, "100")
        # Given now: an hour ago could still be the expiry day itself just after midnight.
        dose = make_dose(practice, lot="OLD-1", mg=10, given_at=now())
        assert refused(
            lambda: services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
        ) == {"lot": ["expired"]}
        record(practice, expired, safe, quantity_mg="40")
        record(practice, expired, safe, kind="returned", quantity_mg="60", reason="Expired")
        assert selectors.balance_of(expired, safe) == mg(0)

    def test_a_lot_is_used_on_its_expiry_date(self, practice: Practice, safe: Location) -> None:
        today = make_lot("LAST-DAY", expires_on=practice_today())
        receive(practice, today, safe, "100")
        dose = make_dose(practice, lot="LAST-DAY", mg=10, given_at=now())
        services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)


class TestTransfers:
    def test_a_transfer_is_two_rows_written_together(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        cabinet = make_location("Room 2 cabinet")
        receive(practice, lot, safe, "1000")
        out, moved_in = services.movement_transfer(
            actor=practice.admin, lot=lot, location=safe, to_location=cabinet, quantity_mg="200"
        )
        assert (out.kind, out.quantity_mg, out.balance_after_mg) == (
            "transferred_out",
            mg(-200),
            mg(800),
        )
        assert (moved_in.kind, moved_in.quantity_mg, moved_in.balance_after_mg) == (
            "transferred_in",
            mg(200),
            mg(200),
        )
        assert out.transfer == moved_in.transfer is not None
        assert AuditEvent.objects.filter(action="stock.movement").count() == 3

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"quantity_mg": "1000.01"}, "quantity_mg", "insufficient"),
            ({"quantity_mg": "0"}, "quantity_mg", "not_positive"),
            ({"to_location": "same"}, "to_location", "same_location"),
            ({"to_location": "closed"}, "to_location", "inactive"),
            ({"actor": "therapist"}, "kind", "not_permitted"),
        ],
    )
    def test_transfer_rules(
        self,
        practice: Practice,
        lot: Lot,
        safe: Location,
        changes: dict[str, str],
        field: str,
        rule: str,
    ) -> None:
        receive(practice, lot, safe, "1000")
        targets = {
            "same": safe,
            "closed": make_location("Old", active=False),
            "open": make_location("Cabinet"),
        }
        values = {
            "actor": practice.nurse,
            "lot": lot,
            "location": safe,
            "to_location": targets["open"],
            "quantity_mg": "10",
        }
        if "to_location" in changes:
            values["to_location"] = targets[changes["to_location"]]
        if "actor" in changes:
            values["actor"] = getattr(practice, changes["actor"])
        if "quantity_mg" in changes:
            values["quantity_mg"] = changes["quantity_mg"]
        assert refused(lambda: services.movement_transfer(**values)) == {field: [rule]}  # type: ignore[arg-type]


class TestLotsAndLocations:
    def test_a_lot_is_added_and_audited(self, practice: Practice) -> None:
        lot = services.lot_create(
            actor=practice.prescriber,
            drug="esketamine",
            product="Spravato",
            form="28 mg  nasal spray device",
            lot_number=" sp-0042 ",
            expires_on=dt.date(2028, 1, 31),
        )
        assert (lot.lot_number, lot.form, lot.unit) == ("sp-0042", "28 mg nasal spray device", "mg")
        event = AuditEvent.objects.get(action="stock.lot_create")
        assert event.subject_public_id == lot.public_id
        assert event.after == {
            "drug": "esketamine",
            "product": "Spravato",
            "form": "28 mg nasal spray device",
            "lot_number": "sp-0042",
            "expires_on": "2028-01-31",
        }

    @pytest.mark.parametrize(
        ("changes", "field", "rule"),
        [
            ({"drug": "morphine"}, "drug", "invalid_choice"),
            ({"product": " "}, "product", "required"),
            ({"form": ""}, "form", "required"),
            ({"lot_number": ""}, "lot_number", "required"),
            ({"lot_number": "x" * 61}, "lot_number", "max_length"),
            ({"lot_number": "kt-2301"}, "lot_number", "unique"),
            ({"expires_on": None}, "expires_on", "required"),
            ({"actor": "nurse"}, "lot", "not_permitted"),
            ({"actor": "therapist"}, "lot", "not_permitted"),
        ],
    )
    def test_lot_rules(
        self, practice: Practice, changes: dict[str, object], field: str, rule: str
    ) -> None:
        make_lot("KT-2301")
        values: dict[str, object] = {
            "actor": practice.admin,
            "drug": "ketamine",
            "product": "Ketamine HCl injection",
            "form": "100 mg/mL, 10 mL vial",
            "lot_number": "KT-7777",
            "expires_on": dt.date(2028, 1, 31),
        }
        values.update(changes)
        if isinstance(values["actor"], str):
            values["actor"] = getattr(practice, str(values["actor"]))
        assert refused(lambda: services.lot_create(**values)) == {field: [rule]}  # type: ignore[arg-type]

    def test_the_same_number_may_be_used_by_the_other_drug(self, practice: Practice) -> None:
        make_lot("KT-2301")
        services.lot_create(
            actor=practice.admin,
            drug="esketamine",
            product="Spravato",
            form="28 mg device",
            lot_number="KT-2301",
            expires_on=dt.date(2028, 1, 31),
        )

    def test_locations_are_added_renamed_and_taken_out_of_use_when_empty(
        self, practice: Practice, lot: Lot
    ) -> None:
        safe = services.location_create(actor=practice.admin, name="Main safe")
        assert refused(
            lambda: services.location_create(actor=practice.admin, name="main SAFE")
        ) == {"name": ["unique"]}
        assert refused(lambda: services.location_create(actor=practice.nurse, name="Other")) == {
            "location": ["not_permitted"]
        }
        receive(practice, lot, safe, "10")
        assert refused(
            lambda: services.location_update(actor=practice.prescriber, location=safe, active=False)
        ) == {"active": ["holds_stock"]}
        record(practice, lot, safe, quantity_mg="10")
        services.location_update(
            actor=practice.prescriber, location=safe, name="Old safe", active=False
        )
        safe.refresh_from_db()
        assert (safe.name, safe.active) == ("Old safe", False)
        event = AuditEvent.objects.get(action="stock.location_update")
        assert event.before == {"name": "Main safe", "active": True}
        assert event.after == {"name": "Old safe", "active": False}
        before = AuditEvent.objects.count()
        services.location_update(actor=practice.prescriber, location=safe, active=False)
        assert AuditEvent.objects.count() == before
        assert AuditEvent.objects.filter(action="stock.location_create").count() == 1


class TestDefaultLocation:
    def test_the_one_location_in_use_is_taken_when_none_is_named(
        self, practice: Practice, lot: Lot
    ) -> None:
        dose = make_dose(practice, mg=10)
        assert refused(lambda: services.administer_for_dose(actor=practice.nurse, dose=dose)) == {
            "location": ["required"]
        }
        safe = make_location("Main safe")
        make_location("Old safe", active=False)
        receive(practice, lot, safe, "100")
        movement = services.administer_for_dose(actor=practice.nurse, dose=dose)
        assert movement.location == safe
        make_location("Cabinet")
        other = make_dose(practice, mg=10)
        assert refused(lambda: services.administer_for_dose(actor=practice.nurse, dose=other)) == {
            "location": ["required"]
        }
