"""Reads of a client's measures: history per instrument with change, response and remission."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db.models import QuerySet

from kapcare.accounts.models import User
from kapcare.clients.access import visible_clients
from kapcare.clients.models import Client
from kapcare.core.prepared import prepared
from kapcare.measures import rules
from kapcare.measures.instruments import INSTRUMENTS, Instrument
from kapcare.measures.models import Administration, SelfReportLink


@dataclass(frozen=True)
class HistoryRow:
    administration: Administration
    from_baseline: rules.Change | None
    from_previous: rules.Change | None
    response: bool | None
    remission: bool | None

    @property
    def flag_labels(self) -> list[str]:
        return [rules.FLAG_LABELS.get(flag, flag) for flag in self.administration.flags]


@dataclass(frozen=True)
class InstrumentHistory:
    instrument: Instrument
    rows: list[HistoryRow]  # newest first
    baseline: Administration | None
    remission: rules.RemissionRule | None
    # Events drawn on the chart as vertical markers (the doses): (when, label).
    markers: tuple[tuple[dt.datetime, str], ...] = ()

    @cached_property  # the chart template reads it several times
    def chart(self) -> dict[str, object] | None:
        """What the trajectory chart draws, or None when there is nothing to plot (no totals,
        or an instrument without a numeric range)."""
        instrument = self.instrument
        points = [
            row.administration
            for row in reversed(self.rows)
            if row.administration.total is not None
        ]
        if not points or instrument.total_range is None:
            return None
        start = points[0].completed_at

        def days(moment: dt.datetime) -> float:
            return round((moment - start).total_seconds() / 86400, 2)

        remission = self.remission
        return {
            "name": instrument.name,
            "start": start.isoformat(),
            "range": list(instrument.total_range),
            "bands": [
                {"low": band.low, "high": band.high, "label": band.label}
                for band in instrument.bands
            ],
            "points": [
                {
                    "days": round((point.completed_at - start).total_seconds() / 86400, 2),
                    "total": point.total,
                }
                for point in points
            ],
            "markers": [
                {"days": days(at), "label": label} for at, label in self.markers if at >= start
            ],
            "baseline": self.baseline.total if self.baseline else None,
            "remission_at": remission.at_most if remission else None,
        }


def remission_rules() -> dict[str, rules.RemissionRule]:
    return rules.practice_remission_rules(settings.MADRS_REMISSION_AT)


def current_administrations(client: Client) -> list[Administration]:
    """The client's current (uncorrected) administrations, oldest first, in one query, without
    their answers (each form's whole questionnaire): what the chart's readers share."""
    return _current_administrations(client.pk)


@prepared(arguments=1)
def _current_administrations(client_id: int) -> QuerySet[Administration]:
    # Read on every chart: compiled once (kapcare.core.prepared).
    return (
        Administration.objects.current()
        .filter(client_id=client_id)
        .only(
            "id",
            "public_id",
            "instrument",
            "completed_at",
            "total",
            "band",
            "prorated",
            "flags",
            "details",
        )
        .order_by("completed_at", "id")
    )


def measure_history(
    client: Client,
    markers: Sequence[tuple[dt.datetime, str]] = (),
    administrations: Sequence[Administration] | None = None,
) -> list[InstrumentHistory]:
    """Every current (uncorrected) administration, grouped by instrument (`administrations`
    when the caller has read them with `current_administrations`, else one query); each chart
    also draws `markers` (the doses, from the caller: measures knows nothing of dosing).

    The baseline is the earliest administration with a total. (When treatment courses exist,
    the course's own baseline will be used instead.)
    """
    if administrations is None:
        administrations = current_administrations(client)
    remission = remission_rules()
    grouped: dict[str, list[Administration]] = {}
    for administration in administrations:
        grouped.setdefault(administration.instrument, []).append(administration)
    histories = []
    for code, items in grouped.items():
        scored = [a for a in items if a.total is not None]
        baseline = scored[0] if scored else None
        rows: list[HistoryRow] = []
        previous: Administration | None = None
        for administration in items:
            total = administration.total
            rows.append(
                HistoryRow(
                    administration=administration,
                    from_baseline=(
                        rules.change(baseline.total, total)
                        if baseline is not None
                        and baseline.total is not None
                        and total is not None
                        and administration is not baseline
                        else None
                    ),
                    from_previous=(
                        rules.change(previous.total, total)
                        if previous is not None and previous.total is not None and total is not None
                        else None
                    ),
                    response=(
                        rules.is_response(baseline.total, total)
                        if baseline is not None and administration is not baseline
                        else None
                    ),
                    remission=rules.is_remission(code, total, remission),
                )
            )
            if total is not None:
                previous = administration
        rows.reverse()
        histories.append(
            InstrumentHistory(
                instrument=INSTRUMENTS[code],
                rows=rows,
                baseline=baseline,
                remission=remission.get(code),
                markers=tuple(markers),
            )
        )
    histories.sort(key=lambda history: list(INSTRUMENTS).index(history.instrument.code))
    return histories


@dataclass(frozen=True)
class OutstandingLink:
    link: SelfReportLink
    overdue: bool


def outstanding_questionnaires(
    user: User, *, at: dt.datetime, overdue_days: int = 14
) -> list[OutstandingLink]:
    """Questionnaires sent to this person's clients and not completed: due while the link works,
    overdue once it expired unanswered (shown for `overdue_days` after expiry)."""
    links = (
        SelfReportLink.objects.filter(
            completed_at__isnull=True,
            expires_at__gt=at - dt.timedelta(days=overdue_days),
            client__in=visible_clients(user),
            client__care_team__staff=user,
            client__care_team__ended_at__isnull=True,
        )
        .select_related("client")
        .order_by("expires_at")
        .distinct()
    )
    return [OutstandingLink(link=link, overdue=link.expires_at <= at) for link in links]
