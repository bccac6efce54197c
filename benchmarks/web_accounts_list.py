"""How fast the accounts list answers at 100,000 accounts (the issue's target size).

Seeds BANSO_HOME (a fresh SQLite database, or BANSO_DATABASE_URL) with N accounts, 1.5 subscriptions
each and 10 CSMs, then times the list queries the page runs: first page, a kana search, a filter,
the MRR sort, the renewal window, and the CSV export of a filtered view.

    BANSO_HOME=/tmp/bench-web .venv/bin/python benchmarks/web_accounts_list.py --accounts 100000
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from sqlalchemy import insert

from banso import dates, schema
from banso.account_views import accounts_list as views
from banso.accounts.models import Account
from banso.db import get_engine, session_scope
from banso.revenue.models import Subscription
from banso.team.models import TeamMember

KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
KANJI = "山田川中村小林佐藤鈴木高橋伊渡辺森松本井上木清水斎藤"


def seed(n: int, rnd: random.Random) -> None:
    today = dates.today()
    with get_engine().begin() as conn:
        conn.execute(
            insert(TeamMember),
            [{"name": f"CSM {i}", "email": f"csm{i}@bench.example"} for i in range(1, 11)],
        )
        accounts = []
        for i in range(1, n + 1):
            name = "".join(rnd.choice(KANJI) for _ in range(3)) + f"商事{i}"
            accounts.append(
                {
                    "id": i,
                    "name": f"株式会社{name}",
                    "normalized_name": name,
                    "kana": "".join(rnd.choice(KANA) for _ in range(6)),
                    "domain": f"c{i}.example.jp",
                    "plan": rnd.choice(["Basic", "Pro", "Enterprise"]),
                    "segment": rnd.choice(["SMB", "Mid-market", "Enterprise"]),
                    "owner_id": rnd.randint(1, 10),
                    "lifecycle_stage": rnd.choice(["onboarding", "adoption", "renewal"]),
                }
            )
        conn.execute(insert(Account), accounts)
        subs = []
        for i in range(1, n + 1):
            for k in range(1 + (i % 2)):
                start = today - timedelta(days=rnd.randint(1, 700))
                subs.append(
                    {
                        "account_id": i,
                        "source": "bench",
                        "external_id": f"S-{i}-{k}",
                        "plan": "Pro",
                        "start_date": start,
                        "end_date": start + timedelta(days=365 * rnd.randint(1, 3)),
                        "amount": rnd.choice([120_000, 360_000, 1_200_000]),
                        "currency": "JPY",
                        "billing_period_months": 12,
                    }
                )
        conn.execute(insert(Subscription), subs)


def timed(label: str, fn) -> None:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    print(f"{label:<40} {best * 1000:8.1f} ms   ({result})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    schema.upgrade()
    t = time.perf_counter()
    seed(args.accounts, random.Random(7))
    print(f"seeded {args.accounts:,} accounts in {time.perf_counter() - t:.1f} s")
    cases = {
        "first page (name order)": views.AccountFilter(),
        "search kana やまだ-like (ヤマ)": views.AccountFilter(q="やま"),
        "search kanji 山田": views.AccountFilter(q="山田"),
        "filter owner + plan": views.AccountFilter(owner_id=3, plan="Pro"),
        "sort by MRR desc": views.AccountFilter(sort="mrr", descending=True),
        "renewal within 90 days": views.AccountFilter(renewal_days=90, sort="renewal"),
        "page 1000": views.AccountFilter(page=1000),
    }
    with session_scope() as session:
        for label, flt in cases.items():
            timed(label, lambda flt=flt: views.list_accounts(session, flt).total)
        smb = views.AccountFilter(segment="SMB")
        timed(
            "CSV export rows, segment=SMB",
            lambda: sum(1 for _ in views.iter_accounts(session, smb)),
        )


if __name__ == "__main__":
    main()
