"""Health from Banso's event store against the same events read in place from an external
Parquet folder (``events.yaml``, docs/events-sources.md), side by side.

Given a data directory whose store holds the events (a demo world), exports them once the way a
company might keep them: hive folders by local month, the CRM's account ids (``crm`` identities)
and naive local times in Asia/Kolkata, under other column names (DuckDB ``COPY``, no Banso
code). Then scores ``--day`` (and computes its usage features) alternately from the store and
from the export, ``--rounds`` times each, and checks the snapshots and the features are equal
row for row. The external run uses a config folder of its own (a copy of the home's ``config``
plus ``events.yaml``), so the data directory keeps reading its store afterwards; its health
snapshots of ``--day`` are rewritten (with the same values).

    BANSO_HOME=/path/to/world .venv/bin/python benchmarks/external_events_bench.py \\
        --day 2026-10-31 [--rounds 2] [--external /tmp/external-events] \\
        [--kind parquet|s3|delta|iceberg|postgres] [--pg-url postgresql://...]

``--kind`` puts the export somewhere else before reading it in place: ``s3`` uploads it to
moto's S3-compatible server started on a loopback port (a dev dependency), ``delta`` and
``iceberg`` write it as a Delta table / an Iceberg table in a SQLite catalog beside the export,
``postgres`` copies it into a table ``banso_bench_events`` of the database at ``--pg-url``
(replaced). Those copies are not timed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from banso import config  # noqa: E402
from banso.accounts.models import AccountIdentity  # noqa: E402
from banso.db import session_scope  # noqa: E402
from banso.health import service, snapshots  # noqa: E402
from banso.usage import store  # noqa: E402
from banso.usage.service import compute_features  # noqa: E402

EVENTS_YAML = """\
source: parquet
path: {path}
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


def export(target: Path) -> tuple[int, float]:
    """The store's events into ``target``; returns (rows, seconds)."""
    started = time.perf_counter()
    with session_scope() as s:
        crm = s.execute(
            select(AccountIdentity.account_id, AccountIdentity.external_id).where(
                AccountIdentity.source == "crm"
            )
        ).all()
    shutil.rmtree(target, ignore_errors=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register(
        "crm",
        pa.table({"account_id": pa.array([a for a, _ in crm], pa.int64()),
                  "tenant": pa.array([e for _, e in crm], pa.string())}),
    )  # fmt: skip
    files = [str(f) for f in store.event_files()]
    con.execute(
        f"""
        COPY (
            SELECT e.event_id AS id, c.tenant, e.user_id AS uid, e.event AS action,
                   CAST(timezone('Asia/Kolkata', e.ts) AS TIMESTAMP) AS occurred_local,
                   e.properties AS props,
                   strftime(timezone('Asia/Kolkata', e.ts), '%Y-%m') AS month
            FROM read_parquet($files) e JOIN crm c USING (account_id)
            ORDER BY month, occurred_local
        ) TO '{target}' (FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd)
        """,
        {"files": files},
    )
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{target}/**/*.parquet')").fetchall()[0][
        0
    ]
    con.close()
    return rows, time.perf_counter() - started


MAPPING = EVENTS_YAML[EVENTS_YAML.index("columns:") :]


def place(kind: str, external: Path, pg_url: str | None, stack: contextlib.ExitStack) -> str:
    """The export put where ``kind`` reads it; returns the events.yaml lines before
    ``columns:``."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    if kind == "parquet":
        return EVENTS_YAML[: EVENTS_YAML.index("columns:")].format(path=external)
    events = ds.dataset(external, format="parquet", partitioning="hive").to_table()
    events = events.set_column(
        events.schema.get_field_index("month"), "month", pc.cast(events["month"], pa.string())
    )
    if kind == "s3":
        from moto.server import ThreadedMotoServer
        from pyarrow import fs

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        stack.callback(server.stop)
        host, port = server.get_host_and_port()
        os.environ["BENCH_S3_KEY"], os.environ["BENCH_S3_SECRET"] = "bench", "bench-secret"
        remote = fs.S3FileSystem(endpoint_override=f"{host}:{port}", scheme="http",
                                 region="us-east-1", access_key="bench",
                                 secret_key="bench-secret", allow_bucket_creation=True)  # fmt: skip
        remote.create_dir("bench")
        fs.copy_files(str(external), "bench/events", destination_filesystem=remote)
        return (
            "source: parquet\npath: s3://bench/events/\nhive_partitioning: true\n"
            f"s3: {{endpoint: 'http://{host}:{port}', region: us-east-1, "
            "access_key_env: BENCH_S3_KEY, secret_key_env: BENCH_S3_SECRET}\n"
        )
    if kind == "delta":
        from deltalake import write_deltalake

        target = external.parent / f"{external.name}-delta"
        shutil.rmtree(target, ignore_errors=True)
        write_deltalake(str(target), events, partition_by=["month"])
        return f"source: delta\npath: {target}\n"
    if kind == "iceberg":
        from pyiceberg.catalog import load_catalog

        target = external.parent / f"{external.name}-iceberg"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        props = {"type": "sql", "uri": f"sqlite:///{target}/catalog.db",
                 "warehouse": f"file://{target}/warehouse"}  # fmt: skip
        catalog = load_catalog("bench", **props)
        catalog.create_namespace("bench")
        catalog.create_table("bench.events", schema=events.schema).append(events)
        lines = "".join(f"  {k}: '{v}'\n" for k, v in props.items())
        return f"source: iceberg\ntable: bench.events\ncatalog:\n  name: bench\n{lines}"
    if kind == "postgres":
        import psycopg

        if not pg_url:
            sys.exit("--kind postgres needs --pg-url")
        plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain) as conn:
            conn.execute("DROP TABLE IF EXISTS banso_bench_events")
            conn.execute(
                "CREATE TABLE banso_bench_events (id text, tenant text, uid text, action text, "
                "occurred_local timestamp, props text)"
            )
            columns = ["id", "tenant", "uid", "action", "occurred_local", "props"]
            with conn.cursor().copy(
                f"COPY banso_bench_events ({', '.join(columns)}) FROM STDIN"
            ) as copy:
                for batch in events.select(columns).to_batches(50_000):
                    for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                        copy.write_row(row)
            conn.execute("CREATE INDEX ON banso_bench_events (occurred_local)")
        os.environ["BENCH_PG_URL"] = plain
        return "source: postgres\nurl_env: BENCH_PG_URL\ntable: banso_bench_events\n"
    sys.exit(f"unknown --kind {kind}")


def score(day: date) -> tuple[list[dict], list[dict], float, float]:
    started = time.perf_counter()
    with session_scope() as s:
        service.score_days(s, [day])
    scored = time.perf_counter() - started
    snaps = snapshots.read(start=day, end=day).sort_by("account_id").to_pylist()
    started = time.perf_counter()
    features = compute_features(day).sort_by("account_id").to_pylist()
    return snaps, features, scored, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--external", type=Path)
    parser.add_argument(
        "--kind", default="parquet", choices=["parquet", "s3", "delta", "iceberg", "postgres"]
    )
    parser.add_argument("--pg-url")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        run(args, stack)


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    settings = config.get_settings()
    home_config = settings.config_path
    external = args.external or settings.home.parent / f"{settings.home.name}-external-events"
    stored = sum(1 for _ in store.event_files())
    rows, seconds = export(external)
    print(f"exported {rows:,} events from {stored:,} store files in {seconds:.1f} s → {external}")
    ext_config = external.parent / f"{external.name}-config"
    shutil.rmtree(ext_config, ignore_errors=True)
    if home_config.exists():
        shutil.copytree(home_config, ext_config)
    ext_config.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    head = place(args.kind, external, args.pg_url, stack)
    print(f"placed as {args.kind} in {time.perf_counter() - started:.1f} s")
    (ext_config / "events.yaml").write_text(head + MAPPING, encoding="utf-8")

    results: dict[str, tuple[list[dict], list[dict]]] = {}
    for round_ in range(1, args.rounds + 1):
        for name, config_dir in (("store", home_config), (args.kind, ext_config)):
            config.set_overrides(config_dir=config_dir)
            snaps, features, scored, featured = score(args.day)
            print(
                f"round {round_} {name:8}: score_days {scored:6.2f} s, "
                f"compute_features {featured:6.2f} s, {len(snaps):,} snapshots, "
                f"{len(features):,} feature rows"
            )
            results[name] = (snaps, features)
    same_snaps = results["store"][0] == results[args.kind][0]
    same_features = results["store"][1] == results[args.kind][1]
    print(f"snapshots equal: {same_snaps}; features equal: {same_features}")
    if not (same_snaps and same_features):
        sys.exit(1)


if __name__ == "__main__":
    main()
