"""Instruments and stateless scoring in the JSON API. No client data is involved here, so
nothing is audited; administrations (which belong to a client) will be."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from kapcare.measures import rules
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.serialize import definition

router = Router(tags=["measures"])


class InstrumentSummary(Schema):
    code: str
    name: str
    kind: str
    items: int
    total_range: list[int] | None
    text_allowed: bool


class ScoreIn(Schema):
    instrument: str
    # Raw JSON values: the scoring rules check types themselves, so "2" or true is refused with
    # rule not_integer instead of being quietly turned into a number.
    answers: dict[str, Any]


class ScoreOut(Schema):
    instrument: str
    total: int | None
    band: str | None
    complete: bool
    prorated: bool
    missing: list[str]
    flags: list[str]
    details: dict[str, Any]
    scoring_version: str


@router.get("/instruments", response=list[InstrumentSummary], summary="The instrument library")
def list_instruments(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": instrument.code,
            "name": instrument.name,
            "kind": instrument.kind.value,
            "items": len(instrument.items),
            "total_range": list(instrument.total_range) if instrument.total_range else None,
            "text_allowed": instrument.text_allowed,
        }
        for instrument in INSTRUMENTS.values()
    ]


@router.get("/instruments/{code}", response=dict[str, Any], summary="One instrument's definition")
def read_instrument(request: HttpRequest, code: str) -> dict[str, Any]:
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        raise Http404("No such instrument.")
    return definition(instrument)


@router.post("/score", response=ScoreOut, summary="Score answers (nothing is stored)")
def score_answers(request: HttpRequest, payload: ScoreIn) -> dict[str, Any]:
    result = rules.score(payload.instrument, payload.answers)
    return {
        "instrument": result.instrument,
        "total": result.total,
        "band": result.band,
        "complete": result.complete,
        "prorated": result.prorated,
        "missing": list(result.missing),
        "flags": list(result.flags),
        "details": dict(result.details),
        "scoring_version": result.scoring_version,
    }
