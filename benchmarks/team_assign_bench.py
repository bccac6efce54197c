"""Benchmark: the assignment proposal (``banso.books.assignment.propose``) on a synthetic world of
100,000 customer accounts and 220 CSMs, without a database (the proposal is pure Python over the
books; loading them is the accounts list's MRR query, timed in ``web_accounts_list.py``).

Usage (from the repository root)::

    .venv/bin/python benchmarks/team_assign_bench.py [--accounts 100000] [--seed 1]

Accounts: touch model high/low/tech 5/30/65 %, MRR drawn from seven plan prices (¥9,800 to
¥900,000), owner a random member of the team serving the touch model or none (one in n + 1).
CSMs: 60 high, 120 low, 40 tech, titles trainee/associate/associate/manager; the packaged
``default_team.yaml``. Prints the seconds with the MRR swaps (``mrr_tolerance`` 0.2) and without.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date
from fractions import Fraction

from banso.books.assignment import propose
from banso.books.config import DEFAULT_TEAM, load_team_config
from banso.books.service import BookAccount, Member, World

TEAMS = {"high": "エンタープライズ", "low": "ミッドマーケット", "tech": "SMB・デジタル"}
CSMS = {"high": 60, "low": 120, "tech": 40}
PRICES = (9_800, 29_800, 49_800, 98_000, 150_000, 400_000, 900_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    members: list[Member] = []
    for touch, team in TEAMS.items():
        for _ in range(CSMS[touch]):
            title = rng.choice(["trainee", "associate", "associate", "manager"])
            members.append(Member(len(members) + 1, f"m{len(members) + 1}", "", title, team))
    team_ids: dict[str, list[int | None]] = {}
    for m in members:
        team_ids.setdefault(m.team or "", []).append(m.id)
    accounts = []
    for i in range(args.accounts):
        touch = rng.choices(list(TEAMS), [5, 30, 65])[0]
        owner = rng.choice([*team_ids[TEAMS[touch]], None])
        accounts.append(BookAccount(i + 1, f"a{i}", touch, Fraction(rng.choice(PRICES)), owner))
    world = World(date(2026, 12, 1), members, accounts)
    config = load_team_config(DEFAULT_TEAM).model
    for label, tolerance in (("with MRR swaps", config.mrr_tolerance), ("counts only", 10)):
        started = time.perf_counter()
        proposal = propose(world, config.model_copy(update={"mrr_tolerance": tolerance}))
        print(
            f"{label}: {time.perf_counter() - started:.1f} s; moved {proposal.moved:,}, "
            f"assigned {proposal.assigned:,}, overload {proposal.overload:,}"
        )


if __name__ == "__main__":
    main()
