"""`banso health fit` on a small world whose churn follows a measure the card lacks: the raw
values come from the app tables on the sampled days, and the measure is proposed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from banso import schema
from banso.accounts.models import Account
from banso.db import session_scope
from banso.health import snapshots
from banso.revenue.models import Subscription
from banso.support.models import Ticket

FIRST = date(2024, 1, 7)
DAYS = [FIRST + timedelta(days=28 * k) for k in range(10)]
LAST = DAYS[-1] + timedelta(days=91)
ACCOUNTS = 60
CARD = (
    "name: nps-only\ngroups:\n  g:\n    measures:\n"
    "      latest_nps: {linear: [[0, 0], [10, 100]]}\n"
)


def _end(i: int) -> date | None:
    """Accounts 1-30 churn, each 60 days after one of the scored days; the others stay."""
    return DAYS[i % 8 + 1] + timedelta(days=60) if i <= 30 else None


def _customer(i: int, day: date) -> bool:
    end = _end(i)
    return end is None or day < end


def _world(home: Path) -> None:
    schema.upgrade()
    (home / "config" / "scorecards").mkdir(parents=True)
    (home / "config" / "scorecards" / "nps.yaml").write_text(CARD, encoding="utf-8")
    with session_scope() as s:
        for i in range(1, ACCOUNTS + 1):
            s.add(Account(id=i, name=f"A{i}", normalized_name=f"a{i}"))
            s.flush()
            s.add(
                Subscription(
                    account_id=i,
                    source="t",
                    external_id=f"S{i}",
                    plan="p",
                    start_date=date(2023, 1, 1),
                    end_date=_end(i),
                    amount=10000,
                    currency="JPY",
                    billing_period_months=1,
                )
            )
            # the accounts that will churn open two tickets 5 and 3 days before every scored day
            for k, day in enumerate(DAYS):
                if i <= 30 and _customer(i, day):
                    for back in (5, 3):
                        opened = datetime.combine(day - timedelta(days=back), datetime.min.time())
                        s.add(
                            Ticket(
                                account_id=i,
                                source="t",
                                external_id=f"T{i}-{k}-{back}",
                                opened_at=opened.replace(tzinfo=UTC),
                                closed_at=(opened + timedelta(hours=2)).replace(tzinfo=UTC),
                                priority="normal",
                                status="closed",
                            )
                        )
    for day in [*DAYS, LAST]:
        ids = [i for i in range(1, ACCOUNTS + 1) if _customer(i, day)]
        nps = [float((i * 7 + day.toordinal()) % 11) for i in ids]  # unrelated to churn
        snapshots.write_day(
            day,
            pa.table(
                {
                    "account_id": pa.array(ids, pa.int64()),
                    "day": pa.array([day] * len(ids), pa.date32()),
                    "scorecard": ["nps-only"] * len(ids),
                    "score": pa.array([v * 10 for v in nps]),
                    "band": ["yellow"] * len(ids),
                    "computed_score": pa.array([v * 10 for v in nps]),
                    "overridden": [False] * len(ids),
                    "override_reason": pa.array([None] * len(ids), pa.string()),
                    "mrr": pa.array([10000.0] * len(ids)),
                    "score__latest_nps": pa.array([v * 10 for v in nps]),
                }
            ),
        )


def test_fit_proposes_tickets_when_churn_follows_them(cli, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    _world(banso_home)
    result = cli("health", "fit", "--format", "json", "--propose-every-days", "28")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    found = report["proposed_measures"]
    # the ten scored days with a complete 90-day horizon, every 28 days
    assert found["days"] == 10
    assert found["rows"] == sum(_customer(i, d) for d in DAYS for i in range(1, ACCOUNTS + 1))
    proposed = [p["measure"] for p in found["proposals"]]
    assert proposed and proposed[0] in ("tickets_30d", "open_tickets")
    # fewer tickets, less churn: full marks at the low end
    assert found["proposals"][0]["linear"][0][1] == 100.0
    assert found["proposed_auc_test"] > found["base_auc_test"] + 0.1

    table = cli("health", "fit", "--propose-every-days", "28")
    assert table.exit_code == 0, table.stderr
    assert "Measures the card lacks" in table.stdout
    bad = cli("health", "fit", "--propose-every-days", "0")
    assert bad.exit_code == 2 and "at least 1" in bad.stderr
