"""A synthetic network of KAP clinics, generated into an empty database (`kapcare generate`).

For a number of clients and a seed it builds about one clinic per 2,000 clients (at least two),
each a stock Location with its staff (therapists, prescribers with credential and licence,
nurses, front desk; one practice admin for the network), dosing rooms and the ketamine and
esketamine lots it received; then the clients, arriving over `years` years before `now`, each
through the pathway with their care team, status history, weights, consents and REMS
enrolments, treatment courses under the four protocols with every appointment, dosing session
(dose, stock administration, vitals, scales, side effects, therapeutic work, adverse events,
vital-signs flags, REMS forms) and questionnaire (PHQ-9, GAD-7, MADRS, with suicide-risk flags
and risk assessments). How each part is made: kapcare.synthetic.network_people (staff and
clients), network_courses (pathway, courses and appointments), network_sessions (dosing
sessions), network_measures (questionnaires), network_stock (lots and the stock log). Each
course's outcome summary (kapcare.outcomes.models) is computed from the clinic's rows once they
are made (network_summaries) by `kapcare.outcomes.summaries.summarize`, as `refresh_courses`
computes it: what a refresh would write.

The same seed, client count, years and `now` give the same network, row for row (the database
ids, public ids included, are the same when the database starts from the same state). The
proportions (how many clients drop out, which protocols, how many doses, how often a session is
missed or a blood pressure goes past the stop level) are plausible synthetic choices, not
clinical figures; clinical values come from the protocols and the rule parameters.

Rows are written with the bulk writer (kapcare.synthetic.network_writer): COPY on PostgreSQL,
batched inserts on SQLite, a clinic at a time, in one transaction, the summaries with the rest.
Clinics are made by worker processes while this process writes. A clinic's rows are made with
ids from 1, then given their final ids, which follow the previous clinic's rows
(kapcare.synthetic.network_ids), and on PostgreSQL encoded for COPY, all in the worker: this
process only sends each clinic's bytes. One audit event, `synthetic.generate`, records what was
made.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import multiprocessing
import os
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import ForeignKey

from kapcare.accounts.models import User
from kapcare.clients.models import Client
from kapcare.core import audit
from kapcare.core.time import practice_zone
from kapcare.courses import parameters as course_parameters
from kapcare.courses.models import Room
from kapcare.courses.protocols import PROTOCOLS
from kapcare.dosing import rules, selectors
from kapcare.dosing.rems import active_certification
from kapcare.outcomes.rules import ProgressSettings
from kapcare.outcomes.summaries import progress_settings
from kapcare.stock.models import Location
from kapcare.synthetic.network_calendar import Clock
from kapcare.synthetic.network_courses import ClinicSimulation, ClinicTeam, Network, Plan
from kapcare.synthetic.network_ids import IdHandoff
from kapcare.synthetic.network_measures import Measures
from kapcare.synthetic.network_people import Pools, StaffPlan, staff_member, unusable_password
from kapcare.synthetic.network_sessions import Charting, Discharges, PreChecks
from kapcare.synthetic.network_stock import ClinicStock
from kapcare.synthetic.network_summaries import add_summaries
from kapcare.synthetic.network_tables import SHARED, SUMMARIES, NetworkTables
from kapcare.synthetic.network_writer import (
    Batch,
    PublicIds,
    Table,
    Writer,
    bulk_load,
    encoded,
    reset_sequences,
)

CLIENTS_PER_CLINIC = 2000
# Staff and rooms per clinic, by its number of clients (synthetic choices that keep the diaries
# full but not overbooked).
PER_THERAPIST = 150
PER_PRESCRIBER = 600
PER_NURSE = 250
PER_FRONT_DESK = 1000
PER_ROOM = 300

Progress = Callable[[str, int, int], None]


class NetworkNotEmpty(Exception):
    """The database already holds clients (or the network's staff): the network is only
    generated into an empty practice."""


@dataclass
class NetworkReport:
    clients: int
    clinics: int
    seed: int
    now: dt.datetime
    years: int
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written
    counts: dict[str, int] = field(default_factory=dict)  # what the simulation made
    seconds: float = 0.0
    outcomes: int = 0  # course outcome summaries written
    # Seconds spent in each step; "of which ..." are parts of the step before them (the workers'
    # parts added up over the workers, which run side by side).
    phases: dict[str, float] = field(default_factory=dict)
    overbooked: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _quiet(stage: str, done: int, total: int) -> None:
    return None


def generate_network(
    *,
    clients: int,
    seed: int,
    now: dt.datetime,
    years: int = 3,
    processes: int | None = None,
    progress: Progress = _quiet,
    alongside: bool = False,
) -> NetworkReport:
    """Generate the network into the configured database (which must hold no clients, unless
    `alongside`: the demo practice adds partner clinics beside its own clients; the network's
    staff, clinics and rooms must still be new).

    Clinics are made by `processes` worker processes (default: one per core; 1: in this
    process) while this one writes; the result is the same whatever their number."""
    if clients < 1:
        raise ValueError("clients: at least 1")
    if years < 1:
        raise ValueError("years: at least 1")
    if now.tzinfo is None:
        raise ValueError("now: a timezone-aware moment")
    started = time.perf_counter()
    clinic_count = max(2, round(clients / CLIENTS_PER_CLINIC))
    sizes = [
        clients // clinic_count + (1 if i < clients % clinic_count else 0)
        for i in range(clinic_count)
    ]
    report = NetworkReport(clients, clinic_count, seed, now, years)
    _refuse_unless_empty(sizes, clients_allowed=alongside)
    workers = processes if processes is not None else (os.cpu_count() or 1)
    with transaction.atomic():
        tables = NetworkTables()
        with bulk_load(list(tables)):
            _build(tables, sizes, seed, now, years, workers, report, progress)
            mark = time.perf_counter()
        report.phases["indexes and constraints"] = time.perf_counter() - mark
        reset_sequences(list(tables))
        report.rows = {_label(t): t.written for t in tables}
        audit.record(
            actor=None,
            action="synthetic.generate",
            subject_type="practice",
            detail={
                "clients": clients,
                "clinics": clinic_count,
                "seed": seed,
                "now": now.isoformat(),
                "years": years,
                "rows": report.rows,
            },
        )
        report.outcomes = tables.course_summary.written
    if connection.vendor == "postgresql":
        # Fresh bulk data has no planner statistics yet; the first reports and pages would run
        # without them until autovacuum got round to the tables.
        mark = time.perf_counter()
        _analyze(report.rows)
        report.phases["planner statistics (ANALYZE)"] = time.perf_counter() - mark
    report.seconds = time.perf_counter() - started
    return report


def _analyze(tables: Iterable[str]) -> None:
    """ANALYZE the tables written (a few seconds at 100,000 clients: not worth more connections)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for name in sorted(tables):
            cursor.execute(f"ANALYZE {quote(name)}")


def _label(table: Table) -> str:
    return table.model._meta.db_table


def staff_sizes(clients: int) -> dict[str, int]:
    """How many of each role (and dosing rooms) a clinic of `clients` has."""
    return {
        "therapist": max(2, math.ceil(clients / PER_THERAPIST)),
        "prescriber": max(1, math.ceil(clients / PER_PRESCRIBER)),
        "nurse": max(1, math.ceil(clients / PER_NURSE)),
        "front_desk": max(1, math.ceil(clients / PER_FRONT_DESK)),
        "room": max(2, math.ceil(clients / PER_ROOM)),
    }


PREFIXES = {
    "therapist": "therapist",
    "prescriber": "prescriber",
    "nurse": "nurse",
    "front_desk": "frontdesk",
}


def usernames(sizes: Sequence[int]) -> list[str]:
    """Every staff username a network with these clinic sizes has."""
    totals = dict.fromkeys(PREFIXES, 0)
    for size in sizes:
        for role, count in staff_sizes(size).items():
            if role in totals:
                totals[role] += count
    names = ["admin-0001"]
    for role, prefix in PREFIXES.items():
        names += [f"{prefix}-{n:04d}" for n in range(1, totals[role] + 1)]
    return names


def _refuse_unless_empty(sizes: Sequence[int], *, clients_allowed: bool = False) -> None:
    if not clients_allowed and Client.objects.exists():
        raise NetworkNotEmpty(
            "This database already has clients; a synthetic network is only generated into an "
            "empty practice."
        )
    taken = list(
        User.objects.filter(username__in=usernames(sizes)).values_list("username", flat=True)[:5]
    )
    if taken:
        raise NetworkNotEmpty(
            f"This database already has staff with the network's usernames ({', '.join(taken)})."
        )
    if (
        Room.objects.filter(name__contains=" clinic: ").exists()
        or Location.objects.filter(name__endswith=" clinic").exists()
    ):
        raise NetworkNotEmpty("This database already has the rooms or clinics of a network.")


def _plans() -> dict[str, Plan]:
    params, _versions = selectors.parameters_in_force()
    plans = {}
    for protocol in PROTOCOLS:
        settings_ = course_parameters.snapshot(protocol.code)
        pinned = course_parameters.pinned(protocol.code, settings_)
        route = pinned.route
        lasting = 0
        if route == rules.INTRAVENOUS:
            lasting = params.iv_infusion_minutes
        elif route == rules.INTRANASAL:
            devices = params.limits.esketamine_max_mg // rules.DEVICE_MG
            lasting = params.device_interval_minutes * (devices - 1)
        # The appointment is long enough for the check, the dose and the observation minimum.
        needed = 15 + lasting + params.observation_minutes[route] + 5
        minutes = max(pinned.dosing_minutes.value, 30 * math.ceil(needed / 30))
        plans[protocol.code] = Plan(pinned, settings_, minutes)
    return plans


@dataclass(frozen=True)
class Context:
    """What every clinic's generation shares (made once, then inherited by worker processes)."""

    seed: int
    now: dt.datetime
    today: dt.date
    start: dt.datetime
    epoch: dt.date
    pools: Pools
    params: rules.DosingParameters
    versions: dict[str, int]
    names: dict[int, str]  # staff id -> display name
    certification: dict[str, str]
    plans: dict[str, Plan]
    progress: ProgressSettings  # the practice's, for the course summaries
    # For each table a clinic fills: (position in its rows, table referred to) of its foreign
    # keys to rows of the same clinic, which move with those rows to their final ids.
    keys: dict[str, tuple[tuple[int, str], ...]]
    encode: bool  # encode the rows for PostgreSQL's COPY where they are made


@dataclass(frozen=True)
class ClinicSpec:
    team: ClinicTeam
    clients: int


@dataclass
class ClinicRows:
    """One clinic's rows with their final ids (each table's encoded for COPY on PostgreSQL),
    how many rows each table has and what its simulation counted."""

    index: int
    rows: dict[str, Sequence[Sequence[Any]] | bytes]
    sizes: dict[str, int]
    first_ids: dict[str, int]
    counts: dict[str, int]
    overbooked: int
    summarizing: float = 0.0  # seconds spent computing the course summaries
    waiting: float = 0.0  # seconds spent waiting for the clinic before to take its ids


# Set before worker processes start, so that they inherit it (fork).
_CONTEXT: Context | None = None
_DONE: Any = None  # a shared counter of clients made, for the progress bar
_IDS: IdHandoff | None = None


def _build(
    tables: NetworkTables,
    sizes: Sequence[int],
    seed: int,
    now: dt.datetime,
    years: int,
    processes: int,
    report: NetworkReport,
    progress: Progress,
) -> None:
    global _CONTEXT, _DONE, _IDS, _JUDGES
    rng = random.Random(seed)
    zone = practice_zone()
    clock = Clock(zone)
    start = now - dt.timedelta(days=365 * years + 75)
    epoch = clock.local_day(start)
    pools = Pools(seed, sum(sizes))
    params, versions = selectors.parameters_in_force()
    names: dict[int, str] = {}
    specs, certification = _setup(tables, rng, pools, clock, epoch, sizes, names)
    _CONTEXT = Context(
        seed=seed,
        now=now,
        today=clock.local_day(now),
        start=start,
        epoch=epoch,
        pools=pools,
        params=params,
        versions=versions,
        names=names,
        certification=certification,
        plans=_plans(),
        progress=progress_settings(),
        keys=_local_keys(tables),
        encode=connection.vendor == "postgresql",
    )
    local = [name for name in tables.named() if name not in SHARED]
    first = {name: tables.named()[name].next_id for name in local}
    total = sum(sizes)
    progress("clients", 0, total)
    begun = time.perf_counter()
    fork = "fork" in multiprocessing.get_all_start_methods()
    processes = min(processes, len(specs)) if fork else 1
    # Workers start before the writer's thread: a process forks cleanly only without threads.
    pool = None
    if processes > 1:
        context = multiprocessing.get_context("fork")
        _DONE = context.Value("q", 0)
        _IDS = IdHandoff(first, len(specs), context)
        pool = context.Pool(processes)
    else:
        _IDS = IdHandoff(first, len(specs))
    writer = Writer(PublicIds(f"{seed}:public-ids"))
    summarizing = waiting = 0.0
    try:
        writer.submit(tables)  # staff, clinics and rooms first
        for made in _clinic_rows(pool, specs, progress, total):
            writer.submit_rows(_placed(tables, made))
            report.overbooked += made.overbooked
            summarizing += made.summarizing
            waiting += made.waiting
            for name, count in made.counts.items():
                report.counts[name] = report.counts.get(name, 0) + count
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        writer.close()
        _CONTEXT = _DONE = _IDS = _JUDGES = None
    report.phases["making and writing rows"] = time.perf_counter() - begun
    report.phases["of which writing (alongside)"] = writer.seconds
    report.phases["of which outcome summaries"] = summarizing
    report.phases["of which waiting for ids"] = waiting
    progress("clients", total, total)
    report.counts = dict(sorted(report.counts.items()))


def _clinic_rows(
    pool: Any, specs: Sequence[ClinicSpec], progress: Progress, total: int
) -> Iterator[ClinicRows]:
    """Each clinic's rows, in clinic order: made here, or by the worker processes (a few
    clinics ahead of the one being written)."""
    if pool is None:
        done = 0
        for position, spec in enumerate(specs):
            made = _make_clinic(position, spec)
            done += spec.clients
            progress("clients", done, total)
            yield made
        return
    ahead = 2 * pool._processes
    pending: deque[Any] = deque()
    queued = enumerate(specs)
    for position, spec in itertools.islice(queued, ahead):
        pending.append(pool.apply_async(_make_clinic, (position, spec)))
    while pending:
        result = pending.popleft()
        while not result.ready():
            result.wait(0.25)
            progress("clients", _DONE.value, total)
        yield result.get()
        for position, spec in itertools.islice(queued, 1):
            pending.append(pool.apply_async(_make_clinic, (position, spec)))


def _placed(tables: NetworkTables, made: ClinicRows) -> Batch:
    """A clinic's rows to write, which follow the rows already written in each table."""
    named = tables.named()
    batch: Batch = []
    for name, rows in made.rows.items():
        table = named[name]
        if made.first_ids[name] != table.next_id:
            raise RuntimeError(f"clinic {made.index}: {name} ids do not follow the rows before")
        batch.append((table, rows))
        table.next_id += made.sizes[name]
        table.written += made.sizes[name]
    return batch


def _local_keys(tables: NetworkTables) -> dict[str, tuple[tuple[int, str], ...]]:
    """For each table a clinic fills, its foreign keys to rows of the same clinic (those to
    staff, clinics and rooms are final when the clinic is made)."""
    named = {name: table for name, table in tables.named().items() if name not in SHARED}
    models = {table.model: name for name, table in named.items()}
    keys: dict[str, tuple[tuple[int, str], ...]] = {}
    for name, table in named.items():
        found = []
        for position, column in enumerate(table.declared, start=1):
            field = _field(table, column)
            if isinstance(field, ForeignKey) and field.related_model in models:
                found.append((position, models[field.related_model]))
        keys[name] = tuple(found)
    return keys


def _field(table: Table, column: str) -> Any:
    return next(f for f in table.model._meta.concrete_fields if f.column == column)


_JUDGES: tuple[Context, tuple[PreChecks, Discharges]] | None = None


def _judges(context: Context) -> tuple[PreChecks, Discharges]:
    """The pre-dose and discharge judges for every clinic this process makes in this run: what
    they keep (the checks for each distinct input, worked out by the dosing rules) fills up
    over the first clinics and is then reused, as the rules are the same for every clinic."""
    global _JUDGES
    if _JUDGES is None or _JUDGES[0] is not context:
        _JUDGES = (
            context,
            (PreChecks(context.params), Discharges(context.params, context.versions)),
        )
    return _JUDGES[1]


def _make_clinic(position: int, spec: ClinicSpec) -> ClinicRows:
    """One clinic's clients, courses, sessions, questionnaires, stock and course summaries,
    made in tables of their own (ids from 1), then given their final ids (the clinic at
    `position` follows the rows of the clinics before it) and, on PostgreSQL, encoded for COPY.
    Deterministic for the seed and the clinic, whichever process makes it."""
    context = _CONTEXT
    handoff = _IDS
    assert context is not None  # noqa: S101 - set before any clinic is made
    assert handoff is not None  # noqa: S101
    index = spec.team.index
    tables = NetworkTables(local=True)
    rng = random.Random(f"{context.seed}:clinic:{index}")
    public_ids = PublicIds(f"{context.seed}:clinic:{index}:public-ids")
    zone = practice_zone()
    clock = Clock(zone)
    charting = Charting(
        tables=tables,
        rng=rng,
        params=context.params,
        versions=context.versions,
        names=context.names,
        zone=zone,
        today=context.today,
        certification=context.certification,
        next_public_id=public_ids.next,
        judges=_judges(context),
    )
    network = Network(
        tables=tables,
        rng=rng,
        now=context.now,
        today=context.today,
        start=context.start,
        clock=clock,
        pools=context.pools,
        public_ids=public_ids,
        plans=context.plans,
        measures=Measures(tables, rng, context.now),
        charting=charting,
    )
    stock = ClinicStock(index, spec.team.location, context.epoch)
    simulation = ClinicSimulation(network, spec.team, stock)
    for number in range(1, spec.clients + 1):
        simulation.client()
        if _DONE is not None and number % 50 == 0:
            with _DONE.get_lock():
                _DONE.value += 50
    if _DONE is not None:
        with _DONE.get_lock():
            _DONE.value += spec.clients % 50
    team = spec.team
    stock.write(tables, clock, context.now, rng, team.nurses, team.prescribers)
    named = tables.named()
    made = {name: table.detach() for name, table in named.items() if name not in SHARED}
    begun = time.perf_counter()
    add_summaries(tables, made, now=context.now, zone=zone, settings=context.progress)
    summarizing = time.perf_counter() - begun
    for name in SUMMARIES:  # added after the other rows were taken
        made[name] = named[name].detach()
    auto_ids = PublicIds(f"{context.seed}:clinic:{index}:more-public-ids")
    sizes = {name: len(taken) for name, taken in made.items()}
    begun = time.perf_counter()
    first = handoff.take(position, sizes)
    waiting = time.perf_counter() - begun
    rows: dict[str, Sequence[Sequence[Any]] | bytes] = {}
    for name, taken in made.items():
        offsets = (
            first[name] - 1,
            tuple((at, first[referred] - 1) for at, referred in context.keys[name]),
        )
        placed = named[name].finish(taken, auto_ids, offsets)
        rows[name] = encoded(named[name], placed) if context.encode else placed
    return ClinicRows(
        index,
        rows,
        sizes,
        {name: first[name] for name in made},
        network.counts,
        simulation.calendar.overbooked,
        summarizing,
        waiting,
    )


def _setup(
    tables: NetworkTables,
    rng: random.Random,
    pools: Pools,
    clock: Clock,
    epoch: dt.date,
    sizes: Sequence[int],
    names: dict[int, str],
) -> tuple[list[ClinicSpec], dict[str, str]]:
    """The network's practice admin, REMS site certification, and each clinic with its staff
    and dosing rooms."""
    joined = clock.at(epoch - dt.timedelta(days=30), 9 * 60)
    opened = clock.at(epoch - dt.timedelta(days=30), 10 * 60)
    admin = _user(
        tables,
        rng,
        StaffPlan("admin-0001", *_name(pools, rng), "", "practice_admin"),
        joined,
        names,
    )
    certification = active_certification()
    if certification is None:
        certified = epoch - dt.timedelta(days=30)
        at = clock.at(certified, 12 * 60)
        cert = {
            "number": "SYN-HCS-0001",
            "site_name": settings.PRACTICE_NAME,
            "certified_on": certified.isoformat(),
        }
        tables.certification.add(cert["number"], certified, cert["site_name"], at, at, admin, admin)
    else:
        cert = {
            "number": certification.number,
            "site_name": certification.site_name,
            "certified_on": certification.certified_on.isoformat(),
        }
    numbers = dict.fromkeys(PREFIXES, 0)
    cities = list(pools.cities)
    specs = []
    for index, size in enumerate(sizes, start=1):
        city = cities[(index - 1) % len(cities)]
        name = f"{city} clinic" if index <= len(cities) else f"{city} clinic {index}"
        location = tables.location.add(name, opened, opened, admin, admin)
        counts = staff_sizes(size)
        staff: dict[str, list[int]] = {}
        for role, prefix in PREFIXES.items():
            members = []
            for _ in range(counts[role]):
                numbers[role] += 1
                plan = staff_member(pools, rng, role, numbers[role], prefix)
                members.append(_user(tables, rng, plan, joined, names))
            staff[role] = members
        rooms = [
            tables.room.add(f"{name}: Dosing room {n}", opened, opened, admin, admin)
            for n in range(1, counts["room"] + 1)
        ]
        team = ClinicTeam(
            index,
            location,
            staff["therapist"],
            staff["prescriber"],
            staff["nurse"],
            staff["front_desk"],
            rooms,
        )
        specs.append(ClinicSpec(team, size))
    return specs, cert


def _name(pools: Pools, rng: random.Random) -> tuple[str, str]:
    return rng.choice(pools.female), rng.choice(pools.family)


def _user(
    tables: NetworkTables,
    rng: random.Random,
    plan: StaffPlan,
    joined: dt.datetime,
    names: dict[int, str],
) -> int:
    role = plan.role
    user = tables.user.add(
        plan.username,
        plan.first_name,
        plan.last_name,
        f"{plan.username}@example.org",
        unusable_password(rng),
        joined,
        plan.title,
        role == "therapist",
        role == "prescriber",
        role == "nurse",
        role == "front_desk",
        role == "practice_admin",
        plan.credential,
        plan.licence,
    )
    names[user] = plan.display_name
    return user
