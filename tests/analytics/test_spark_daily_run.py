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
from banso.health.inputs import HealthInputs
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


def _spy_on_spark(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the Spark paths called, in order (so equal results are not DuckDB twice)."""
    calls: list[str] = []
    for cls, name in ((HealthInputs, "_usage_on_spark"), (PlaybookData, "_event_day_counts")):
        real = getattr(cls, name)

        def spy(self: Any, *args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _real(self, *args, **kw)

        monkeypatch.setattr(cls, name, spy)
    return calls


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.xdist_group("spark")
def test_the_daily_run_on_spark_equals_the_run_on_duckdb(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    on_spark_calls = _spy_on_spark(monkeypatch)
    duck, spark = tmp_path / "duck", tmp_path / "spark"
    assert cli("--home", str(duck), "init").exit_code == 0
    generated = cli("--home", str(duck), "demo", "generate", *SMALL)
    assert generated.exit_code == 0, generated.stderr
    shutil.copytree(duck, spark)  # the same world twice: database, event store, config

    on_duckdb = cli("--home", str(duck), "run", "--as-of", DAY.isoformat(), "--no-send")
    assert on_duckdb.exit_code == 0, on_duckdb.stderr
    assert on_spark_calls == []
    on_spark = cli(
        "--home", str(spark), "run", "--as-of", DAY.isoformat(), "--no-send", "--engine", "spark"
    )
    assert on_spark.exit_code == 0, on_spark.stderr
    # Spark computed the usage measures and the event triggers' counts (3 default playbooks)
    assert on_spark_calls.count("_usage_on_spark") == 1
    assert on_spark_calls.count("_event_day_counts") == 3
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


class _Builder:
    """Records how ``spark_session`` builds its session, starting nothing."""

    def __init__(self, log: list[tuple[str, str]]) -> None:
        self.log = log

    def remote(self, url: str) -> _Builder:
        self.log.append(("remote", url))
        return self

    def master(self, master: str) -> _Builder:
        self.log.append(("master", master))
        return self

    def config(self, key: str, value: str) -> _Builder:
        self.log.append((key, value))
        return self

    def appName(self, name: str) -> _Builder:  # noqa: N802 (PySpark's name)
        return self

    def getOrCreate(self) -> Any:  # noqa: N802
        from types import SimpleNamespace

        return SimpleNamespace(sparkContext=SimpleNamespace(setLogLevel=lambda level: None))


@pytest.mark.parametrize(
    ("env", "expected", "absent"),
    [
        ({}, ("master", "local[2]"), "remote"),
        ({"BANSO_SPARK_MASTER": "spark://m:7077"}, ("master", "spark://m:7077"), "remote"),
        ({"SPARK_REMOTE": "sc://spark:15002"}, ("remote", "sc://spark:15002"), "master"),
        ({"PYSPARK_GATEWAY_PORT": "40001"}, ("spark.sql.session.timeZone", "UTC"), "master"),
    ],
)
def test_the_spark_session_is_local_submitted_or_connect(
    monkeypatch, env, expected, absent
) -> None:  # type: ignore[no-untyped-def]
    pyspark_sql = pytest.importorskip("pyspark.sql")
    from banso.analytics import engines

    log: list[tuple[str, str]] = []
    monkeypatch.setattr(pyspark_sql.SparkSession, "builder", _Builder(log))
    monkeypatch.setattr(engines, "_spark_session", None)  # the real one comes back after
    for var in ("SPARK_REMOTE", "PYSPARK_GATEWAY_PORT"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    config.get_settings.cache_clear()
    engines.spark_session()
    assert expected in log
    assert ("spark.sql.session.timeZone", "UTC") in log  # every session computes in UTC
    assert absent not in {kind for kind, _v in log}


def test_a_spark_failure_is_one_sentence_and_other_errors_pass_through() -> None:
    from banso.analytics.engines import spark_errors

    class AnalysisException(Exception):  # as PySpark's, without starting Spark
        __module__ = "pyspark.errors.exceptions.captured"

    with pytest.raises(BansoError) as caught, spark_errors():
        raise AnalysisException("[PATH_NOT_FOUND] Path does not exist: /x.\nJVM stacktrace: …")
    assert str(caught.value) == (
        "The Spark engine failed: [PATH_NOT_FOUND] Path does not exist: /x. Check the Spark "
        "settings (docs/spark.md) or run without --engine spark."
    )
    with pytest.raises(ZeroDivisionError), spark_errors():
        _ = 1 // 0


def test_the_setting_chooses_spark_for_a_report_given_no_engine(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``BANSO_ANALYTICS_ENGINE=spark`` reaches the revenue report without ``--engine``: with
    PySpark hidden, the report says how to install the extra (so it did try Spark)."""
    import sys

    from tests.conftest import EXAMPLES

    from banso.analytics import engines

    assert cli("init").exit_code == 0
    path = EXAMPLES / "basic_monthly" / "subscriptions.csv"
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    assert cli("metrics", "revenue", "--format", "json").exit_code == 0  # DuckDB by default
    monkeypatch.setattr(engines, "_spark_session", None)
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    monkeypatch.setenv("BANSO_ANALYTICS_ENGINE", "spark")
    result = cli("metrics", "revenue", "--format", "json")
    assert result.exit_code == 2
    assert "pip install 'banso[spark]'" in result.stderr and "Traceback" not in result.stderr
    assert cli("metrics", "revenue", "--format", "json", "--engine", "duckdb").exit_code == 0
