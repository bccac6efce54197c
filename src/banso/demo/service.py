"""``generate_world``: write the deterministic demo company into the app database and event store.

Two passes over the accounts. The first simulates every account's story (cheap) to learn its
touch model, size the CS team and keep the compact monthly state the usage events need. The
second re-simulates the same stories chunk by chunk (same seeds, so the same stories) and bulk
inserts their rows, so memory holds one chunk of rows at a time. Events are then generated day
by day. The relational part is one transaction: a failure leaves the database as it was and
removes the half-written event store.
"""

from __future__ import annotations

import random
import shutil
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Table, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import banso.models  # noqa: F401  (registers every table on Base.metadata)
from banso import dates, schema
from banso.config import get_settings
from banso.db import Base, get_engine
from banso.demo.events import UsageInputs, write_usage_events
from banso.demo.names import MAX_COMPANIES, CompanyName, company_names, person_name
from banso.demo.onboarding import write_onboarding
from banso.demo.plans import PLAN_TABLES, plan_rows
from banso.demo.records import IdCounter, Profile, Row, account_rows, profile_of
from banso.demo.story import AccountStory, add_months, simulate_account
from banso.errors import BansoError
from banso.i18n import _
from banso.ingest.batches import DEFAULT_SOURCE, ImportResult, record_batch
from banso.usage.index import index_dir
from banso.usage.store import delete_store, event_files

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages: ``simulate``, ``write``, ``events``."""

MAX_MONTHS = 240
CHUNK_ACCOUNTS = 1_000
ACCOUNTS_PER_CSM = 45
"""High- and low-touch customer accounts one CSM carries."""
ACCOUNTS_PER_DIGITAL_CSM = 400
"""Tech-touch customer accounts one digital CSM (pooled, scaled programmes) carries."""

_INSERT_ORDER = (
    "accounts",
    "account_ownerships",
    "account_identities",
    "subscriptions",
    "contacts",
    "tickets",
    "survey_responses",
    "activities",
    *PLAN_TABLES,
)


@dataclass(frozen=True)
class DemoOptions:
    """Size and identity of the world: same options, same data."""

    accounts: int = 2_000
    months: int = 36
    seed: int = 7
    end: date | None = None
    """Last day of the history; default: the first day of the current month (company time)."""
    event_scale: float = 1.0
    """Multiplies how often each product user is active; 0 writes no events."""
    replace: bool = False
    """Delete every account (and what belongs to it) and the event store first."""


@dataclass
class DemoSummary:
    """Counts of what was written, and the MRR at the end of the history in yen."""

    first_day: date
    end: date
    team_members: int = 0
    accounts: int = 0
    customers: int = 0
    mrr: int = 0
    subscriptions: int = 0
    contacts: int = 0
    tickets: int = 0
    survey_responses: int = 0
    activities: int = 0
    events: int = 0
    onboarding_programmes: int = 0
    seconds: float = 0.0


def default_end() -> date:
    """The first day of the current month in the company time zone (``BANSO_TODAY`` when set)."""
    return dates.today().replace(day=1)


def generate_world(options: DemoOptions, progress: Progress | None = None) -> DemoSummary:
    """Generate the demo world described by ``options``; returns what was written."""
    started = clock.perf_counter()
    _validate(options)
    settings = get_settings()
    tz = settings.tz
    end = options.end or default_end()
    first_day = add_months(end.replace(day=1), -options.months, 1)
    months = [add_months(first_day, m, 1) for m in range(options.months + 1)]
    days = (end - first_day).days + 1
    report = progress or (lambda stage, done, total: None)
    engine = get_engine()
    if not _database_ready():
        raise BansoError(_("The database is not initialised; run `banso init` first."))
    store = settings.event_store_dir
    with engine.begin() as conn:
        _clear_or_refuse(conn, store, options.replace)
    summary = DemoSummary(first_day=first_day, end=end)

    companies = company_names(options.accounts, random.Random(f"banso-demo:{options.seed}:names"))
    state = _first_pass(options, months, end, companies, report)
    members, owners = _team(options.seed, state.profiles)
    handovers = _handovers(options.seed, state.profiles, owners, end)
    summary.team_members = len(members)
    try:
        with engine.begin() as conn:
            conn.execute(Base.metadata.tables["team_members"].insert(), members)
            emails = {m["id"]: m["email"] for m in members}
            _second_pass(
                conn, options, months, end, state, owners, handovers, emails, summary, report
            )
            _advance_sequences(conn)
            summary.events = write_usage_events(
                options.seed,
                state.usage,
                first_day,
                days,
                tz,
                options.event_scale,
                store,
                lambda done: report("events", done, days),
            )
            _record_imports(conn, options, summary)
        with Session(engine) as session, session.begin():
            made = write_onboarding(session, end, options.seed)
        summary.onboarding_programmes = made.enrolled
    except BaseException:
        delete_store(store)
        raise
    _write_truth(settings.home / "demo" / "truth.parquet", state, months)
    summary.seconds = clock.perf_counter() - started
    return summary


# --- checks and clean-up -------------------------------------------------------------------


def _validate(options: DemoOptions) -> None:
    if not 1 <= options.accounts <= MAX_COMPANIES:
        raise BansoError(
            _(
                "--accounts must be between 1 and {limit}, not {value}.",
                limit=MAX_COMPANIES,
                value=options.accounts,
            )
        )
    if not 1 <= options.months <= MAX_MONTHS:
        raise BansoError(
            _(
                "--months must be between 1 and {limit}, not {value}.",
                limit=MAX_MONTHS,
                value=options.months,
            )
        )
    if not 0 <= options.event_scale <= 100:
        raise BansoError(
            _("--event-scale must be between 0 and 100, not {value}.", value=options.event_scale)
        )


def _database_ready() -> bool:
    """The app database exists and is at the newest schema revision."""
    try:
        return schema.is_ready()
    except OperationalError:  # e.g. the SQLite file's directory does not exist yet
        return False


def _clear_or_refuse(conn: Connection, store: Path, wipe: bool) -> None:
    accounts = conn.execute(select(func.count()).select_from(Base.metadata.tables["accounts"]))
    existing = int(accounts.scalar_one())
    has_events = bool(event_files(store))
    if not wipe:
        if existing:
            raise BansoError(
                _(
                    "The database already holds {count} accounts; "
                    "use --replace to delete them and generate the demo world.",
                    count=existing,
                )
            )
        if has_events:
            raise BansoError(
                _(
                    "The event store {path} already holds events; "
                    "use --replace to delete them and generate the demo world.",
                    path=str(store),
                )
            )
        return
    for table in _account_owned_tables():
        conn.execute(table.delete())
    delete_store(store)
    shutil.rmtree(index_dir(store), ignore_errors=True)  # summaries of the events just removed
    # health history (snapshots, validation report) describes the world being replaced
    shutil.rmtree(get_settings().home / "health", ignore_errors=True)


def _account_owned_tables() -> list[Table]:
    """Accounts, team members and every table that refers to them, children first."""
    owned = {"accounts", "team_members"}
    grew = True
    while grew:
        grew = False
        for table in Base.metadata.sorted_tables:
            if table.name not in owned and any(
                fk.column.table.name in owned for fk in table.foreign_keys
            ):
                owned.add(table.name)
                grew = True
    return [t for t in reversed(Base.metadata.sorted_tables) if t.name in owned]


def _advance_sequences(conn: Connection) -> None:
    """PostgreSQL only: ids were given explicitly, so move each id sequence past them.

    Raw SQL because sequence positioning has no portable SQLAlchemy expression.
    """
    if conn.dialect.name != "postgresql":
        return
    for name in ("team_members", *_INSERT_ORDER):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT MAX(id) FROM {name}))"
            )
        )


# --- pass 1: stories -> team, usage inputs, truth ------------------------------------------


@dataclass
class _WorldState:
    profiles: list[Profile]
    usage: UsageInputs
    leaving: np.ndarray


def _first_pass(
    options: DemoOptions,
    months: list[date],
    end: date,
    companies: list[CompanyName],
    report: Progress,
) -> _WorldState:
    n, nm = options.accounts, len(months)
    health = np.full((n, nm), np.nan, dtype=np.float32)
    seats = np.zeros((n, nm), dtype=np.int16)
    advanced = np.zeros((n, nm), dtype=bool)
    leaving = np.zeros((n, nm), dtype=bool)
    starts: list[int] = []
    ends: list[int] = []
    owners: list[int] = []
    profiles: list[Profile] = []
    first_day = months[0]
    horizon = (end - first_day).days + 1
    for index in range(n):
        story = simulate_account(options.seed, index, months, end)
        health[index] = story.health
        seats[index] = story.seats
        advanced[index] = story.advanced
        leaving[index] = story.leaving
        for start, stop in _service_intervals(story):
            starts.append((start - first_day).days)
            ends.append(horizon if stop is None else (stop - first_day).days)
            owners.append(index)
        profiles.append(profile_of(story, companies[index], end))
        if index % 500 == 499 or index == n - 1:
            report("simulate", index + 1, n)
    usage = UsageInputs(
        account_ids=np.arange(1, n + 1, dtype=np.int64),
        health=health,
        seats=seats,
        advanced=advanced,
        service_starts=np.array(starts, dtype=np.int64),
        service_ends=np.array(ends, dtype=np.int64),
        service_accounts=np.array(owners, dtype=np.int64),
    )
    return _WorldState(profiles, usage, leaving)


def _service_intervals(story: AccountStory) -> list[tuple[date, date | None]]:
    """Periods with at least one core plan line active (add-ons alone give no service)."""
    mains = sorted(
        ((line.start, line.end) for line in story.lines if line.plan.rank >= 0),
        key=lambda pair: pair[0],
    )
    merged: list[tuple[date, date | None]] = []
    for start, stop in mains:
        if merged and (merged[-1][1] is None or merged[-1][1] >= start):
            last_start, last_stop = merged[-1]
            longer = None if last_stop is None or stop is None else max(last_stop, stop)
            merged[-1] = (last_start, longer)
        else:
            merged.append((start, stop))
    return merged


def _team(seed: int, profiles: list[Profile]) -> tuple[list[Row], dict[int, int]]:
    """The CS team sized to the book of business, and the owner of every account."""
    rng = random.Random(f"banso-demo:{seed}:team")
    customers = {"high": 0, "low": 0, "tech": 0}
    for profile in profiles:
        if profile.customer_at_end:
            customers[profile.touch_model] += 1
    teams = (
        ("エンタープライズ", "high", max(2, -(-customers["high"] // ACCOUNTS_PER_CSM))),
        ("ミッドマーケット", "low", max(3, -(-customers["low"] // ACCOUNTS_PER_CSM))),
        ("SMB・デジタル", "tech", max(2, -(-customers["tech"] // ACCOUNTS_PER_DIGITAL_CSM))),
    )
    members: list[Row] = []
    carriers: dict[str, list[int]] = {}
    emails: set[str] = set()
    start = datetime(2019, 4, 1, 0, 0, tzinfo=get_settings().tz)
    for team_name, touch, size in teams:
        titles = ["manager"] + [
            "trainee" if rng.random() < 0.25 else "associate" for _ in range(size)
        ]
        if touch == "high":
            titles.insert(0, "senior_manager")
        for title in titles:
            person = person_name(rng)
            email = f"{person.email_local}@banso-demo.example"
            n = 2
            while email in emails:
                email = f"{person.email_local}{n}@banso-demo.example"
                n += 1
            emails.add(email)
            member_id = len(members) + 1
            members.append(
                {
                    "id": member_id,
                    "name": person.name,
                    "email": email,
                    "job_title": title,
                    "team": team_name,
                    "created_at": start,
                }
            )
            # Managers keep a few strategic accounts; their reports carry the book.
            if title != "senior_manager":
                share = 1 if title == "manager" else 4
                carriers.setdefault(touch, []).extend([member_id] * share)
    owners: dict[int, int] = {}
    counters = {touch: 0 for touch in carriers}
    for profile in profiles:
        pool = carriers[profile.touch_model]
        owners[profile.account_id] = pool[counters[profile.touch_model] % len(pool)]
        counters[profile.touch_model] += 1
    return members, owners


HANDOVER_SHARE = 0.12
"""Share of accounts a colleague of the same touch model handed to today's owner in the last
year or so, so the books of past months differ from today's (``--by owner`` of a past month)."""


def _handovers(
    seed: int, profiles: list[Profile], owners: dict[int, int], end: date
) -> dict[int, tuple[int, date]]:
    """Account -> (previous owner, day the current owner took over) for about
    ``HANDOVER_SHARE`` of the accounts; the previous owner carried the same touch model."""
    rng = random.Random(f"banso-demo:{seed}:handovers")
    pools: dict[str, set[int]] = {}
    for profile in profiles:
        pools.setdefault(profile.touch_model, set()).add(owners[profile.account_id])
    out: dict[int, tuple[int, date]] = {}
    for profile in profiles:
        if rng.random() >= HANDOVER_SHARE:
            continue
        owner = owners[profile.account_id]
        others = sorted(pools[profile.touch_model] - {owner})
        if others:
            previous = rng.choice(others)
            out[profile.account_id] = (previous, end - timedelta(days=rng.randint(20, 400)))
    return out


# --- pass 2: rows ---------------------------------------------------------------------------


def _second_pass(
    conn: Connection,
    options: DemoOptions,
    months: list[date],
    end: date,
    state: _WorldState,
    owners: dict[int, int],
    handovers: dict[int, tuple[int, date]],
    emails: dict[int, str],
    summary: DemoSummary,
    report: Progress,
) -> None:
    tz = get_settings().tz
    ids = IdCounter()
    tables = Base.metadata.tables
    mrr = Fraction(0)
    n = options.accounts
    for chunk_start in range(0, n, CHUNK_ACCOUNTS):
        batch: dict[str, list[Row]] = {name: [] for name in _INSERT_ORDER}
        for index in range(chunk_start, min(n, chunk_start + CHUNK_ACCOUNTS)):
            story = simulate_account(options.seed, index, months, end)
            previous, handover_on = handovers.get(index + 1, (None, None))
            profile = replace(
                state.profiles[index],
                owner_id=owners[index + 1],
                previous_owner_id=previous,
                handover_on=handover_on,
            )
            rows = account_rows(options.seed, story, profile, months, end, tz, ids)
            rows |= plan_rows(options.seed, story, profile, rows["contacts"], end, tz, ids,
                              emails.get(profile.owner_id or 0))  # fmt: skip
            for name in _INSERT_ORDER:
                batch[name].extend(rows[name])
            if profile.customer_at_end:
                summary.customers += 1
            mrr += sum(
                (
                    Fraction(line.plan.amount, line.plan.period_months)
                    for line in story.lines
                    if line.start <= end and (line.end is None or line.end > end)
                ),
                Fraction(0),
            )
        for name in _INSERT_ORDER:
            if batch[name]:
                conn.execute(tables[name].insert(), batch[name])
        summary.accounts += len(batch["accounts"])
        summary.subscriptions += len(batch["subscriptions"])
        summary.contacts += len(batch["contacts"])
        summary.tickets += len(batch["tickets"])
        summary.survey_responses += len(batch["survey_responses"])
        summary.activities += len(batch["activities"])
        report("write", summary.accounts, n)
    summary.mrr = round(mrr)


IMPORTED_TABLES = (
    ("contacts", "contacts"),
    ("subscriptions", "subscriptions"),
    ("tickets", "tickets"),
    ("surveys", "survey_responses"),
    ("activities", "activities"),
)
"""(import kind, table) of the demo's records that carry the source system they came from."""


def _record_imports(conn: Connection, options: DemoOptions, summary: DemoSummary) -> None:
    """Record what the demo wrote as ``banso import`` records a file (``record_batch``): one
    import batch per kind and source system, each with its audit entry, so the Data page's
    import history shows what the demo loaded."""
    tables = Base.metadata.tables
    name = f"banso demo generate --seed {options.seed}"
    batches: list[tuple[str, str, int]] = [
        ("team", DEFAULT_SOURCE, summary.team_members),
        ("accounts", "crm", summary.accounts),  # the CRM's ids; billing and support ids with them
    ]
    for kind, table_name in IMPORTED_TABLES:
        table = tables[table_name]
        counts = conn.execute(
            select(table.c.source, func.count()).group_by(table.c.source).order_by(table.c.source)
        )
        batches.extend((kind, source, int(rows)) for source, rows in counts)
    if summary.events:
        batches.append(("events", DEFAULT_SOURCE, summary.events))
    with Session(bind=conn) as session:
        for kind, source, rows in batches:
            record_batch(
                session,
                ImportResult(
                    kind=kind, file=name, source=source, rows=rows, inserted=rows, updated=0,
                    unchanged=0, accounts_created=rows if kind == "accounts" else 0,
                    dry_run=False,
                ),
            )  # fmt: skip
        session.commit()  # joins the demo's transaction: written when that commits


def _write_truth(path: Path, state: _WorldState, months: list[date]) -> None:
    """The hidden health per account and month, for checking the generator (not app data)."""
    usage = state.usage
    n, nm = usage.health.shape
    health = usage.health.reshape(-1)
    table = pa.table(
        {
            "account_id": pa.array(np.repeat(usage.account_ids, nm)),
            "month": pa.array(np.tile(np.array(months, dtype="datetime64[D]"), n)),
            "health": pa.array(health, mask=np.isnan(health)),
            "leaving": pa.array(state.leaving.reshape(-1)),
            "seats": pa.array(usage.seats.reshape(-1)),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
