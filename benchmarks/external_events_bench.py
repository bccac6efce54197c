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
        --day 2026-10-31 [--rounds 2] [--external /tmp/external-events]
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
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
    (ext_config / "events.yaml").write_text(EVENTS_YAML.format(path=external), encoding="utf-8")

    results: dict[str, tuple[list[dict], list[dict]]] = {}
    for round_ in range(1, args.rounds + 1):
        for name, config_dir in (("store", home_config), ("external", ext_config)):
            config.set_overrides(config_dir=config_dir)
            snaps, features, scored, featured = score(args.day)
            print(
                f"round {round_} {name:8}: score_days {scored:6.2f} s, "
                f"compute_features {featured:6.2f} s, {len(snaps):,} snapshots, "
                f"{len(features):,} feature rows"
            )
            results[name] = (snaps, features)
    same_snaps = results["store"][0] == results["external"][0]
    same_features = results["store"][1] == results["external"][1]
    print(f"snapshots equal: {same_snaps}; features equal: {same_features}")
    if not (same_snaps and same_features):
        sys.exit(1)


if __name__ == "__main__":
    main()
