"""The external sources read through Arrow (events.yaml ``source: parquet`` on an S3-compatible
store, ``source: delta``, ``source: postgres``) give the same usage features, health snapshots,
360 chart and check-config counts as the same events in a local Parquet folder, row for row.

The S3-compatible store is moto's server on a loopback port; PostgreSQL is the test server
(BANSO_TEST_PG_URL), in a database each test creates and drops."""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.usage.test_external_source import EVENTS_YAML, _export

from banso.db import session_scope
from banso.health import service, snapshots
from banso.usage import sources, store
from banso.usage.daily import account_daily_usage
from banso.usage.service import compute_features

END = date(2026, 1, 1)
DAYS = [date(2025, 11, 20), date(2025, 12, 28)]
MAPPING = EVENTS_YAML[EVENTS_YAML.index("columns:") :]
SECRET = "s3cr3t-never-printed"


def _state(busiest: int | None = None) -> dict:
    """Everything the comparisons look at, read from whatever events.yaml names now."""
    with session_scope() as s:
        service.score_days(s, DAYS)
    snaps = snapshots.read(start=DAYS[0], end=DAYS[-1])
    features = [compute_features(d).sort_by("account_id").to_pylist() for d in DAYS]
    if busiest is None:
        busiest = max(features[-1], key=lambda r: (r["events_28d"], -r["account_id"]))["account_id"]
    return {
        "snapshots": snaps.sort_by([("day", "ascending"), ("account_id", "ascending")]).to_pylist(),
        "features": features,
        "chart": account_daily_usage(busiest, today=DAYS[-1]),
        "busiest": busiest,
    }


def _counts(cli) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """check-config's events, mapped events, time span and unknown keys."""
    checked = cli("events", "check-config")
    assert checked.exit_code == 0, checked.stderr
    out = " ".join(checked.stdout.split())
    found = re.search(r"([\d,]+) events, ([\d,]+) of them for Banso accounts\. (From .*)", out)
    assert found is not None, out
    return found.groups()


@pytest.fixture
def world(cli, banso_home: Path) -> dict:  # type: ignore[no-untyped-def]
    """A small demo world whose events are exported to a local hive-partitioned Parquet
    folder (CRM account keys, naive Asia/Kolkata times), read from there; the store removed."""
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--accounts", "25", "--months", "4", "--seed", "7",
               "--end", END.isoformat())  # fmt: skip
    assert made.exit_code == 0, made.stderr
    rows = _export(banso_home)
    assert rows > 1000
    (banso_home / "config" / "events.yaml").write_text(EVENTS_YAML, encoding="utf-8")
    store.delete_store()
    reference = _state()
    assert sum(r["events_28d"] or 0 for r in reference["features"][-1]) > 100
    assert reference["chart"].events_28d > 0
    return {
        "rows": rows,
        "folder": banso_home / "config" / "external" / "events",
        "state": reference,
        "counts": _counts(cli),
    }


def _configure(banso_home: Path, head: str) -> None:
    (banso_home / "config" / "events.yaml").write_text(head + MAPPING, encoding="utf-8")


@contextlib.contextmanager
def _moto() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _s3(endpoint: str):  # type: ignore[no-untyped-def]
    from pyarrow import fs

    return fs.S3FileSystem(
        endpoint_override=endpoint.removeprefix("http://"), scheme="http", region="us-east-1",
        access_key="banso", secret_key=SECRET, allow_bucket_creation=True,
    )  # fmt: skip


@pytest.mark.slow
def test_s3_parquet_equals_the_local_folder(
    cli,  # type: ignore[no-untyped-def]
    world: dict,
    banso_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pyarrow import fs

    with _moto() as endpoint:
        remote = _s3(endpoint)
        remote.create_dir("product")
        fs.copy_files(str(world["folder"]), "product/events", destination_filesystem=remote)
        # a marker file of the writer's, as Spark leaves, is not an events file
        with remote.open_output_stream("product/events/_SUCCESS") as out:
            out.write(b"")
        head = (
            f"source: parquet\npath: s3://product/events/\nhive_partitioning: true\n"
            f"s3:\n  endpoint: {endpoint}\n  region: us-east-1\n"
            f"  access_key_env: EVENTS_S3_KEY\n  secret_key_env: EVENTS_S3_SECRET\n"
        )
        _configure(banso_home, head)
        path = banso_home / "config" / "events.yaml"

        monkeypatch.setenv("EVENTS_S3_KEY", "banso")
        result = cli("events", "check-config")
        assert result.exit_code == 2
        assert f"{path}:8: s3.secret_key_env: environment variable EVENTS_S3_SECRET is not set" \
            in result.stderr  # fmt: skip

        monkeypatch.setenv("EVENTS_S3_SECRET", SECRET)
        assert _state(world["state"]["busiest"]) == world["state"]
        assert _counts(cli) == world["counts"]
        checked = cli("events", "check-config")
        files = len(list(world["folder"].rglob("*.parquet")))
        assert f"s3://product/events/: {files} files" in checked.stdout
        assert SECRET not in checked.stdout + checked.stderr

        # the same events as a Delta table in the store, read through deltalake's own client
        from deltalake import write_deltalake

        events = ds.dataset(world["folder"], format="parquet", partitioning="hive").to_table()
        write_deltalake(
            "s3://product/lake", events.drop_columns(["month"]),
            storage_options={"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true",
                             "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "banso",
                             "AWS_SECRET_ACCESS_KEY": SECRET,
                             "AWS_S3_ALLOW_UNSAFE_RENAME": "true"},
        )  # fmt: skip
        delta_head = head.replace("parquet", "delta", 1).replace("product/events/", "product/lake")
        _configure(banso_home, delta_head.replace("hive_partitioning: true\n", ""))
        assert _state(world["state"]["busiest"]) == world["state"]
        assert _counts(cli) == world["counts"]

        _configure(banso_home, head.replace("product/events", "product/nothing-here"))
        result = cli("events", "check-config")
        assert result.exit_code == 2
        assert f"{path}:2: path: no Parquet file matches s3://product/nothing-here/" \
            in result.stderr  # fmt: skip

    # the server is gone: the endpoint cannot be reached
    _configure(banso_home, head)
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert f"{path}:2: path: cannot reach the object store" in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.slow
def test_delta_table_reads_its_current_version(cli, world: dict, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    from deltalake import DeltaTable, write_deltalake

    events = ds.dataset(world["folder"], format="parquet", partitioning="hive").to_table()
    events = events.set_column(
        events.schema.get_field_index("month"), "month", pc.cast(events["month"], pa.string())
    )
    target = banso_home / "lake" / "events"
    # version 0: December written twice over (every event of the month counted twice) ...
    december = events.filter(pc.equal(events["month"], "2025-12"))
    write_deltalake(str(target), pa.concat_tables([events, december]), partition_by=["month"])
    # ... version 1: the month's partition overwritten with its events once
    write_deltalake(str(target), december, mode="overwrite", predicate="month = '2025-12'")
    table = DeltaTable(str(target))
    assert table.version() == 1 and table.count() == world["rows"] == events.num_rows
    stray = sum(pq.read_metadata(f).num_rows for f in target.rglob("*.parquet"))
    assert stray == world["rows"] + 2 * december.num_rows > world["rows"]

    _configure(banso_home, f"source: delta\npath: {target}\n")
    assert _state(world["state"]["busiest"]) == world["state"]
    assert _counts(cli) == world["counts"]

    _configure(banso_home, f"source: delta\npath: {banso_home / 'lake' / 'none'}\n")
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert ": path: no Delta table at " in result.stderr


@pytest.mark.slow
def test_iceberg_table_reads_its_current_snapshot(cli, world: dict, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    from pyiceberg.catalog import load_catalog
    from pyiceberg.expressions import EqualTo

    events = ds.dataset(world["folder"], format="parquet", partitioning="hive").to_table()
    events = events.set_column(
        events.schema.get_field_index("month"), "month", pc.cast(events["month"], pa.string())
    )
    lake = banso_home / "lake"
    lake.mkdir()
    catalog = {"type": "sql", "uri": f"sqlite:///{lake}/catalog.db",
               "warehouse": f"file://{lake}/warehouse"}  # fmt: skip
    made = load_catalog("product_lake", **catalog)
    made.create_namespace("product")
    table = made.create_table("product.events", schema=events.schema)
    # the first snapshot holds December twice; the second replaces the month with it once
    december = events.filter(pc.equal(events["month"], "2025-12"))
    table.append(pa.concat_tables([events, december]))
    table.overwrite(december, overwrite_filter=EqualTo("month", "2025-12"))
    assert made.load_table("product.events").scan().to_arrow().num_rows == world["rows"]
    stray = sum(pq.read_metadata(f).num_rows for f in (lake / "warehouse").rglob("*.parquet"))
    assert stray > world["rows"]

    _configure(
        banso_home,
        "source: iceberg\ntable: product.events\ncatalog:\n  name: product_lake\n"
        + "".join(f"  {k}: {v}\n" for k, v in catalog.items()),
    )
    assert _state(world["state"]["busiest"]) == world["state"]
    assert _counts(cli) == world["counts"]

    _configure(
        banso_home,
        "source: iceberg\ntable: product.nothing\ncatalog:\n  name: product_lake\n"
        + "".join(f"  {k}: {v}\n" for k, v in catalog.items()),
    )
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert ":2: table: no Iceberg table product.nothing" in result.stderr


@pytest.fixture
def events_db() -> Iterator[str]:
    """A database of its own on the test PostgreSQL server for the company's events."""
    import os

    admin = os.environ.get("BANSO_TEST_PG_URL")
    if not admin:
        pytest.fail("BANSO_TEST_PG_URL is not set: run the suite with ./scripts/test")
    name = f"banso_events_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_table_equals_the_local_folder(
    cli,  # type: ignore[no-untyped-def]
    world: dict,
    banso_home: Path,
    events_db: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = ds.dataset(world["folder"], format="parquet", partitioning="hive").to_table()
    plain = events_db.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        conn.execute("CREATE SCHEMA analytics")
        conn.execute(
            "CREATE TABLE analytics.events (id text, tenant text, uid text, action text, "
            "occurred_local timestamp, occurred_at timestamptz, props text)"
        )
        with conn.cursor().copy(
            "COPY analytics.events (id, tenant, uid, action, occurred_local, props) FROM STDIN"
        ) as copy:
            for row in events.select(
                ["id", "tenant", "uid", "action", "occurred_local", "props"]
            ).to_pylist():
                copy.write_row(tuple(row.values()))
        # the same instants as aware times
        conn.execute(
            "UPDATE analytics.events SET occurred_at = occurred_local AT TIME ZONE 'Asia/Kolkata'"
        )
    path = banso_home / "config" / "events.yaml"
    head = "source: postgres\nurl_env: EVENTS_PG_URL\ntable: analytics.events\n"
    _configure(banso_home, head)
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert f"{path}:2: url_env: environment variable EVENTS_PG_URL is not set" in result.stderr

    monkeypatch.setenv("EVENTS_PG_URL", events_db)
    assert _state(world["state"]["busiest"]) == world["state"]
    counts = _counts(cli)
    assert counts == world["counts"]

    # a query instead of a table, with aware times: the same events
    _configure(
        banso_home,
        "source: postgres\nurl_env: EVENTS_PG_URL\n"
        "query: SELECT id, tenant, uid, action, occurred_at AS occurred_local, props "
        "FROM analytics.events\n",
    )
    assert _state(world["state"]["busiest"])["features"] == world["state"]["features"]

    _configure(banso_home, head.replace("analytics.events", "analytics.nothing"))
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert f"{path}:3: table: cannot read analytics.nothing in PostgreSQL" in result.stderr

    monkeypatch.setenv("EVENTS_PG_URL", "postgresql://postgres@127.0.0.1:1/none")
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert f"{path}:2: url_env: cannot connect to PostgreSQL (EVENTS_PG_URL)" in result.stderr


def test_kind_options_are_checked(cli, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    path = config / "events.yaml"
    cases = {
        "source: postgres\ntable: t\n": "source postgres needs url_env, columns",
        "source: postgres\nurl_env: U\n" + MAPPING: "source postgres needs one of table or query",
        "source: delta\n" + MAPPING: "source delta needs path",
        "source: parquet\npath: /x\ns3: {endpoint: http://h:1}\n" + MAPPING:
            "s3 options are for a path that begins with s3://",
        "source: parquet\npath: s3://b/p\ns3: {access_key_env: K}\n" + MAPPING:
            "give both access_key_env and secret_key_env, or neither",
        "source: parquet\npath: s3://b/p\ns3: {endpoint: minio:9000}\n" + MAPPING:
            "endpoint must be an http:// or https:// URL",
    }  # fmt: skip
    for text_, reason in cases.items():
        path.write_text(text_, encoding="utf-8")
        result = cli("events", "check-config")
        assert result.exit_code == 2, text_
        assert reason in result.stderr, (text_, result.stderr)
    path.write_text("source: postgres\nurl_env: U\ntable: t\n" + MAPPING, encoding="utf-8")
    source = sources.external_source()
    assert source is not None and source.kind == "postgres" and source.pattern == "t"


def test_problems_in_japanese(cli, banso_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    path = config / "events.yaml"
    monkeypatch.setenv("BANSO_LANG", "ja")
    monkeypatch.delenv("EVENTS_PG_URL", raising=False)
    path.write_text("source: postgres\nurl_env: EVENTS_PG_URL\ntable: t\n" + MAPPING, "utf-8")
    result = cli("events", "check-config")
    assert result.exit_code == 2
    assert f"{path}:2: url_env: 環境変数 EVENTS_PG_URL が設定されていません" in result.stderr
    path.write_text("source: postgres\nurl_env: U\n" + MAPPING, "utf-8")
    result = cli("events", "check-config")
    assert "source postgres には table か query のどちらか一方が必要です" in result.stderr


@pytest.mark.postgres
def test_postgres_values_come_back_exactly(
    banso_home: Path, events_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text that CSV must quote (commas, quotes, new lines, Japanese), NULL apart from the empty
    string, microseconds, aware and naive times, and a window whose rows are none."""
    plain = events_db.replace("postgresql+psycopg://", "postgresql://")
    rows = [
        (1, "u,1", 'say "hi"', datetime(2025, 3, 1, 9, 30, 0, 123456), "line\nbreak, 日本"),
        (2, "", "login", datetime(2025, 3, 2, 23, 59, 59, 999999), None),
        (3, None, "x", datetime(2025, 3, 3), ""),
    ]
    with psycopg.connect(plain) as conn:
        conn.execute(
            "CREATE TABLE ev (acct bigint, uid text, what text, at timestamp, props jsonb, "
            "at_tz timestamptz)"
        )
        for acct, uid, what, at, props in rows:
            conn.execute(
                "INSERT INTO ev VALUES (%s, %s, %s, %s, %s, %s AT TIME ZONE 'Asia/Tokyo')",
                (acct, uid, what, at, None if props is None else json.dumps(props), at),
            )
    monkeypatch.setenv("EVENTS_PG_URL", events_db)
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    for column, zone in (("at", "Asia/Tokyo"), ("at_tz", "UTC")):
        (config / "events.yaml").write_text(
            "source: postgres\nurl_env: EVENTS_PG_URL\ntable: ev\ncolumns: {account: acct, "
            f"user: uid, event: what, timestamp: {column}, timezone: {zone}, "
            "properties: props}\n",
            encoding="utf-8",
        )
        source = sources.external_source()
        assert source is not None
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        start = datetime(2025, 3, 1, tzinfo=UTC) - timedelta(hours=9)
        sql = sources.source_sql(con, source, start, start + timedelta(days=3))
        got = con.execute(
            f"SELECT account_id, user_id, event, ts, properties FROM {sql} ORDER BY account_id"
        ).fetchall()
        assert got == [
            (acct, uid, what, at.replace(tzinfo=ZoneInfo("Asia/Tokyo")).astimezone(UTC),
             None if props is None else json.dumps(props, ensure_ascii=False))
            for acct, uid, what, at, props in rows
        ], column  # fmt: skip
        none = sources.source_sql(con, source, datetime(2030, 1, 1, tzinfo=UTC),
                                  datetime(2030, 1, 2, tzinfo=UTC))  # fmt: skip
        assert con.execute(f"SELECT count(*) FROM {none}").fetchall() == [(0,)]
        con.close()
