"""The assignment proposal: who should own each customer account (docs/team.md, "Assignment").

Within each touch model, an account may go to a member whose team serves that touch model and
whose title both carries it (``book_size`` > 0) and admits the account's MRR (the band). Among
the assignments that put every account with such a member, the proposal minimises, in order:

1. the overload: Σ over members of max(0, accounts − cap), where cap = ⌈N × b / Σ b⌉ (N the
   touch model's placeable accounts, b the member title's target book size, Σ b over the touch
   model's members): bands can force it above 0, nothing else does;
2. the moves: accounts whose owner changes (a first owner for an unowned account is not a move).

Both are solved exactly, as one min-cost flow over classes of interchangeable accounts (same
current owner, same eligible members). Then MRR is evened: while a member's MRR is above
(1 + mrr_tolerance) × their share (the touch model's MRR × b / Σ b), one account is swapped each
way with the member furthest below their share when that lowers the larger excess; a swap keeps
the counts, so (1) holds, and may add moves. New and unowned accounts are dealt round-robin, in
account id order, over the members the flow gives them to.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import defaultdict
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
        eligible: dict[int, tuple[int, ...]] = {}
        placeable: list[BookAccount] = []
        for a in accounts:
            ok = tuple(m.id for m in members if config.title(m.title).admits(a.mrr))  # type: ignore[union-attr]
            if ok:
                eligible[a.id] = ok
                placeable.append(a)
            else:
                unplaced[a.id] = "no_eligible_member"
        if not placeable:
            continue
        total = sum(weights.values())
        caps = {m: math.ceil(len(placeable) * w / total) for m, w in weights.items()}
        chosen, over = _solve_counts(placeable, eligible, caps)
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
    accounts: list[BookAccount], eligible: dict[int, tuple[int, ...]], caps: dict[int, int]
) -> tuple[dict[int, int | None], int]:
    """``{account: owner}`` minimising (overload, moves), and the overload."""
    classes: dict[tuple[int | None, tuple[int, ...]], list[BookAccount]] = defaultdict(list)
    for a in accounts:
        current = a.owner_id if a.owner_id in eligible[a.id] else None
        classes[(current, eligible[a.id])].append(a)
    keys = sorted(classes, key=lambda k: (k[0] is None, k[0] or 0, k[1]))
    members = sorted(caps)
    big = len(accounts) + 1
    graph = _Flow(2 + len(keys) + len(members))
    source, sink = 0, 1
    node_of_class = {k: 2 + i for i, k in enumerate(keys)}
    node_of_member = {m: 2 + len(keys) + i for i, m in enumerate(members)}
    class_edges: dict[tuple[int, int], int] = {}
    for k in keys:
        graph.add(source, node_of_class[k], len(classes[k]), 0)
        current, ok = k
        for m in ok:
            stays = current is not None and m == current
            edge = graph.add(node_of_class[k], node_of_member[m], len(accounts), 0 if stays else 1)
            class_edges[(node_of_class[k], m)] = edge
    for m in members:
        graph.add(node_of_member[m], sink, caps[m], 0)
        graph.add(node_of_member[m], sink, len(accounts), big)
    cost = graph.min_cost_flow(source, sink)
    flows = {key: graph.flow(e) for key, e in class_edges.items()}
    owners: dict[int, int | None] = {}
    for k in keys:
        current, ok = k
        quota = {m: flows[(node_of_class[k], m)] for m in ok}
        pool = sorted(classes[k], key=lambda a: a.id)
        if current is not None:
            keep = quota.pop(current, 0)
            for a in pool[:keep]:
                owners[a.id] = current
            pool = pool[keep:]
        _deal_round_robin(pool, quota, owners)
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
    """Min-cost max-flow by successive shortest paths (Bellman-Ford: the graph is small, one
    node per class of accounts and per member)."""

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
        total = 0
        n = len(self.adj)
        while True:
            dist = [math.inf] * n
            via = [-1] * n
            dist[s] = 0
            for _round in range(n):
                changed = False
                for u in range(n):
                    if dist[u] == math.inf:
                        continue
                    for e in self.adj[u]:
                        v = self.to[e]
                        if self.cap[e] > 0 and dist[u] + self.cost[e] < dist[v]:
                            dist[v] = dist[u] + self.cost[e]
                            via[v] = e
                            changed = True
                if not changed:
                    break
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
