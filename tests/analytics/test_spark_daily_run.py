"""``banso run --engine spark`` gives what ``banso run`` (DuckDB) gives, row for row, on a demo
world: usage features, health snapshots, playbook firings and the CTAs opened."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from banso import config, db
from banso.analytics.engines import event_engine, resolve_engine
from banso.db import get_engine, session_scope
from banso.errors import BansoError
from banso.health import snapshots
from banso.playbooks.config import Playbook
from banso.playbooks.models import Cta, PlaybookFiring
from banso.playbooks.triggers import PlaybookData
from banso.usage.service import compute_features

SMALL = ("--accounts", "60", "--months", "6", "--end", "2026-05-01")
DAY = date(2026, 4, 30)
CTA_COLUMNS = ("account_id", "playbook", "reason", "type", "priority", "title", "status",
               "owner_id", "due_date", "first_triggered_on", "last_triggered_on",
               "trigger_count")  # fmt: skip


def _use(home: Path) -> None:
    db.dispose_engines()
    config._overrides.clear()
    config.set_overrides(home=home)


def _snapshots(home: Path) -> dict[str, list[dict[str, Any]]]:
    """Every scored day's snapshot, all columns, row for row."""
    return {
        p.parent.name: pq.read_table(p).to_pylist()
        for p in sorted(snapshots.snapshot_dir(home / "health").glob("date=*/scores.parquet"))
    }


def _ctas_and_firings() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with session_scope() as s:
        ctas = s.execute(
            select(*(getattr(Cta, c) for c in CTA_COLUMNS)).order_by(Cta.playbook, Cta.account_id)
        ).all()
        firings = s.execute(
            select(PlaybookFiring.playbook, PlaybookFiring.account_id, PlaybookFiring.day)
            .order_by(PlaybookFiring.playbook, PlaybookFiring.account_id)
        ).all()  # fmt: skip
    return [tuple(r) for r in ctas], [tuple(r) for r in firings]


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_the_daily_run_on_spark_equals_the_run_on_duckdb(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    duck, spark = tmp_path / "duck", tmp_path / "spark"
    assert cli("--home", str(duck), "init").exit_code == 0
    generated = cli("--home", str(duck), "demo", "generate", *SMALL)
    assert generated.exit_code == 0, generated.stderr
    shutil.copytree(duck, spark)  # the same world twice: database, event store, config

    on_duckdb = cli("--home", str(duck), "run", "--as-of", DAY.isoformat(), "--no-send")
    assert on_duckdb.exit_code == 0, on_duckdb.stderr
    on_spark = cli(
        "--home", str(spark), "run", "--as-of", DAY.isoformat(), "--no-send", "--engine", "spark"
    )
    assert on_spark.exit_code == 0, on_spark.stderr
    assert on_spark.stdout == on_duckdb.stdout  # the same summary, step by step

    # health: every scored day (D and the look-back days the playbooks compare with)
    duck_snaps, spark_snaps = _snapshots(duck), _snapshots(spark)
    assert len(duck_snaps) >= 2 and sum(len(rows) for rows in duck_snaps.values()) > 60
    assert spark_snaps == duck_snaps

    # features: Spark on one home equals DuckDB on the other
    _use(duck)
    duck_features = compute_features(DAY)
    duck_ctas, duck_firings = _ctas_and_firings()
    _use(spark)
    spark_features = compute_features(DAY, engine="spark")
    spark_ctas, spark_firings = _ctas_and_firings()
    assert duck_features.num_rows > 30
    assert spark_features.sort_by("account_id").to_pylist() == duck_features.to_pylist()

    # playbooks: the same firings and CTAs, event triggers among them
    assert duck_ctas and spark_ctas == duck_ctas
    assert spark_firings == duck_firings
    assert {p for p, *_ in duck_firings} & {"usage-inactive", "usage-drop", "tech-touch-inactive"}

    # the event triggers over two months of days, not just D (replay's case)
    days = [DAY - timedelta(days=i) for i in range(60)]
    duck_data, spark_data = PlaybookData(get_engine()), PlaybookData(get_engine(), engine="spark")
    fired = 0
    for trigger in (
        {"type": "no_activity", "days": 7},
        {"type": "no_activity", "days": 3},
        {"type": "usage_dropped", "event": "*", "percent": 50, "min_prior": 20},
        {"type": "usage_dropped", "event": "login", "percent": 30, "min_prior": 3},
    ):
        playbook = Playbook.model_validate(
            {"name": "t", "trigger": trigger,
             "actions": [{"cta": {"type": "risk", "title": {"en": "t"}}}]}
        )  # fmt: skip
        expected = duck_data.firings(playbook, days)
        assert spark_data.firings(playbook, days).to_pylist() == expected.to_pylist(), trigger
        fired += expected.num_rows
    assert fired > 20
    db.dispose_engines()
    config._overrides.clear()


def test_the_engine_comes_from_the_option_else_the_setting(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert resolve_engine(None) == "duckdb"
    assert resolve_engine("postgres") == "postgres"
    monkeypatch.setenv("BANSO_ANALYTICS_ENGINE", "spark")
    config.get_settings.cache_clear()
    assert resolve_engine(None) == "spark"
    assert resolve_engine("duckdb") == "duckdb"  # --engine wins over the setting
    # the events are Parquet files: read by Spark on spark, by DuckDB otherwise
    assert event_engine(None) == "spark"
    assert event_engine("postgres") == "duckdb"
    with pytest.raises(BansoError, match="Unknown engine sqlite; choose one of duckdb"):
        resolve_engine("sqlite")


def test_run_refuses_an_unknown_engine_before_running(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    result = cli("run", "--as-of", "2026-04-30", "--engine", "hadoop")
    assert result.exit_code == 2
    assert "Unknown engine hadoop; choose one of duckdb, postgres, spark." in result.stderr
    assert "Run for" not in result.stdout and "Traceback" not in result.stderr
