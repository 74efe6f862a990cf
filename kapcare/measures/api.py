"""Instruments, stateless scoring, and a client's administrations in the JSON API.

Instruments and /score involve no client data, so nothing is audited there. Administrations
belong to a client: they go through the access getter, and reads and writes are audited."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from kapcare.accounts.api_auth import api_caller
from kapcare.clients.access import access_client, open_chart
from kapcare.core.api_schemas import StrictSchema
from kapcare.measures import rules
from kapcare.measures.instruments import INSTRUMENTS
from kapcare.measures.models import Administration, SelfReportLink
from kapcare.measures.self_report import link_send
from kapcare.measures.serialize import definition
from kapcare.measures.services import administration_record

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


class AdministrationIn(StrictSchema):
    instrument: str
    answers: dict[str, Any]
    completed_at: dt.datetime | None = None
    replaces: uuid.UUID | None = None
    correction_reason: str = ""


class AdministrationOut(Schema):
    id: uuid.UUID
    instrument: str
    source: str
    completed_at: dt.datetime
    answers: dict[str, Any]
    total: int | None
    band: str | None
    complete: bool
    prorated: bool
    missing: list[str]
    flags: list[str]
    details: dict[str, Any]
    scoring_version: str
    replaces: uuid.UUID | None
    correction_reason: str
    corrected: bool
    entered_by: str


def administration_out(administration: Administration, corrected: bool) -> dict[str, Any]:
    return {
        "id": administration.public_id,
        "instrument": administration.instrument,
        "source": administration.source,
        "completed_at": administration.completed_at,
        "answers": administration.answers,
        "total": administration.total,
        "band": administration.band or None,
        "complete": administration.complete,
        "prorated": administration.prorated,
        "missing": administration.missing,
        "flags": administration.flags,
        "details": administration.details,
        "scoring_version": administration.scoring_version,
        "replaces": administration.replaces.public_id if administration.replaces else None,
        "correction_reason": administration.correction_reason,
        "corrected": corrected,
        "entered_by": str(administration.entered_by) if administration.entered_by else "",
    }


@router.get(
    "/clients/{client_id}/administrations",
    response=list[AdministrationOut],
    summary="A client's questionnaires and scores, newest first (corrected ones included)",
)
def list_administrations(
    request: HttpRequest, client_id: uuid.UUID, instrument: str = ""
) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api_measures")
    administrations = Administration.objects.filter(client=client).select_related(
        "entered_by", "replaces"
    )
    if instrument:
        administrations = administrations.filter(instrument=instrument)
    corrected = set(
        Administration.objects.filter(client=client, replaces__isnull=False).values_list(
            "replaces_id", flat=True
        )
    )
    return [administration_out(a, a.pk in corrected) for a in administrations]


@router.post(
    "/clients/{client_id}/administrations",
    response={201: AdministrationOut},
    summary="Record a completed questionnaire or score entry",
)
def create_administration(
    request: HttpRequest, client_id: uuid.UUID, payload: AdministrationIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    replaces = None
    if payload.replaces is not None:
        replaces = Administration.objects.filter(client=client, public_id=payload.replaces).first()
        if replaces is None:
            raise Http404("No such administration for this client.")
    administration = administration_record(
        actor=user,
        client=client,
        instrument=payload.instrument,
        answers=payload.answers,
        completed_at=payload.completed_at,
        replaces=replaces,
        correction_reason=payload.correction_reason,
    )
    return Status(201, administration_out(administration, corrected=False))


class SelfReportLinkIn(StrictSchema):
    instruments: list[str]
    channel: str


class SelfReportLinkOut(Schema):
    id: uuid.UUID
    instruments: list[str]
    channel: str
    expires_at: dt.datetime
    state: str


def link_out(link: SelfReportLink) -> dict[str, Any]:
    return {
        "id": link.public_id,
        "instruments": link.instruments,
        "channel": link.channel,
        "expires_at": link.expires_at,
        "state": link.state(),
    }


@router.get(
    "/clients/{client_id}/self-report-links",
    response=list[SelfReportLinkOut],
    summary="Links sent to the client, newest first, with their state",
)
def list_self_report_links(request: HttpRequest, client_id: uuid.UUID) -> list[dict[str, Any]]:
    client = open_chart(api_caller(request), client_id, view="api_self_report_links")
    return [link_out(link) for link in client.self_report_links.all()]


@router.post(
    "/clients/{client_id}/self-report-links",
    response={201: SelfReportLinkOut},
    summary="Send questionnaires to the client as a single-use, expiring link",
)
def send_self_report_link(
    request: HttpRequest, client_id: uuid.UUID, payload: SelfReportLinkIn
) -> Status[dict[str, Any]]:
    user = api_caller(request)
    client = access_client(user, client_id, write=True)
    link = link_send(
        actor=user, client=client, instruments=payload.instruments, channel=payload.channel
    )
    # The link's secret is never returned: it goes to the client only.
    return Status(201, link_out(link))
