"""Events read in place from a company's Parquet files (events.yaml) give the same usage
features, health snapshots, playbook-trigger events and 360 chart as the same events in Banso's
store: exported with other column names, the CRM's account ids and naive local times in another
zone, then the store removed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from banso.accounts.models import AccountIdentity
from banso.db import session_scope
from banso.errors import BansoError
from banso.health import service, snapshots
from banso.usage import sources, store
from banso.usage.daily import account_daily_usage
from banso.usage.service import compute_feature_use, compute_features

END = date(2026, 1, 1)
DAYS = [date(2025, 10, 5), date(2025, 11, 20), date(2025, 12, 28)]
"""Scored days: one whose 56-day window begins before the first event, two inside."""

EVENTS_YAML = """\
source: parquet
path: external/events
hive_partitioning: true
columns:
  account: tenant
  account_source: crm
  user: uid
  event: action
  timestamp: occurred_local
  timezone: Asia/Kolkata
  event_id: id
  properties: props
"""


def _export(home: Path) -> int:
    """The store's events as the company would keep them: hive folders by local month, the CRM
    ids, local (UTC+05:30) naive times; returns the rows written."""
    with session_scope() as s:
        crm = s.execute(
            select(AccountIdentity.account_id, AccountIdentity.external_id).where(
                AccountIdentity.source == "crm"
            )
        ).all()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register(
        "crm",
        pa.table({"account_id": pa.array([a for a, _ in crm], pa.int64()),
                  "tenant": pa.array([e for _, e in crm], pa.string())}),
    )  # fmt: skip
    files = [str(f) for f in store.event_files()]
    table = con.execute(
        """
        SELECT e.event_id AS id, c.tenant, e.user_id AS uid, e.event AS action,
               CAST(timezone('Asia/Kolkata', e.ts) AS TIMESTAMP) AS occurred_local,
               e.properties AS props,
               strftime(timezone('Asia/Kolkata', e.ts), '%Y-%m') AS month
        FROM read_parquet($files) e JOIN crm c USING (account_id)
        ORDER BY occurred_local
        """,
        {"files": files},
    ).to_arrow_table()
    con.close()
    target = home / "config" / "external" / "events"
    pq.write_to_dataset(table, target, partition_cols=["month"])
    return table.num_rows


def _snapshots() -> list[dict]:
    table = snapshots.read(start=DAYS[0], end=DAYS[-1])
    return table.sort_by([("day", "ascending"), ("account_id", "ascending")]).to_pylist()


@pytest.mark.slow
def test_external_parquet_scores_as_the_store(cli, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--accounts", "60", "--months", "6", "--seed", "3",
               "--end", END.isoformat())  # fmt: skip
    assert made.exit_code == 0, made.stderr
    stored_rows = sum(pq.read_metadata(f).num_rows for f in store.event_files())

    # Banso's store
    with session_scope() as s:
        service.score_days(s, DAYS)
    from_store = _snapshots()
    features_store = [compute_features(d) for d in DAYS]
    use_store = compute_feature_use(DAYS[-1])
    busiest = max(
        features_store[-1].to_pylist(), key=lambda r: (r["events_28d"], -r["account_id"])
    )["account_id"]
    chart_store = account_daily_usage(busiest, today=DAYS[-1])
    con = duckdb.connect()
    window = "SELECT count(*), sum(hash(account_id, user_id, event, ts)) FROM {}"
    trigger_store = con.execute(window.format(store.duckdb_source(
        con, date(2025, 11, 1), date(2025, 11, 30), "account_id, user_id, event, ts",
        merges={},
    ))).fetchall()[0]  # fmt: skip
    assert from_store and stored_rows > 1000 and chart_store.events_28d > 0
    assert sum(r["raw__active_days_28d"] or 0 for r in from_store) > 100

    # the same events outside Banso, the store gone
    assert _export(banso_home) == stored_rows  # every demo account has a CRM id
    (banso_home / "config" / "events.yaml").write_text(EVENTS_YAML, encoding="utf-8")
    store.delete_store()
    assert store.event_files() == [] and store.has_events()
    with session_scope() as s:
        service.score_days(s, DAYS)

    assert _snapshots() == from_store
    for day, expected in zip(DAYS, features_store, strict=True):
        got = compute_features(day)
        assert got.sort_by("account_id").to_pylist() == expected.sort_by("account_id").to_pylist()
    assert (
        compute_feature_use(DAYS[-1])
        .sort_by([("account_id", "ascending"), ("event", "ascending")])
        .to_pylist()
        == use_store.sort_by([("account_id", "ascending"), ("event", "ascending")]).to_pylist()
    )
    assert account_daily_usage(busiest, today=DAYS[-1]) == chart_store
    assert con.execute(window.format(store.duckdb_source(
        con, date(2025, 11, 1), date(2025, 11, 30), "account_id, user_id, event, ts",
        merges={},
    ))).fetchall()[0] == trigger_store  # fmt: skip

    checked = cli("events", "check-config")
    assert checked.exit_code == 0, checked.stderr
    assert f"{stored_rows:,} events, {stored_rows:,} of them for Banso accounts" in " ".join(
        checked.stdout.split()
    )

    # the zone matters: the same naive times read as UTC are 5.5 hours off
    (banso_home / "config" / "events.yaml").write_text(
        EVENTS_YAML.replace("Asia/Kolkata", "UTC"), encoding="utf-8"
    )
    shifted = compute_features(DAYS[-1]).sort_by("account_id").to_pylist()
    assert shifted != features_store[-1].sort_by("account_id").to_pylist()


def test_writes_refused_with_an_external_source(banso_home: Path) -> None:
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "events.yaml").write_text(EVENTS_YAML, encoding="utf-8")
    row = {"event_id": "e1", "account_id": 1, "user_id": "u", "event": "login",
           "ts": pa.scalar(0, pa.timestamp("us", tz="UTC")).as_py() + timedelta(days=20000),
           "properties": None}  # fmt: skip
    with pytest.raises(sources.ExternalEventsOwned, match="company's own pipeline"):
        store.append_events(pa.Table.from_pylist([row], schema=store.EVENT_SCHEMA))
    assert not store.store_dir().exists()


def test_spark_is_refused_with_an_external_source(banso_home: Path) -> None:
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "events.yaml").write_text(EVENTS_YAML, encoding="utf-8")
    with pytest.raises(BansoError, match="read with DuckDB; run without --engine spark"):
        compute_features(date(2025, 1, 2), engine="spark")


def test_store_is_the_default(banso_home: Path) -> None:
    assert sources.external_source() is None
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "events.yaml").write_text("source: store\n", encoding="utf-8")
    assert sources.external_source() is None


BAD = """\
source: parquet
path: external/events
columns:
  account: tenant
  event: action
  timestamp: occurred_local
  timezone: Asia/Atlantis
  colour: blue
"""


def test_config_problems_name_file_line_and_field(cli, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    path = config / "events.yaml"
    path.write_text(BAD, encoding="utf-8")
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert f"{path}:7: columns.timezone: unknown time zone Asia/Atlantis" in result.stderr
    assert f"{path}:8: columns.colour:" in result.stderr

    path.write_text("source: parquet\n", encoding="utf-8")
    result = cli("events", "check-config")
    assert f"{path}:1: (events): source parquet needs path, columns" in result.stderr


def test_missing_files_and_columns_are_named(cli, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    path = config / "events.yaml"
    path.write_text(EVENTS_YAML, encoding="utf-8")
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert f"{path}:2: path: no Parquet file matches" in result.stderr

    target = config / "external" / "events"
    target.mkdir(parents=True)
    pq.write_table(
        pa.table({"tenant": ["A-1"], "uid": ["u"], "action": ["login"],
                  "occurred_local": ["2025-01-01 09:00"], "id": ["e"], "props": [None]}),
        target / "part-0.parquet",
    )  # fmt: skip
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert (
        f"{path}:9: columns.timestamp: column occurred_local is VARCHAR, not a timestamp"
        in result.stderr
    )
    with pytest.raises(sources.EventsConfigRejected):
        compute_features(date(2025, 1, 2))


ZONES = ["Asia/Tokyo", "Asia/Kolkata", "America/New_York", "Europe/London"]


@settings(max_examples=60, deadline=None)
@given(
    base=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2033, 12, 31)),
    after=st.lists(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=730)),
        min_size=1,
        max_size=20,
    ),
    zone=st.sampled_from(ZONES),
    aware=st.booleans(),
    bounded=st.booleans(),
)
def test_times_come_back_as_the_same_instants(
    base: datetime,
    after: list[timedelta],
    zone: str,
    aware: bool,
    bounded: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Naive local times in any zone (or aware ones) are read as the instants they name, for a
    read of every event or of their span (a zone's offset changes in two years as a CASE)."""
    moments = [base + d for d in after]
    tz = ZoneInfo(zone)
    instants = [m.replace(tzinfo=UTC) for m in moments]
    local = [i.astimezone(tz).replace(tzinfo=None) for i in instants]
    # a naive time names one instant except in the hour that repeats when clocks go back
    assume(all(
        n.replace(tzinfo=tz, fold=0).utcoffset() == n.replace(tzinfo=tz, fold=1).utcoffset()
        for n in local
    ))  # fmt: skip
    folder = tmp_path_factory.mktemp("ext")
    column = (
        pa.array(instants, pa.timestamp("us", tz="UTC"))
        if aware
        else pa.array(local, pa.timestamp("us"))
    )
    pq.write_table(
        pa.table({"acct": pa.array(range(len(instants)), pa.int64()), "what": ["x"] * len(local),
                  "at": column}),
        folder / "e.parquet",
    )  # fmt: skip
    config = folder / "config"
    config.mkdir()
    (config / "events.yaml").write_text(
        f"source: parquet\npath: {folder}/e.parquet\n"
        f"columns: {{account: acct, event: what, timestamp: at, timezone: {zone}}}\n",
        encoding="utf-8",
    )
    source = sources.external_source(config)
    assert source is not None
    con = duckdb.connect()
    start = min(instants) if bounded else None
    end = max(instants) + timedelta(microseconds=1) if bounded else None
    sql = sources.source_sql(con, source, start, end)
    assert "timezone(" not in sql  # ICU only for events over more than twelve years
    rows = con.execute(f"SELECT account_id, ts FROM {sql} ORDER BY account_id").fetchall()
    assert [ts for _, ts in rows] == instants
