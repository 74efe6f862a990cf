"""The stock endpoints: who may call them (others get 404), lots, locations, balances, a lot's
entries, new entries with errors in the API's shape and nothing saved, transfers, and the
reconciliation naming only clients the caller may see."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client as HttpClient

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


def post(http: HttpClient, path: str, body: Any) -> Any:
    return http.post(path, json.dumps(body), content_type="application/json")


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(item["field"], item["rule"]) for item in response.json()["errors"]}


def test_others_get_404_everywhere(practice: Practice, lot: Lot, safe: Location) -> None:
    receive(practice, lot, safe, "100")
    for who in ("therapist", "front_desk", "outsider"):
        http = signed_in(getattr(practice, who))
        before = counts()
        for path in (
            "/api/v1/stock/lots",
            "/api/v1/stock/locations",
            "/api/v1/stock/balances",
            f"/api/v1/stock/lots/{lot.public_id}/movements",
            "/api/v1/stock/reconciliation",
        ):
            response = http.get(path)
            assert response.status_code == 404, (who, path)
            assert errors(response) == {(None, "not_found")}
        body = {
            "kind": "received",
            "lot": str(lot.public_id),
            "location": str(safe.public_id),
            "quantity_mg": "5",
        }
        assert post(http, "/api/v1/stock/movements", body).status_code == 404
        assert counts() == before


def test_lots_locations_and_balances(practice: Practice, lot: Lot, safe: Location) -> None:
    http = signed_in(practice.prescriber)
    response = post(
        http,
        "/api/v1/stock/lots",
        {
            "drug": "ketamine",
            "product": "Ketamine HCl lozenge",
            "form": "100 mg troche",
            "lot_number": "TR-1",
            "expires_on": "2028-06-30",
        },
    )
    assert response.status_code == 201, response.json()
    troches = response.json()
    assert (troches["lot_number"], troches["on_hand_mg"], troches["unit"]) == ("TR-1", "0.00", "mg")
    receive(practice, lot, safe, "1000")
    make_location("Old", active=False)
    lots = {item["lot_number"]: item for item in http.get("/api/v1/stock/lots").json()}
    assert lots["KT-2301"]["on_hand_mg"] == "1000.00"
    assert lots["TR-1"]["on_hand_mg"] == "0.00"
    names = [item["name"] for item in http.get("/api/v1/stock/locations").json()]
    assert names == ["Main safe"]
    every = http.get("/api/v1/stock/locations?include_inactive=true").json()
    assert [item["name"] for item in every] == ["Main safe", "Old"]
    [balance] = http.get("/api/v1/stock/balances").json()
    assert balance["lot"] == str(lot.public_id)
    assert balance["location"] == str(safe.public_id)
    assert balance["balance_mg"] == "1000.00"
    response = post(
        signed_in(practice.nurse),
        "/api/v1/stock/lots",
        {
            "drug": "ketamine",
            "product": "x",
            "form": "y",
            "lot_number": "Z",
            "expires_on": "2028-06-30",
        },
    )
    assert response.status_code == 400
    assert errors(response) == {("lot", "not_permitted")}


def test_record_and_read_entries(practice: Practice, lot: Lot, safe: Location) -> None:
    http = signed_in(practice.nurse)
    base = {"lot": str(lot.public_id), "location": str(safe.public_id)}
    response = post(
        signed_in(practice.admin),
        "/api/v1/stock/movements",
        base | {"kind": "received", "quantity_mg": 1000},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["balance_after_mg"] == "1000.00"
    dose = make_dose(practice, mg="52.5")
    response = post(
        http,
        "/api/v1/stock/movements",
        base | {"kind": "administered", "quantity_mg": "52.5", "dose": str(dose.public_id)},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["quantity_mg"], body["balance_after_mg"]) == (
        "administered",
        "-52.50",
        "947.50",
    )
    assert body["dose"]["id"] == str(dose.public_id)
    assert body["dose"]["client"] == str(practice.client.public_id)
    response = post(
        http,
        "/api/v1/stock/movements",
        base
        | {
            "kind": "wasted",
            "quantity_mg": 47.5,
            "witness": str(practice.prescriber.public_id),
            "moved_at": (now() - dt.timedelta(minutes=5)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["witness"]["id"] == str(practice.prescriber.public_id)

    entries = http.get(f"/api/v1/stock/lots/{lot.public_id}/movements").json()
    assert [(e["kind"], e["balance_after_mg"]) for e in entries] == [
        ("received", "1000.00"),
        ("administered", "947.50"),
        ("wasted", "900.00"),
    ]
    other = signed_in(practice.outsider_prescriber)
    seen = other.get(f"/api/v1/stock/lots/{lot.public_id}/movements").json()
    assert seen[1]["dose"]["id"] == str(dose.public_id)
    assert seen[1]["dose"]["client"] is None
    reads = AuditEvent.objects.filter(action="stock.read").order_by("id")
    assert [event.detail["clients"] for event in reads if event.detail] == [
        [str(practice.client.public_id)],
        [],
    ]
    missing = http.get("/api/v1/stock/lots/00000000-0000-0000-0000-000000000000/movements")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity_mg": "0"}, {("quantity_mg", "not_positive")}),
        ({"quantity_mg": "500"}, {("quantity_mg", "insufficient")}),
        ({"kind": "wasted"}, {("witness", "required")}),
        ({"kind": "adjusted", "quantity_mg": "-1", "reason": ""}, {("reason", "required")}),
        ({"kind": "borrowed"}, {("kind", "invalid_choice")}),
        ({"lot": "00000000-0000-0000-0000-000000000000"}, {("lot", "unknown")}),
        ({"location": "00000000-0000-0000-0000-000000000000"}, {("location", "unknown")}),
        ({"witness": "00000000-0000-0000-0000-000000000000"}, {("witness", "unknown")}),
        ({"dose": "00000000-0000-0000-0000-000000000000"}, {("dose", "unknown")}),
        ({"moved_at": "2026-01-01T09:00:00"}, {("moved_at", "timezone_aware")}),
        ({"colour": "red"}, {("colour", "extra_forbidden")}),
    ],
)
def test_bad_entries_are_refused_by_field_and_rule(
    practice: Practice,
    lot: Lot,
    safe: Location,
    changes: dict[str, str],
    expected: set[tuple[str, str]],
) -> None:
    receive(practice, lot, safe, "100")
    body = {
        "kind": "returned",
        "lot": str(lot.public_id),
        "location": str(safe.public_id),
        "quantity_mg": "10",
        "reason": "Expired",
    } | changes
    if body["kind"] == "wasted":
        body.pop("reason")
    http = signed_in(practice.nurse)
    before = counts()
    response = post(http, "/api/v1/stock/movements", body)
    assert response.status_code in (400, 422), response.json()
    assert errors(response) == expected
    assert counts() == before


def test_a_dose_of_a_client_the_caller_may_not_see_is_unknown(
    practice: Practice, lot: Lot, safe: Location
) -> None:
    receive(practice, lot, safe, "100")
    dose = make_dose(practice, mg=10)
    response = post(
        signed_in(practice.outsider_prescriber),
        "/api/v1/stock/movements",
        {
            "kind": "administered",
            "lot": str(lot.public_id),
            "location": str(safe.public_id),
            "quantity_mg": "10",
            "dose": str(dose.public_id),
        },
    )
    assert response.status_code == 400
    assert errors(response) == {("dose", "unknown")}
    assert not Movement.objects.filter(dose=dose).exists()


def test_a_transfer(practice: Practice, lot: Lot, safe: Location) -> None:
    cabinet = make_location("Cabinet")
    receive(practice, lot, safe, "100")
    response = post(
        signed_in(practice.nurse),
        "/api/v1/stock/transfers",
        {
            "lot": str(lot.public_id),
            "location": str(safe.public_id),
            "to_location": str(cabinet.public_id),
            "quantity_mg": "40",
        },
    )
    assert response.status_code == 201, response.json()
    out, moved_in = response.json()
    assert (out["kind"], out["balance_after_mg"]) == ("transferred_out", "60.00")
    assert (moved_in["kind"], moved_in["balance_after_mg"]) == ("transferred_in", "40.00")
    assert out["transfer"] == moved_in["transfer"]
    assert selectors.balance_of(lot, cabinet) == mg(40)


def test_the_reconciliation(practice: Practice, lot: Lot, safe: Location) -> None:
    receive(practice, lot, safe, "1000")
    missing = make_dose(practice, mg=50)
    recorded = make_dose(practice, mg=20)
    services.administer_for_dose(actor=practice.nurse, dose=recorded, location=safe)
    http = signed_in(practice.nurse)
    response = http.get("/api/v1/stock/reconciliation")
    assert response.status_code == 200, response.json()
    body = response.json()
    today = practice_today()
    assert (body["from"], body["to"]) == (
        (today - dt.timedelta(days=29)).isoformat(),
        today.isoformat(),
    )
    assert (body["clean"], body["count"]) == (False, 1)
    [flagged] = body["doses_without_movement"]
    assert flagged["dose"]["id"] == str(missing.public_id)
    assert flagged["dose"]["client"] == str(practice.client.public_id)
    assert body["movements_without_dose"] == []
    assert body["mismatches"] == []
    assert body["balance_problems"] == []
    other = signed_in(practice.outsider_prescriber).get("/api/v1/stock/reconciliation").json()
    assert other["doses_without_movement"][0]["dose"]["client"] is None
    later = http.get(f"/api/v1/stock/reconciliation?from={today + dt.timedelta(days=1)}")
    assert later.status_code == 400
    assert errors(later) == {("to", "end_before_start")}
    long = http.get(f"/api/v1/stock/reconciliation?from=2020-01-01&to={today}")
    assert errors(long) == {("to", "too_long")}
