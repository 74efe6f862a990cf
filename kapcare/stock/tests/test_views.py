"""Stock pages: who may see them (others get 404), the balances and the ledger, the forms that
add entries (errors on the page, nothing saved), locations, the reconciliation naming a client
only to someone who may see them, and a balances page whose query count does not grow."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kapcare.core.models import AuditEvent
from kapcare.core.time import now, practice_today
from kapcare.stock import selectors, services
from kapcare.stock.models import Location, Lot, Movement
from kapcare.stock.tests.helpers import counts, make_dose, make_location, make_lot, mg, receive
from kapcare.testing.http import signed_in
from kapcare.testing.personas import Practice


@pytest.fixture
def safe(db: None) -> Location:
    return make_location("Main safe")


@pytest.fixture
def lot(db: None) -> Lot:
    return make_lot("KT-2301")


def pages(lot: Lot) -> list[str]:
    return [
        "/stock/",
        "/stock/?all=1",
        f"/stock/lots/{lot.public_id}/",
        "/stock/lots/new/",
        "/stock/record/received/",
        "/stock/record/wasted/",
        "/stock/record/returned/",
        "/stock/record/adjusted/",
        "/stock/transfer/",
        "/stock/locations/",
        "/stock/reconciliation/",
    ]


def no_inline_code(body: str) -> bool:
    """CSP allows no inline scripts or styles."""
    return not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", body)


class TestAccess:
    @pytest.mark.parametrize("who", ["therapist", "front_desk", "outsider"])
    def test_others_get_404_on_every_page_and_change_nothing(
        self, practice: Practice, lot: Lot, safe: Location, who: str
    ) -> None:
        receive(practice, lot, safe, "100")
        http = signed_in(getattr(practice, who))
        before = counts()
        for url in pages(lot):
            assert http.get(url).status_code == 404, url
            assert http.post(url, {"name": "X", "lot": lot.public_id}).status_code == 404, url
        assert counts() == before

    @pytest.mark.parametrize("who", ["prescriber", "nurse", "admin"])
    def test_prescribers_nurses_and_admins_see_the_pages(
        self, practice: Practice, lot: Lot, safe: Location, who: str
    ) -> None:
        receive(practice, lot, safe, "100")
        http = signed_in(getattr(practice, who))
        for url in pages(lot):
            if url == "/stock/lots/new/" and who == "nurse":
                continue
            response = http.get(url)
            assert response.status_code == 200, url
            assert no_inline_code(response.content.decode()), url

    def test_a_nurse_does_not_add_lots(self, practice: Practice) -> None:
        assert signed_in(practice.nurse).get("/stock/lots/new/").status_code == 404

    def test_an_unknown_kind_or_lot_is_404(self, practice: Practice) -> None:
        http = signed_in(practice.nurse)
        assert http.get("/stock/record/administered/").status_code == 404
        assert http.get("/stock/record/borrowed/").status_code == 404
        assert http.get("/stock/lots/00000000-0000-0000-0000-000000000000/").status_code == 404

    def test_the_menu_link_is_shown_to_those_who_may_see_the_pages(
        self, practice: Practice
    ) -> None:
        for who, shown in [("nurse", True), ("admin", True), ("therapist", False)]:
            body = signed_in(getattr(practice, who)).get("/").content.decode()
            assert ("Controlled substances" in body) is shown, who


class TestBalances:
    def test_balances_and_lots_are_listed(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "1000")
        make_lot("NEW-1")
        emptied = make_lot("EMPTY-1")
        receive(practice, emptied, safe, "10")
        services.movement_record(
            actor=practice.nurse,
            lot=emptied,
            location=safe,
            kind="wasted",
            quantity_mg=10,
            witness=practice.prescriber,
        )
        body = signed_in(practice.nurse).get("/stock/").content.decode()
        assert "Ketamine lot KT-2301" in body
        assert "1000 mg" in body
        assert "NEW-1" in body
        assert "not yet received" in body
        assert "EMPTY-1" not in body
        every = signed_in(practice.nurse).get("/stock/?all=1").content.decode()
        assert "EMPTY-1" in every

    def test_the_query_count_does_not_grow_with_the_lots(
        self, practice: Practice, safe: Location
    ) -> None:
        cabinet = make_location("Cabinet")

        def add(count: int, start: int) -> None:
            for n in range(start, start + count):
                lot = make_lot(f"L-{n:04d}")
                for location in (safe, cabinet):
                    Movement.objects.create(
                        lot=lot,
                        location=location,
                        kind="received",
                        quantity_mg=Decimal(100),
                        balance_after_mg=Decimal(100),
                        moved_at=now(),
                        recorded_by=practice.prescriber,
                    )

        def measure() -> int:
            http = signed_in(practice.nurse)
            with CaptureQueriesContext(connection) as queries:
                assert http.get("/stock/").status_code == 200
            return len(queries)

        add(10, 0)
        few = measure()
        add(190, 10)
        assert Lot.objects.count() == 200
        assert measure() == few


class TestLedger:
    def test_the_ledger_names_a_client_only_to_someone_who_may_see_them(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "1000")
        dose = make_dose(practice, mg=50)
        services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)
        url = f"/stock/lots/{lot.public_id}/"
        chart = f"/clients/{practice.client.public_id}/"
        mine = signed_in(practice.prescriber).get(url).content.decode()
        assert chart in mine
        assert practice.client.display_name in mine
        assert "950 mg" in mine
        other = signed_in(practice.outsider_prescriber).get(url).content.decode()
        assert chart not in other
        assert practice.client.display_name not in other
        assert "a client outside your care teams" in other
        reads = AuditEvent.objects.filter(action="stock.read").order_by("id")
        assert [event.detail["clients"] for event in reads if event.detail] == [
            [str(practice.client.public_id)],
            [],
        ]

    def test_the_query_count_does_not_grow_with_the_entries(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100000")
        url = f"/stock/lots/{lot.public_id}/"

        def add(count: int) -> None:
            for _ in range(count):
                dose = make_dose(practice, mg=5)
                services.administer_for_dose(actor=practice.nurse, dose=dose, location=safe)

        def measure() -> int:
            http = signed_in(practice.outsider_prescriber)
            with CaptureQueriesContext(connection) as queries:
                assert http.get(url).status_code == 200
            return len(queries)

        add(2)
        few = measure()
        add(18)
        assert Movement.objects.filter(lot=lot).count() == 21
        assert measure() == few

    def test_an_out_of_step_entry_is_marked(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        Movement.objects.create(
            lot=lot,
            location=safe,
            kind="adjusted",
            quantity_mg=Decimal(-10),
            balance_after_mg=Decimal(80),
            moved_at=now(),
            recorded_by=practice.admin,
        )
        body = signed_in(practice.nurse).get(f"/stock/lots/{lot.public_id}/").content.decode()
        assert "does not follow" in body


class TestForms:
    def test_receive_stock(self, practice: Practice, lot: Lot, safe: Location) -> None:
        response = signed_in(practice.admin).post(
            "/stock/record/received/",
            {"lot": lot.public_id, "location": safe.public_id, "quantity_mg": "1000"},
        )
        assert response.status_code == 302
        assert response["Location"] == f"/stock/lots/{lot.public_id}/"
        assert selectors.balance_of(lot, safe) == mg(1000)

    def test_a_waste_needs_its_witness_and_nothing_is_saved_without(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        http = signed_in(practice.nurse)
        data = {"lot": lot.public_id, "location": safe.public_id, "quantity_mg": "12.5"}
        before = counts()
        response = http.post("/stock/record/wasted/", data)
        assert response.status_code == 400
        assert "Nothing was recorded" in response.content.decode()
        assert "Wasted stock needs a witness" in response.content.decode()
        assert counts() == before
        response = http.post(
            "/stock/record/wasted/", data | {"witness": practice.prescriber.public_id}
        )
        assert response.status_code == 302
        wasted = Movement.objects.get(kind="wasted")
        assert (wasted.witness, wasted.quantity_mg) == (practice.prescriber, mg("-12.5"))

    def test_the_witness_list_leaves_out_the_person_recording_and_other_roles(
        self, practice: Practice
    ) -> None:
        body = signed_in(practice.nurse).get("/stock/record/wasted/").content.decode()
        assert str(practice.prescriber.public_id) in body
        assert str(practice.nurse.public_id) not in body
        assert str(practice.therapist.public_id) not in body

    def test_an_adjustment_takes_stock_off_or_adds_it(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        http = signed_in(practice.admin)
        data = {"lot": lot.public_id, "location": safe.public_id, "quantity_mg": "3"}
        response = http.post("/stock/record/adjusted/", data | {"direction": "remove"})
        assert response.status_code == 400
        assert "Say why the stock is adjusted" in response.content.decode()
        http.post("/stock/record/adjusted/", data | {"direction": "remove", "reason": "Count"})
        http.post("/stock/record/adjusted/", data | {"direction": "add", "reason": "Recount"})
        assert [m.quantity_mg for m in Movement.objects.filter(kind="adjusted")] == [
            mg(-3),
            mg(3),
        ]

    def test_a_refused_return_shows_the_balance(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "100")
        response = signed_in(practice.prescriber).post(
            "/stock/record/returned/",
            {
                "lot": lot.public_id,
                "location": safe.public_id,
                "quantity_mg": "150",
                "reason": "Expired",
            },
        )
        assert response.status_code == 400
        assert "holds 100 mg; 150 mg cannot be taken out" in response.content.decode()

    def test_move_stock_between_locations(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        cabinet = make_location("Cabinet")
        receive(practice, lot, safe, "100")
        http = signed_in(practice.nurse)
        data = {
            "lot": lot.public_id,
            "location": safe.public_id,
            "to_location": safe.public_id,
            "quantity_mg": "40",
        }
        assert http.post("/stock/transfer/", data).status_code == 400
        assert (
            http.post("/stock/transfer/", data | {"to_location": cabinet.public_id}).status_code
            == 302
        )
        assert selectors.balance_of(lot, safe) == mg(60)
        assert selectors.balance_of(lot, cabinet) == mg(40)

    def test_add_a_lot_then_receive_it(self, practice: Practice) -> None:
        http = signed_in(practice.prescriber)
        data = {
            "drug": "esketamine",
            "product": "Spravato",
            "form": "28 mg nasal spray device",
            "lot_number": "SP-77",
            "expires_on": (practice_today() + dt.timedelta(days=300)).isoformat(),
        }
        response = http.post("/stock/lots/new/", data)
        assert response.status_code == 302
        lot = Lot.objects.get(lot_number="SP-77")
        assert response["Location"] == f"/stock/record/received/?lot={lot.public_id}"
        assert str(lot.public_id) in http.get(response["Location"]).content.decode()
        again = http.post("/stock/lots/new/", data | {"lot_number": "sp-77"})
        assert again.status_code == 400
        assert "already in the log" in again.content.decode()

    def test_locations(self, practice: Practice, lot: Lot) -> None:
        http = signed_in(practice.admin)
        assert http.post("/stock/locations/", {"name": "Main safe"}).status_code == 302
        safe = Location.objects.get(name="Main safe")
        receive(practice, lot, safe, "5")
        response = http.post("/stock/locations/", {"location": safe.public_id})
        assert response.status_code == 400
        assert "still holds stock" in response.content.decode()
        safe.refresh_from_db()
        assert safe.active
        nurse = signed_in(practice.nurse)
        assert nurse.get("/stock/locations/").status_code == 200
        assert nurse.post("/stock/locations/", {"name": "Other"}).status_code == 404


class TestReconciliation:
    def test_flagged_doses_link_to_clients_the_viewer_may_see(
        self, practice: Practice, lot: Lot, safe: Location
    ) -> None:
        receive(practice, lot, safe, "1000")
        make_dose(practice, mg=50)
        chart = f"/clients/{practice.client.public_id}/"
        mine = signed_in(practice.nurse).get("/stock/reconciliation/")
        assert mine.status_code == 200
        body = mine.content.decode()
        assert "1 item to reconcile" in body
        assert chart in body
        other = signed_in(practice.outsider_prescriber).get("/stock/reconciliation/")
        body = other.content.decode()
        assert chart not in body
        assert practice.client.display_name not in body
        assert "A client outside your care teams" in body
        event = AuditEvent.objects.filter(action="stock.read").order_by("id").first()
        assert event is not None
        assert event.detail is not None
        assert event.detail["view"] == "reconciliation"
        assert event.detail["clients"] == [str(practice.client.public_id)]

    def test_the_period(self, practice: Practice, lot: Lot, safe: Location) -> None:
        make_dose(practice, mg=50, given_at=now() - dt.timedelta(days=60))
        http = signed_in(practice.nurse)
        assert "Nothing to reconcile" in http.get("/stock/reconciliation/").content.decode()
        today = practice_today()
        start = (today - dt.timedelta(days=90)).isoformat()
        body = http.get(f"/stock/reconciliation/?from={start}&to={today}").content.decode()
        assert "1 item to reconcile" in body
        wrong = http.get(f"/stock/reconciliation/?from={today}&to={start}")
        assert wrong.status_code == 400
        assert "ends before it starts" in wrong.content.decode()
        long = http.get(f"/stock/reconciliation/?from=2020-01-01&to={today}")
        assert long.status_code == 400
