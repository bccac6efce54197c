"""`banso demo generate`: deterministic, realistic enough to demo, signals that predict churn."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select

import banso.models  # noqa: F401
from banso import config, db
from banso.db import Base, get_engine
from banso.usage.store import event_files, event_glob

DEMO_TABLES = (
    "team_members",
    "accounts",
    "account_identities",
    "subscriptions",
    "contacts",
    "tickets",
    "survey_responses",
    "activities",
    "lifecycle_intervals",
)
SMALL = ("--accounts", "60", "--months", "6", "--end", "2026-05-01")


def _generate(cli, home: Path, *args: str) -> str:  # type: ignore[no-untyped-def]
    assert cli("--home", str(home), "init").exit_code == 0
    result = cli("--home", str(home), "demo", "generate", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _fingerprint(home: Path, url: str | None = None) -> dict[str, str]:
    """A hash per table (rows in id order) and one over every event file's rows."""
    config.set_overrides(home=home)
    url = url or config.get_settings().db_url
    out = {}
    with get_engine(url).connect() as conn:
        for name in DEMO_TABLES:
            table = Base.metadata.tables[name]
            rows = conn.execute(select(table).order_by(table.c.id)).all()
            out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    events = hashlib.sha256()
    for path in event_files(home / "events"):
        events.update(path.relative_to(home).as_posix().encode())
        events.update(path.read_bytes())
    out["events"] = events.hexdigest()
    db.dispose_engines()
    config._overrides.clear()
    config.get_settings.cache_clear()
    return out


def test_same_seed_gives_identical_data_and_another_seed_does_not(cli, tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _generate(cli, first, *SMALL, "--seed", "11")
    _generate(cli, second, *SMALL, "--seed", "11")
    _generate(cli, other, *SMALL, "--seed", "12")
    a, b, c = _fingerprint(first), _fingerprint(second), _fingerprint(other)
    assert a == b
    assert event_files(first / "events")
    assert all(a[name] != c[name] for name in ("accounts", "subscriptions", "events"))


def test_refuses_to_write_over_accounts_and_replace_regenerates_the_same_world(
    cli, tmp_path: Path
) -> None:
    home = tmp_path / "h"
    _generate(cli, home, *SMALL)
    before = _fingerprint(home)
    refused = cli("--home", str(home), "demo", "generate", *SMALL)
    assert refused.exit_code == 2
    assert "already holds 60 accounts" in refused.stderr
    assert "--replace" in refused.stderr
    old_snapshot = home / "health" / "date=2020-01-01" / "scores.parquet"
    old_snapshot.parent.mkdir(parents=True)
    old_snapshot.write_bytes(b"scores of the world being replaced")
    _generate(cli, home, *SMALL, "--replace")
    assert _fingerprint(home) == before
    assert not old_snapshot.exists()


def test_default_sized_options_and_help_are_explained(cli) -> None:
    result = cli("demo", "generate", "--help")
    assert result.exit_code == 0
    for option in ("--accounts", "--months", "--seed", "--end", "--event-scale", "--replace"):
        assert option in result.stdout
    assert "2000" in result.stdout and "36" in result.stdout


def test_bad_options_are_one_sentence(cli) -> None:
    assert cli("init").exit_code == 0
    bad_end = cli("demo", "generate", "--end", "2026-13-01")
    assert bad_end.exit_code == 2
    assert "--end must be a date as YYYY-MM-DD" in bad_end.stderr
    too_many = cli("demo", "generate", "--accounts", "200000")
    assert too_many.exit_code == 2
    assert "--accounts must be between 1 and 157500" in too_many.stderr


def test_uninitialised_database_is_reported(cli) -> None:
    result = cli("demo", "generate", *SMALL)
    assert result.exit_code == 2
    assert "banso init" in result.stderr


def test_world_content_is_consistent(cli, banso_home: Path) -> None:
    out = _generate(cli, banso_home, "--accounts", "120", "--months", "12", "--end", "2026-05-01")
    assert "Accounts: 120" in out
    engine = get_engine(config.get_settings().db_url)
    with engine.connect() as conn:
        accounts = conn.exec_driver_sql(
            "SELECT id, name, normalized_name, kana, domain, segment, touch_model, owner_id,"
            " lifecycle_stage FROM accounts"
        ).all()
        identities = conn.exec_driver_sql(
            "SELECT account_id, source, external_id FROM account_identities"
        ).all()
        subs = conn.exec_driver_sql(
            "SELECT account_id, start_date, end_date, amount, billing_period_months, plan,"
            " currency FROM subscriptions"
        ).all()
        members = conn.exec_driver_sql("SELECT id, job_title, team FROM team_members").all()
        contacts = conn.exec_driver_sql("SELECT account_id, email, role FROM contacts").all()
    assert len({a.name for a in accounts}) == 120
    assert len({a.normalized_name for a in accounts}) == 120
    assert all(
        any(form in a.name for form in ("株式会社", "合同会社", "有限会社")) for a in accounts
    )
    assert all(a.kana and all("\u30a0" <= ch <= "\u30ff" for ch in a.kana) for a in accounts)
    assert {(i.source, i.external_id) for i in identities if i.account_id == 1} >= {
        ("billing", "CUS-000001")
    }
    assert {i.source for i in identities} == {"crm", "billing", "support"}
    assert {a.touch_model for a in accounts} <= {"high", "low", "tech"}
    member_ids = {m.id for m in members}
    assert len(members) >= 8 and all(a.owner_id in member_ids for a in accounts)
    assert {m.job_title for m in members} == {"trainee", "associate", "manager", "senior_manager"}
    assert all(s.currency == "JPY" and isinstance(s.amount, int) for s in subs)
    assert all(s.end_date is None or s.end_date > s.start_date for s in subs)
    assert {s.plan for s in subs} >= {"ライト", "スタンダード", "エンタープライズ"}
    assert {s.billing_period_months for s in subs} >= {1, 12}
    domains = {a.id: a.domain for a in accounts}
    assert all(c.email.endswith("@" + domains[c.account_id]) for c in contacts)
    assert {c.role for c in contacts} == {"champion", "decision_maker", "admin", "user"}
    # Events only for accounts with a core plan line active that company day (JST).
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Tokyo'")
    con.execute(
        "CREATE TABLE subs AS SELECT * FROM (VALUES (0, DATE '2000-01-01', NULL::DATE))"
        " t(account_id, start_date, end_date) LIMIT 0"
    )
    con.executemany(
        "INSERT INTO subs VALUES (?, ?, ?)",
        [(s.account_id, s.start_date, s.end_date) for s in subs if not s.plan.startswith("オプ")],
    )
    outside = con.execute(
        f"""
        WITH e AS (SELECT account_id, CAST(ts AS DATE) AS day FROM read_parquet('{event_glob()}'))
        SELECT count(*) FROM e WHERE NOT EXISTS (
            SELECT 1 FROM subs s WHERE s.account_id = e.account_id AND s.start_date <= e.day
            AND (s.end_date IS NULL OR e.day < s.end_date))
        """
    ).fetchone()
    assert outside == (0,)
    names = {
        row[0] for row in con.execute(f"SELECT DISTINCT event FROM '{event_glob()}'").fetchall()
    }
    assert names >= {"login", "report.view", "workflow.run", "api.call"}
    first, last = con.execute(
        f"SELECT min(ts)::DATE, max(ts)::DATE FROM '{event_glob()}'"
    ).fetchone()
    assert first >= date(2025, 5, 1) and last <= date(2026, 5, 1)


@pytest.mark.postgres
def test_a_small_world_on_postgresql_matches_sqlite(
    cli, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generate(cli, tmp_path / "pg", *SMALL, "--event-scale", "0")
    on_postgres = _facts(pg_url)
    with get_engine(pg_url).begin() as conn:
        members = Base.metadata.tables["team_members"]
        new_id = conn.execute(
            members.insert()
            .values(name="追加 太郎", email="taro@example.jp", created_at=datetime.now(UTC))
            .returning(members.c.id)
        ).scalar_one()
    assert new_id == on_postgres["team_members"] + 1  # the id sequence moved past the demo ids
    db.dispose_engines()
    monkeypatch.delenv("BANSO_DATABASE_URL")
    config.get_settings.cache_clear()
    sqlite_home = tmp_path / "sqlite"
    _generate(cli, sqlite_home, *SMALL, "--event-scale", "0")
    assert _facts(f"sqlite:///{sqlite_home / 'banso.db'}") == on_postgres


def _facts(url: str) -> dict[str, object]:
    """Row counts per table, and every subscription line as the KPIs see it."""
    with get_engine(url).connect() as conn:
        facts: dict[str, object] = {
            name: int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one())
            for name in DEMO_TABLES
        }
        subs = Base.metadata.tables["subscriptions"]
        columns = ("account_id", "external_id", "plan", "start_date", "end_date", "amount")
        facts["lines"] = sorted(
            tuple(row) for row in conn.execute(select(*(subs.c[c] for c in columns))).all()
        )
        facts["names"] = sorted(
            r[0] for r in conn.exec_driver_sql("SELECT name FROM accounts").all()
        )
    return facts


@pytest.mark.slow
def test_low_usage_and_low_nps_accounts_churn_far_more_in_the_next_90_days(
    cli, banso_home: Path
) -> None:
    """The hidden health shows in usage and NPS before the account leaves (seed 7)."""
    _generate(cli, banso_home, "--accounts", "300", "--months", "18", "--end", "2026-05-01")
    engine = get_engine(config.get_settings().db_url)
    with engine.connect() as conn:
        lines = conn.exec_driver_sql(
            "SELECT account_id, start_date, end_date FROM subscriptions"
            " WHERE plan NOT LIKE 'オプション%'"
        ).all()
        nps = conn.exec_driver_sql(
            "SELECT account_id, score, answered_at FROM survey_responses WHERE survey_type = 'nps'"
        ).all()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Tokyo'")
    con.execute("CREATE TABLE lines (account_id BIGINT, s DATE, e DATE)")
    con.executemany("INSERT INTO lines VALUES (?, ?, ?)", [tuple(row) for row in lines])
    con.execute("CREATE TABLE nps (account_id BIGINT, score INT, answered TIMESTAMP)")
    con.executemany("INSERT INTO nps VALUES (?, ?, ?)", [tuple(row) for row in nps])
    con.execute(
        f"""
        CREATE TABLE snapshots AS
        WITH days AS (
            SELECT account_id, CAST(ts AS DATE) AS d FROM '{event_glob()}' GROUP BY ALL),
        dates AS (
            SELECT CAST(x AS DATE) AS t
            FROM generate_series(DATE '2025-02-01', DATE '2026-01-01', INTERVAL 1 MONTH) g(x)),
        customers AS (
            SELECT DISTINCT account_id, t FROM lines, dates
            WHERE s <= t - 60 AND (e IS NULL OR e > t))
        SELECT c.account_id, c.t,
            (SELECT count(*) FROM days WHERE days.account_id = c.account_id
                AND d > c.t - 28 AND d <= c.t) AS active_days,
            (SELECT score FROM nps WHERE nps.account_id = c.account_id
                AND CAST(answered AS DATE) <= c.t ORDER BY answered DESC LIMIT 1) AS last_nps,
            NOT EXISTS (SELECT 1 FROM lines l WHERE l.account_id = c.account_id
                AND l.s <= c.t + 90 AND (l.e IS NULL OR l.e > c.t + 90)) AS churned_in_90_days
        FROM customers c
        """
    )

    def churn_by_half(signal: str) -> tuple[float, float]:
        low, high = con.execute(
            f"""SELECT avg(CAST(churned_in_90_days AS INT)) FROM (
                SELECT *, ntile(2) OVER (ORDER BY {signal}, account_id, t) AS half
                FROM snapshots WHERE {signal} IS NOT NULL) GROUP BY half ORDER BY half"""
        ).fetchall()
        return low[0], high[0]

    usage_low, usage_high = churn_by_half("active_days")
    assert usage_low >= 3 * usage_high
    nps_low, nps_high = churn_by_half("last_nps")
    assert nps_low >= 2 * nps_high
    overall = con.execute("SELECT avg(CAST(churned_in_90_days AS INT)) FROM snapshots").fetchone()
    assert 0.02 <= overall[0] <= 0.15  # churn happens, but most customers stay


def test_the_import_history_records_what_the_demo_loaded(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The Data page's import history and the audit log show the demo's data, one batch per
    kind and source system, with the rows it wrote."""
    from sqlalchemy import func

    home = tmp_path / "h"
    _generate(cli, home, *SMALL)
    config.set_overrides(home=home)
    tables = Base.metadata.tables
    with get_engine().connect() as conn:
        batches = tables["import_batches"]
        got = {
            (kind, source): (rows, inserted, name)
            for kind, source, rows, inserted, name in conn.execute(
                select(batches.c.kind, batches.c.source, batches.c.rows, batches.c.inserted,
                       batches.c.file_name)
            )
        }  # fmt: skip

        def count(table: str, source: str | None = None) -> int:
            t = tables[table]
            query = select(func.count()).select_from(t)
            if source is not None:
                query = query.where(t.c.source == source)
            return int(conn.execute(query).scalar_one())

        audit = tables["audit_log"]
        counted = {t: count(t) for t in ("team_members", "subscriptions", "tickets", "contacts",
                                         "survey_responses", "activities")}  # fmt: skip
        imports = conn.execute(
            select(func.count()).select_from(audit).where(audit.c.action == "data.import")
        ).scalar_one()
    db.dispose_engines()
    config._overrides.clear()
    name = "banso demo generate --seed 7"
    assert got[("accounts", "crm")] == (60, 60, name)
    team = counted["team_members"]
    assert got[("team", "import")] == (team, team, name)
    assert got[("subscriptions", "billing")][0] == counted["subscriptions"] > 60
    assert got[("tickets", "support")][0] == counted["tickets"]
    assert sum(r for (k, _s), (r, _i, _n) in got.items() if k == "contacts") == counted["contacts"]
    assert (
        sum(r for (k, _s), (r, _i, _n) in got.items() if k == "surveys")
        == counted["survey_responses"]
    )
    assert (
        sum(r for (k, _s), (r, _i, _n) in got.items() if k == "activities") == counted["activities"]
    )
    assert got[("events", "import")][0] > 0
    assert {k for k, _s in got} == {
        "team", "accounts", "contacts", "subscriptions", "tickets", "surveys", "activities",
        "events",
    }  # fmt: skip
    assert imports == len(got)


def test_the_demo_scripts_history_is_enough_for_the_validation_report(
    cli,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """scripts/demo scores the 181 days before the end: the first of them then has its complete
    90-day outcome, so the daily run computes the report the Health page shows."""
    home = tmp_path / "h"
    _generate(cli, home, "--accounts", "60", "--months", "8", "--end", "2026-05-01")
    scored = cli(
        "--home", str(home), "health", "score", "--from", "2025-11-01", "--to", "2026-04-30"
    )
    assert scored.exit_code == 0, scored.stderr
    run = cli("--home", str(home), "run", "--as-of", "2026-04-30", "--no-send")
    assert run.exit_code == 0, run.stderr
    assert "Health validation report recomputed" in run.stdout
