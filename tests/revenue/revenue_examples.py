"""The spec's worked examples: loading them into the app database and comparing outputs."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from banso import schema
from banso.accounts.models import Account, AccountIdentity
from banso.db import session_scope
from banso.revenue.metrics import KPI_KINDS, MONEY, RATE
from banso.revenue.models import Subscription

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "metrics" / "examples"

EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "subscriptions.csv").exists())


def read_example_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def insert_subscriptions(
    rows: Iterable[dict[str, str]], source: str = "import", url: str | None = None
) -> None:
    """Insert spec-format rows (account_id, subscription_id, plan, dates, amount, currency,
    billing_period_months) as accounts, identities and subscriptions, one account per id."""
    with session_scope(url) as session:
        accounts = {
            ident.external_id: ident.account_id
            for ident in session.query(AccountIdentity).filter_by(source=source)
        }
        for row in rows:
            account_id = accounts.get(row["account_id"])
            if account_id is None:
                account = Account(name=row["account_id"], normalized_name=row["account_id"])
                session.add(account)
                session.flush()
                session.add(
                    AccountIdentity(
                        account_id=account.id, source=source, external_id=row["account_id"]
                    )
                )
                accounts[row["account_id"]] = account_id = account.id
            session.add(
                Subscription(
                    account_id=account_id,
                    source=source,
                    external_id=row["subscription_id"],
                    plan=row["plan"] or None,
                    start_date=date.fromisoformat(row["start_date"]),
                    end_date=date.fromisoformat(row["end_date"]) if row["end_date"] else None,
                    amount=int(row["amount"]),
                    currency=row["currency"],
                    billing_period_months=int(row["billing_period_months"]),
                )
            )


def load_example(name: str, source: str = "import") -> None:
    """Initialise the app database (the current BANSO_DATABASE_URL) and load one example."""
    schema.upgrade()
    insert_subscriptions(read_example_rows(EXAMPLES / name / "subscriptions.csv"), source)


def expected(name: str, kind: str) -> list[dict[str, object]]:
    """An example's expected output, ``kind`` revenue or cohorts."""
    return json.loads((EXAMPLES / name / f"expected_{kind}.json").read_text(encoding="utf-8"))


def assert_matches(actual: list[dict[str, object]], wanted: list[dict[str, object]]) -> None:
    """The spec's check: money within 0.01, rates within 1e-6, the rest equal, same nulls."""
    assert len(actual) == len(wanted)
    for got, want in zip(actual, wanted, strict=True):
        assert list(got) == list(want), (got, want)
        for key, value in want.items():
            have = got[key]
            where = f"{want.get('month', want.get('cohort'))} {key}: got {have}, want {value}"
            kind = KPI_KINDS[key]
            if value is None or kind not in (MONEY, RATE):
                assert have == value, where
            else:
                tolerance = 0.01 if kind == MONEY else 1e-6
                assert have is not None and abs(float(have) - float(value)) <= tolerance, where
