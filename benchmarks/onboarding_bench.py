"""Benchmark: the daily run's onboarding and lifecycle steps at 100,000 accounts.

Usage (from the repository root)::

    .venv/bin/python benchmarks/onboarding_bench.py [--accounts N] [--home DIR]

(defaults: 100,000 accounts in ``benchmarks/data/onb100k``)

Builds a synthetic world in a fresh SQLite data directory (deterministic, seed 16): the accounts
(10 % enterprise, 40 % mid, 50 % SMB, 50 CSMs), one contract line each with first starts spread
over three years (a quarter billed yearly, a fifth ended: churned), about 18 % new customers in
the last 180 days with 3–40 product events each (``dashboard.create`` by up to six users,
``integration.sync``, ``workflow.run``) and kick-off / onboarding-session activities, and 3 %
with an open expansion opportunity. Then times, in one process, what ``banso run`` does for
the day: ``onboarding.service.evaluate`` (enrol the new customers, complete milestones by rule)
and ``lifecycle.service.evaluate`` (every account's stage, history written), on a first day
(everyone enrolled and staged) and on the next day (the steady state), each in its own
transaction as in the run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--home", type=Path, default=Path("benchmarks/data/onb100k"))
    args = parser.parse_args()
    shutil.rmtree(args.home, ignore_errors=True)
    os.environ["BANSO_HOME"] = str(args.home.resolve())
    os.environ["BANSO_TODAY"] = "2026-11-30"

    import pyarrow as pa

    from banso import schema
    from banso.bulk import bulk_insert
    from banso.db import session_scope
    from banso.lifecycle import service as lifecycle
    from banso.onboarding import service as onboarding
    from banso.usage.store import EVENT_SCHEMA, append_events

    day = date(2026, 11, 29)
    rng = random.Random(16)
    started = time.perf_counter()
    schema.upgrade()
    now = datetime.now(UTC)
    accounts, lines, events, activities, opportunities = [], [], [], [], []
    new = 0
    for i in range(1, args.accounts + 1):
        draw = rng.random()
        segment = "enterprise" if draw < 0.1 else "mid" if draw < 0.5 else "smb"
        accounts.append(
            {
                "id": i,
                "name": f"Bench {i}",
                "normalized_name": f"bench {i}",
                "segment": segment,
                "owner_id": 1 + i % 50,
                "search_key": f"bench {i}",
                "created_at": now,
                "updated_at": now,
            }
        )
        recent = rng.random() < 0.18
        start = day - timedelta(days=rng.randint(0, 179) if recent else rng.randint(180, 1095))
        ended = (
            None if recent or rng.random() > 0.2 else start + timedelta(days=rng.randint(60, 170))
        )
        yearly = rng.random() < 0.25
        lines.append(
            {
                "account_id": i,
                "source": "bench",
                "external_id": f"s{i}",
                "plan": "p",
                "start_date": start,
                "end_date": ended,
                "amount": 120_000 if yearly else 10_000,
                "currency": "JPY",
                "billing_period_months": 12 if yearly else 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        if rng.random() < 0.03:
            opportunities.append(
                {
                    "account_id": i,
                    "kind": "upsell",
                    "expected_mrr": 5000,
                    "stage": "qualified",
                    "source": "manual",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        if not recent:
            continue
        new += 1
        for n in range(rng.randint(3, 40)):
            when = start + timedelta(days=rng.randint(0, (day - start).days))
            name = rng.choice(
                ("dashboard.create", "dashboard.create", "integration.sync", "workflow.run")
            )
            ts = datetime(when.year, when.month, when.day, rng.randint(0, 23), tzinfo=UTC)
            events.append(
                {
                    "event_id": f"e{i}-{n}",
                    "account_id": i,
                    "user_id": f"u{rng.randint(1, 6)}",
                    "event": name,
                    "ts": ts,
                    "properties": None,
                }
            )
        for n, kind in enumerate(("meeting", "onboarding_session")):
            when = datetime.combine(
                start + timedelta(days=rng.randint(0, 30)), datetime.min.time(), UTC
            ) + timedelta(hours=2)
            activities.append(
                {
                    "account_id": i,
                    "member_id": 1 + i % 50,
                    "source": "bench",
                    "external_id": f"a{i}-{n}",
                    "kind": kind,
                    "occurred_at": when,
                    "summary": "bench",
                    "created_at": when,
                }
            )
    from banso.models import Account, Activity, Opportunity, Subscription, TeamMember

    with session_scope() as s:
        bulk_insert(
            s,
            TeamMember.__table__,
            [
                {"id": m, "name": f"CSM {m}", "email": f"csm{m}@bench.example", "created_at": now}
                for m in range(1, 51)
            ],
        )
        bulk_insert(s, Account.__table__, accounts)
        bulk_insert(s, Subscription.__table__, lines)
        bulk_insert(s, Activity.__table__, activities)
        bulk_insert(s, Opportunity.__table__, opportunities)
    append_events(pa.Table.from_pylist(events, schema=EVENT_SCHEMA))
    print(
        f"world: {args.accounts:,} accounts, {new:,} new customers, {len(events):,} events, "
        f"{len(activities):,} activities, built in {time.perf_counter() - started:.1f} s"
    )

    for label, when in (("first day", day), ("next day", day + timedelta(days=1))):
        t0 = time.perf_counter()
        with session_scope() as s:
            run = onboarding.evaluate(s, when)
        t1 = time.perf_counter()
        with session_scope() as s:
            staged = lifecycle.evaluate(s, when)
        t2 = time.perf_counter()
        print(
            f"{label} {when}: onboarding {t1 - t0:.2f} s (enrolled {run.enrolled:,}, "
            f"completed {run.completed:,}); lifecycle {t2 - t1:.2f} s (changed "
            f"{staged.changed:,}: {staged.assigned}); both {t2 - t0:.2f} s"
        )


if __name__ == "__main__":
    main()
