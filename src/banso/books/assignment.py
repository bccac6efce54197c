"""The assignment proposal: who should own each customer account (docs/team.md, "Assignment").

Within each touch model, an account may go to a member whose team serves that touch model and
whose title both carries it (``book_size`` > 0) and admits the account's MRR (the band). Among
the assignments that put every account with such a member, the proposal minimises, in order:

1. the overload: Σ over members of max(0, accounts − cap), where cap = ⌈N × b / Σ b⌉ (N the
   touch model's placeable accounts, b the member title's target book size, Σ b over the touch
   model's members): bands can force it above 0, nothing else does;
2. the moves: accounts whose owner changes (a first owner for an unowned account is not a move).

Both are solved exactly, as one min-cost flow over classes of interchangeable accounts (same
current owner, same titles whose band admits them). Then MRR is evened: while a member's MRR is
above (1 + mrr_tolerance) × their share (the touch model's MRR × b / Σ b), one account is swapped
each way with the member furthest below their share when that lowers the larger excess; a swap keeps
the counts, so (1) holds, and may add moves. New and unowned accounts are dealt round-robin, in
account id order, over the members the flow gives them to.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts import ownership
from banso.audit import service as audit
from banso.books.config import TeamConfig
from banso.books.service import BookAccount, Member, World, money
from banso.errors import BansoError
from banso.i18n import _
from banso.labels import register

REASONS = ("band", "unowned", "balance", "mrr")
"""Why an account moves: its owner may not hold it (title band, team, title without that touch
model, or no longer a member), it had no owner, the count caps, the MRR swaps."""
register("assignment_reason", {
    "band": "Owner may not hold it", "unowned": "No owner", "balance": "Balance",
    "mrr": "MRR balance",
})  # fmt: skip


@dataclass(frozen=True)
class Move:
    account_id: int
    account: str
    touch_model: str
    mrr: Fraction
    from_id: int | None
    to_id: int
    reason: str

    def as_dict(self, names: dict[int, str]) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "account": self.account,
            "touch_model": self.touch_model,
            "mrr": str(money(self.mrr)),
            "from_id": self.from_id,
            "from": names.get(self.from_id) if self.from_id is not None else None,
            "to_id": self.to_id,
            "to": names.get(self.to_id),
            "reason": self.reason,
        }


@dataclass
class Proposal:
    """The proposed owners, what changes, and what could not be placed."""

    owners: dict[int, int | None]
    changes: list[Move]
    moved: int
    """Accounts that had an owner and get another one."""
    assigned: int
    """Accounts without an owner that get one."""
    overload: int
    """Σ max(0, accounts − cap) over members: above 0 only where bands force it."""
    unplaced: dict[int, str] = field(default_factory=dict)
    """Account -> why no member may own it (``no_touch_model`` or ``no_eligible_member``)."""

    def digest(self) -> str:
        """A fingerprint of the changes, so what a manager reviewed is what gets applied."""
        text = ";".join(f"{m.account_id}:{m.from_id}:{m.to_id}" for m in self.changes)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def propose(world: World, config: TeamConfig) -> Proposal:
    """The proposal for ``world`` (members, with any what-if hires, and accounts) under
    ``config``; see the module docstring for the objective."""
    by_id = {m.id: m for m in world.members}
    owners: dict[int, int | None] = {a.id: a.owner_id for a in world.accounts}
    unplaced: dict[int, str] = {}
    overload = 0
    counted: dict[int, int | None] = {}
    per_touch: dict[str, list[BookAccount]] = defaultdict(list)
    for a in world.accounts:
        if not a.touch_model:
            unplaced[a.id] = "no_touch_model"
        else:
            per_touch[a.touch_model].append(a)
    for touch, accounts in sorted(per_touch.items()):
        members = [m for m in world.members if config.carries(m.title, m.team, touch)]
        weights = {m.id: config.title(m.title).target(touch) for m in members}  # type: ignore[union-attr]
        eligible = _eligibility(config, members, accounts)
        placeable = [a for a in accounts if eligible[a.id]]
        unplaced.update({a.id: "no_eligible_member" for a in accounts if not eligible[a.id]})
        if not placeable:
            continue
        total = sum(weights.values())
        caps = {m: math.ceil(len(placeable) * w / total) for m, w in weights.items()}
        title_of = {m.id: m.title or "" for m in members}
        chosen, over = _solve_counts(placeable, eligible, caps, title_of)
        overload += over
        counted.update(chosen)
        _even_mrr(placeable, eligible, chosen, weights, Fraction(config.mrr_tolerance))
        owners.update(chosen)
    changes = []
    for a in world.accounts:
        new = owners[a.id]
        if new is None or new == a.owner_id:
            continue
        changes.append(
            Move(
                a.id,
                a.name,
                a.touch_model or "",
                a.mrr,
                a.owner_id,
                new,
                _reason(config, by_id, a, new, counted.get(a.id)),
            )
        )
    moved = sum(1 for c in changes if c.from_id is not None)
    return Proposal(owners, changes, moved, len(changes) - moved, overload, unplaced)


def _eligibility(
    config: TeamConfig, members: list[Member], accounts: list[BookAccount]
) -> dict[int, tuple[int, ...]]:
    """Account -> the ids of ``members`` (all carrying its touch model) whose title's band
    admits its MRR; computed once per title and distinct MRR (many accounts share one)."""
    by_title: dict[str, list[int]] = defaultdict(list)
    for m in members:
        by_title[m.title or ""].append(m.id)
    bands = [(config.title(t), ids) for t, ids in sorted(by_title.items())]
    admitted: dict[Fraction, tuple[int, ...]] = {}
    out: dict[int, tuple[int, ...]] = {}
    for a in accounts:
        ok = admitted.get(a.mrr)
        if ok is None:
            ok = tuple(sorted(m for t, ids in bands if t and t.admits(a.mrr) for m in ids))
            admitted[a.mrr] = ok
        out[a.id] = ok
    return out


def apply_proposal(session: Session, proposal: Proposal) -> list[ownership.OwnerChange]:
    """Make the proposed owners the owners from today, with their history and one audit entry.
    A proposal with what-if hires cannot be applied (they are not members yet)."""
    if any(m.to_id < 0 for m in proposal.changes):
        raise BansoError(
            _("A proposal with what-if hires cannot be applied; add the members first.")
        )
    made = ownership.set_owners(
        session, {m.account_id: m.to_id for m in proposal.changes}, source="assignment"
    )
    audit.record(
        session,
        "team.assign",
        "accounts",
        moved=proposal.moved,
        assigned=proposal.assigned,
        digest=proposal.digest(),
        changes=[[c.account_id, c.before, c.after] for c in made],
    )
    return made


def eligible_members(config: TeamConfig, members: Iterable[Member], a: BookAccount) -> list[int]:
    """The members who may own ``a``: team serves its touch model, title carries it and admits
    its MRR."""
    return [
        m.id
        for m in members
        if a.touch_model
        and config.carries(m.title, m.team, a.touch_model)
        and config.title(m.title).admits(a.mrr)  # type: ignore[union-attr]
    ]


def _reason(
    config: TeamConfig, by_id: dict[int, Member], a: BookAccount, new: int, counted: int | None
) -> str:
    """Why ``a`` goes to ``new``; ``counted``: its owner after the count stage, before swaps."""
    if a.owner_id is None:
        return "unowned"
    owner = by_id.get(a.owner_id)
    if owner is None or a.owner_id not in eligible_members(config, [owner], a):
        return "band"
    return "balance" if new == counted else "mrr"


# --- the exact stage: min-cost flow over account classes ---------------------------------------


def _solve_counts(
    accounts: list[BookAccount],
    eligible: dict[int, tuple[int, ...]],
    caps: dict[int, int],
    title_of: dict[int, str],
) -> tuple[dict[int, int | None], int]:
    """``{account: owner}`` minimising (overload, moves), and the overload.

    Who may own an account is every member of the titles whose band admits its MRR, so the flow
    goes class -> its current owner (cost 0) or class -> title (cost 1) -> member of the title:
    a few thousand edges however many accounts and members there are."""
    classes: dict[tuple[int | None, tuple[str, ...]], list[BookAccount]] = defaultdict(list)
    for a in accounts:
        current = a.owner_id if a.owner_id in eligible[a.id] else None
        titles = tuple(sorted({title_of[m] for m in eligible[a.id]}))
        classes[(current, titles)].append(a)
    keys = sorted(classes, key=lambda k: (k[0] is None, k[0] or 0, k[1]))
    members = sorted(caps)
    titles = sorted({title_of[m] for m in members})
    big = len(accounts) + 1
    graph = _Flow(2 + len(keys) + len(titles) + len(members))
    source, sink = 0, 1
    node_of_class = {k: 2 + i for i, k in enumerate(keys)}
    node_of_title = {t: 2 + len(keys) + i for i, t in enumerate(titles)}
    node_of_member = {m: 2 + len(keys) + len(titles) + i for i, m in enumerate(members)}
    stay_edges: dict[tuple[int | None, tuple[str, ...]], int] = {}
    to_title: dict[tuple[tuple[int | None, tuple[str, ...]], str], int] = {}
    for k in keys:
        current, admitted = k
        graph.add(source, node_of_class[k], len(classes[k]), 0)
        if current is not None:
            stay_edges[k] = graph.add(node_of_class[k], node_of_member[current], big, 0)
        for t in admitted:
            to_title[(k, t)] = graph.add(node_of_class[k], node_of_title[t], big, 1)
    title_members: dict[str, list[int]] = defaultdict(list)
    from_title: dict[int, int] = {}
    for m in members:
        title_members[title_of[m]].append(m)
        from_title[m] = graph.add(node_of_title[title_of[m]], node_of_member[m], big, 0)
        graph.add(node_of_member[m], sink, caps[m], 0)
        graph.add(node_of_member[m], sink, big, big)
    cost = graph.min_cost_flow(source, sink)
    owners: dict[int, int | None] = {}
    sent: dict[str, list[BookAccount]] = defaultdict(list)
    for k in keys:
        current, admitted = k
        pool = sorted(classes[k], key=lambda a: a.id)
        if current is not None:
            keep = graph.flow(stay_edges[k])
            for a in pool[:keep]:
                owners[a.id] = current
            pool = pool[keep:]
        for t in admitted:
            n = graph.flow(to_title[(k, t)])
            sent[t].extend(pool[:n])
            pool = pool[n:]
    for t, pool in sent.items():
        quota = {m: graph.flow(from_title[m]) for m in title_members[t]}
        _deal_round_robin(sorted(pool, key=lambda a: a.id), quota, owners)
    return owners, cost // big


def _deal_round_robin(
    pool: list[BookAccount], quota: dict[int, int], owners: dict[int, int | None]
) -> None:
    """Deal ``pool`` (id order) one by one over the members with quota left, in turn."""
    left = {m: q for m, q in sorted(quota.items()) if q > 0}
    turn = list(left)
    i = 0
    for a in pool:
        while left[turn[i % len(turn)]] == 0:
            i += 1
        m = turn[i % len(turn)]
        owners[a.id] = m
        left[m] -= 1
        i += 1


class _Flow:
    """Min-cost max-flow by successive shortest paths; the graph is small (a node per class of
    accounts, per title and per member)."""

    def __init__(self, nodes: int) -> None:
        self.adj: list[list[int]] = [[] for _ in range(nodes)]
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []

    def add(self, u: int, v: int, cap: int, cost: int) -> int:
        for a, b, c, w in ((u, v, cap, cost), (v, u, 0, -cost)):
            self.adj[a].append(len(self.to))
            self.to.append(b)
            self.cap.append(c)
            self.cost.append(w)
        return len(self.to) - 2

    def flow(self, edge: int) -> int:
        return self.cap[edge ^ 1]

    def min_cost_flow(self, s: int, t: int) -> int:
        """Push as much as can go from ``s`` to ``t`` along cheapest paths (SPFA: Bellman-Ford
        with a queue, for the residual graph's negative edges); the total cost."""
        total = 0
        n = len(self.adj)
        while True:
            dist = [math.inf] * n
            via = [-1] * n
            queued = [False] * n
            dist[s] = 0
            queue = deque([s])
            while queue:
                u = queue.popleft()
                queued[u] = False
                for e in self.adj[u]:
                    v = self.to[e]
                    if self.cap[e] > 0 and dist[u] + self.cost[e] < dist[v]:
                        dist[v] = dist[u] + self.cost[e]
                        via[v] = e
                        if not queued[v]:
                            queued[v] = True
                            queue.append(v)
            if dist[t] == math.inf:
                return total
            push, v = math.inf, t
            while v != s:
                e = via[v]
                push = min(push, self.cap[e])
                v = self.to[e ^ 1]
            v = t
            while v != s:
                e = via[v]
                self.cap[e] -= push
                self.cap[e ^ 1] += push
                v = self.to[e ^ 1]
            total += int(push) * int(dist[t])


# --- MRR: swaps that keep the counts --------------------------------------------------------


def _even_mrr(
    accounts: list[BookAccount],
    eligible: dict[int, tuple[int, ...]],
    owners: dict[int, int | None],
    weights: dict[int, int],
    tolerance: Fraction,
) -> None:
    """Swap accounts between the member most over their MRR share and the one most under it
    while that lowers the larger excess (at most as many swaps as accounts)."""
    total_w = sum(weights.values())
    mrr_of = {a.id: a.mrr for a in accounts}
    total = sum(mrr_of.values(), Fraction(0))
    share = {m: total * w / total_w for m, w in weights.items()}
    held: dict[int, set[int]] = {m: set() for m in weights}
    for a in accounts:
        owner = owners[a.id]
        if owner is not None:
            held[owner].add(a.id)
    load = {m: sum((mrr_of[a] for a in ids), Fraction(0)) for m, ids in held.items()}
    for _swap in range(len(accounts)):
        over = max(weights, key=lambda m: (load[m] - share[m] * (1 + tolerance), -m))
        if load[over] <= share[over] * (1 + tolerance):
            return
        best: tuple[Fraction, int, int, int] | None = None
        for under in sorted(weights, key=lambda m: (load[m] - share[m], m)):
            if load[under] >= share[under]:
                break
            best = _best_swap(over, under, held, eligible, mrr_of, load, share)
            if best is not None:
                break
        if best is None or best[0] >= load[over] - share[over]:
            return
        _worst, a, b, under = best  # type: ignore[misc]
        delta = mrr_of[a] - mrr_of[b]
        held[over].remove(a)
        held[under].add(a)
        held[under].remove(b)
        held[over].add(b)
        owners[a], owners[b] = under, over
        load[over] -= delta
        load[under] += delta


def _best_swap(
    over: int,
    under: int,
    held: dict[int, set[int]],
    eligible: dict[int, tuple[int, ...]],
    mrr_of: dict[int, Fraction],
    load: dict[int, Fraction],
    share: dict[int, Fraction],
) -> tuple[Fraction, int, int, int] | None:
    """The swap of ``a`` (of ``over``) for ``b`` (of ``under``) leaving the smaller larger excess
    of the two: for each ``a``, the ``b`` whose MRR is nearest ``mrr(a) − ideal`` (bisection)."""
    gap = load[over] - load[under]
    ideal = min(load[over] - share[over], share[under] - load[under])
    givers = sorted(a for a in held[over] if under in eligible[a])
    takers = sorted((mrr_of[b], b) for b in held[under] if over in eligible[b])
    values = [v for v, _b in takers]
    best: tuple[Fraction, int, int, int] | None = None
    for a in givers:
        i = bisect.bisect_left(values, mrr_of[a] - ideal)
        for j in (i - 1, i):
            if not 0 <= j < len(takers):
                continue
            b = takers[j][1]
            delta = mrr_of[a] - mrr_of[b]
            if not 0 < delta < gap:
                continue
            worst = max(load[over] - delta - share[over], load[under] + delta - share[under])
            if best is None or (worst, a, b) < best[:3]:
                best = (worst, a, b, under)
    return best
