"""The life of one demo customer, month by month, driven by a hidden health.

Each account has a long-run fit ``mu`` and a hidden health ``h`` (a unitless z-score-like
number; 0 is an ordinary customer, +1 a thriving one, -1.5 one in trouble) that drifts towards
``mu`` with noise and shocks (the champion leaving). Health decides what the account does next:
renew or leave, upgrade, buy or drop add-ons. Decisions are taken one to three months before they
show in billing (a notice period, or the run-up to an annual renewal), and once an account has
decided to leave its health keeps falling, so the observable signals (usage, tickets, NPS) lead
churn and expansion by weeks to months. The health itself never enters the app database.

Every draw comes from a ``random.Random`` seeded by (world seed, account index), so an account's
story does not depend on how many accounts are generated around it or in which chunk.
"""

from __future__ import annotations

import calendar
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class Plan:
    """A price-list entry: ``amount`` yen per ``period_months``; ``seats`` licensed users."""

    name: str
    amount: int
    period_months: int
    seats: int
    rank: int
    """0 ライト … 3 エンタープライズ; an upgrade moves to a higher rank."""


LIGHT = Plan("ライト", 9_800, 1, 3, 0)
STANDARD = Plan("スタンダード", 29_800, 1, 8, 1)
STANDARD_QUARTERLY = Plan("スタンダード（四半期）", 84_900, 3, 8, 1)
PRO = Plan("プロ", 49_800, 1, 15, 2)
PRO_ANNUAL = Plan("プロ（年間）", 508_000, 12, 15, 2)
ENTERPRISE = Plan("エンタープライズ", 1_200_000, 12, 40, 3)
CORE_PLANS = (LIGHT, STANDARD, STANDARD_QUARTERLY, PRO, PRO_ANNUAL, ENTERPRISE)

SEAT_ADDON = Plan("オプション: 追加ユーザー10名", 15_000, 1, 10, -1)
API_ADDON = Plan("オプション: API連携", 10_000, 1, 0, -1)
ADDONS = (SEAT_ADDON, API_ADDON)

MAX_USERS = 60
"""Cap on product users simulated per account (seats beyond it are licensed but idle)."""

YEAR_END_MONTHS = {3: 0.6, 12: 0.4}
"""Months in which Japanese companies sign term contracts at a year end, with their weights:
March, the end of most fiscal years (年度末), and December, the end of the calendar year. A
company buys a yearly subscription with the budget of the year that is closing, so the contract
starts, and by spec §5 renews every year, in that month: the renewal calendar of annual
contracts peaks in March and December."""

YEAR_END_SHARE = 0.5
"""Share of annual contracts, first ones and moves onto an annual plan from a shorter term,
that start in a year-end month (the rest start when the customer signs or its term ends)."""


@dataclass
class Line:
    """One contract line; ``end`` is the first day without service (exclusive) or None."""

    plan: Plan
    start: date
    end: date | None = None


@dataclass
class AccountStory:
    """What happened to one account over the history (plus its hidden health)."""

    index: int
    employee_count: int
    prefers_long_terms: bool
    lines: list[Line] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    """Hidden health per history month; NaN in months the account was not a customer."""
    leaving: list[bool] = field(default_factory=list)
    """Per month: the account had decided to leave (notice given, renewal refused)."""
    seats: list[int] = field(default_factory=list)
    """Licensed users per month (plan + add-ons), 0 when not a customer."""
    advanced: list[bool] = field(default_factory=list)
    """Per month: the plan or an add-on gives the advanced features (API, workflows)."""
    champion_left: list[date] = field(default_factory=list)
    champion_joined: list[date] = field(default_factory=list)
    """Dates a new champion took over after the previous one left (same order)."""
    customer_since: date | None = None


def simulate_account(seed: int, index: int, months: list[date], end: date) -> AccountStory:
    """Simulate account ``index`` over the history months ``months`` (first days) up to ``end``."""
    rng = random.Random(f"banso-demo:{seed}:story:{index}")
    employees = int(math.exp(rng.gauss(4.2, 1.3))) + 3
    story = AccountStory(
        index=index,
        employee_count=employees,
        prefers_long_terms=rng.random() < min(0.85, 0.2 + employees / 1500),
    )
    # Its own generator, so the rest of the story draws what it drew before the rule existed.
    year_end = random.Random(f"banso-demo:{seed}:year-end:{index}")
    _Simulation(rng, story, months, end, year_end).run()
    return story


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """``day`` moved by ``months`` calendar months, the day clamped to the month's end."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    wanted = anchor_day or day.day
    return date(year, month + 1, min(wanted, calendar.monthrange(year, month + 1)[1]))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def monthly_recurring(line: Line) -> float:
    """The line's MRR in yen (display only: the KPIs compute it exactly themselves)."""
    return line.plan.amount / line.plan.period_months


class _Simulation:
    """Month-by-month state machine of one account."""

    def __init__(
        self,
        rng: random.Random,
        story: AccountStory,
        months: list[date],
        end: date,
        year_end: random.Random,
    ):
        self.rng, self.story, self.months, self.end = rng, story, months, end
        self.year_end = year_end
        self.mu = rng.gauss(0.15, 0.75)
        self.h = self.mu
        self.main: Line | None = None
        self.addons: list[Line] = []
        self.leave_on: date | None = None
        self.pending_change: tuple[date, Plan] | None = None
        self.champion_gone = False
        self.ever_customer = False

    def run(self) -> None:
        rng, n = self.rng, len(self.months)
        # A third of the base were customers before the history starts; the rest sign up
        # during it, more of them in later months (the company grows).
        if rng.random() < 0.32:
            first = add_months(self.months[0], -rng.randint(1, 36), rng.randint(1, 28))
            plan = self._first_plan()
            year_end = self._year_end_month(plan)
            if year_end is not None:
                # signed in the latest such month on or before the drawn one
                first = add_months(first, -((first.month - year_end) % 12))
            self._start(first, plan)
            self.h = rng.gauss(self.mu, 0.5)
            start_month = 0
        else:
            start_month = min(n - 1, int(n * math.sqrt(rng.random()) ** 0.8))
            start_month = max(0, start_month)
        signing: tuple[int, Plan] | None = None
        for m in range(n):
            month = self.months[m]
            if m == start_month and signing is not None:
                self._sign_up(add_months(month, 0, signing[0]), signing[1])
                signing = None
            elif m == start_month and not self.ever_customer:
                day = add_months(month, 0, rng.randint(1, 28))
                plan = self._first_plan()
                year_end = self._year_end_month(plan)
                wait = 0 if year_end is None else (year_end - month.month) % 12
                if wait and m + wait < n:
                    # an annual contract waits for the year end (no draws while it waits)
                    signing = (day.day, plan)
                    start_month = m + wait
                else:
                    self._sign_up(day, plan)
            self._month(m, month)
        if self.leave_on is not None and self.main is not None:
            # Notice already given: the billing system knows the (future) last day.
            for line in (self.main, *self.addons):
                self._close(line, self.leave_on)

    def _sign_up(self, day: date, plan: Plan) -> None:
        self._start(min(day, self.end), plan)
        self.h = self.rng.gauss(self.mu - 0.2, 0.6)  # onboarding is a wobbly time

    # --- one month -------------------------------------------------------------------------

    def _month(self, m: int, month: date) -> None:
        rng, story = self.rng, self.story
        next_month = add_months(month, 1, 1)
        was_customer = self.main is not None
        seats_before, advanced_before = self._entitlements()
        self._apply_due(month, next_month)
        if self.main is None:
            self._maybe_reactivate(month)
        if self.main is None:
            if was_customer:
                # Service ran for part of the month: the usage of those days follows this.
                self.h += 0.25 * (self.mu - self.h) - 0.45
                story.health.append(self.h)
                story.leaving.append(True)
                story.seats.append(seats_before)
                story.advanced.append(advanced_before)
            else:
                story.health.append(float("nan"))
                story.leaving.append(False)
                story.seats.append(0)
                story.advanced.append(False)
            return
        # Health drifts towards the account's fit; a leaving account keeps losing interest.
        self.h += 0.25 * (self.mu - self.h) + rng.gauss(0.0, 0.32)
        if self.leave_on is not None:
            self.h -= 0.45
        self._champion(month)
        if self.leave_on is None and self.pending_change is None:
            self._decide(month)
        seats, advanced = self._entitlements()
        story.health.append(self.h)
        story.leaving.append(self.leave_on is not None)
        story.seats.append(seats)
        story.advanced.append(advanced)

    def _entitlements(self) -> tuple[int, bool]:
        """Licensed users and access to advanced features under the current lines."""
        if self.main is None:
            return 0, False
        seats = self.main.plan.seats + sum(a.plan.seats for a in self.addons)
        advanced = self.main.plan.rank >= 2 or any(a.plan is API_ADDON for a in self.addons)
        return seats, advanced

    def _apply_due(self, month: date, next_month: date) -> None:
        """Execute decisions whose date falls in this month."""
        if self.leave_on is not None and self.leave_on < next_month:
            assert self.main is not None
            self._close(self.main, self.leave_on)
            for addon in self.addons:
                self._close(addon, self.leave_on)
            self.main, self.addons, self.leave_on = None, [], None
            self.pending_change = None
        if self.pending_change is not None and self.pending_change[0] < next_month:
            day, plan = self.pending_change
            assert self.main is not None
            self._close(self.main, day)
            self.main = self._open(plan, day)
            self.pending_change = None

    def _decide(self, month: date) -> None:
        """Churn, plan changes and add-ons, decided now and effective at a renewal date."""
        rng, main = self.rng, self.main
        assert main is not None
        period = main.plan.period_months
        renewal = self._next_renewal(main, add_months(month, 1, 1))
        months_to_renewal = _months_between(month, renewal)
        if period == 1:
            if rng.random() < sigmoid(-4.3 - 1.7 * self.h):
                self.leave_on = self._next_renewal(main, add_months(month, rng.randint(1, 2), 1))
                return
            if rng.random() < sigmoid(-4.0 + 1.5 * self.h):
                self._plan_change(+1, self._next_renewal(main, add_months(month, 1, 1)))
            elif rng.random() < sigmoid(-4.4 - 1.3 * self.h):
                self._plan_change(-1, self._next_renewal(main, add_months(month, 1, 1)))
        elif months_to_renewal == (3 if period >= 12 else 1):
            # The renewal conversation: the customer decides on the last quarter's health.
            if rng.random() < sigmoid(-2.6 - 1.9 * self.h):
                self.leave_on = renewal
                return
            if rng.random() < sigmoid(-2.4 + 1.5 * self.h):
                self._plan_change(+1, renewal)
            elif rng.random() < sigmoid(-3.2 - 1.5 * self.h):
                self._plan_change(-1, renewal)
        self._addons(month)

    def _addons(self, month: date) -> None:
        rng = self.rng
        day = add_months(month, 0, rng.randint(1, 28))
        if day > self.end:
            return
        owned = {a.plan for a in self.addons}
        assert self.main is not None
        if self.main.plan.rank >= 1 and rng.random() < sigmoid(-3.3 + 1.4 * self.h):
            choices = [p for p in ADDONS if p not in owned or p is SEAT_ADDON]
            plan = choices[rng.randrange(len(choices))]
            if len([a for a in self.addons if a.plan is plan]) < 3:
                self.addons.append(self._open(plan, day))
        if self.addons and rng.random() < sigmoid(-3.9 - 1.4 * self.h):
            addon = self.addons.pop(rng.randrange(len(self.addons)))
            self._close(addon, self._next_renewal(addon, add_months(month, 1, 1)))

    def _plan_change(self, direction: int, on: date) -> None:
        assert self.main is not None
        rank = self.main.plan.rank + direction
        if not 0 <= rank <= 3:
            return
        plan = self._plan_of_rank(rank)
        if plan.period_months >= 12 > self.main.plan.period_months:
            # onto an annual contract: it too may wait for a renewal date at a year end
            year_end = self._year_end_month(plan)
            if year_end is not None:
                on = self._renewal_in(self.main, on, year_end)
        if on > self.end:
            return
        self.pending_change = (on, plan)

    def _champion(self, month: date) -> None:
        rng, story = self.rng, self.story
        day = add_months(month, 0, rng.randint(1, 28))
        if day > self.end:
            return
        if not self.champion_gone and rng.random() < 0.018:
            self.champion_gone = True
            story.champion_left.append(day)
            self.h -= 0.8
            self.mu -= 0.4
        elif self.champion_gone and rng.random() < 0.3:
            self.champion_gone = False
            story.champion_joined.append(day)
            self.mu += 0.4

    def _maybe_reactivate(self, month: date) -> None:
        rng = self.rng
        if not self.ever_customer or rng.random() >= 0.012:
            return
        day = add_months(month, 0, rng.randint(1, 28))
        if day > self.end:
            return
        self.mu = rng.gauss(0.1, 0.7)
        self.h = rng.gauss(self.mu, 0.5)
        previous = max(line.plan.rank for line in self.story.lines if line.plan.rank >= 0)
        self._start(day, self._plan_of_rank(max(0, previous - rng.randint(0, 1))))

    # --- helpers ---------------------------------------------------------------------------

    def _start(self, day: date, plan: Plan) -> None:
        self.main = self._open(plan, day)
        self.ever_customer = True
        if self.story.customer_since is None:
            self.story.customer_since = day

    def _open(self, plan: Plan, day: date) -> Line:
        line = Line(plan, day)
        self.story.lines.append(line)
        return line

    @staticmethod
    def _close(line: Line, day: date) -> None:
        line.end = day

    def _first_plan(self) -> Plan:
        employees = self.story.employee_count
        weights = [
            max(0.05, 1.2 - employees / 150),
            1.0,
            0.3 + employees / 400,
            min(1.5, employees / 800),
        ]
        rank = self.rng.choices(range(4), weights=weights)[0]
        return self._plan_of_rank(rank)

    def _year_end_month(self, plan: Plan) -> int | None:
        """The calendar month (3 or 12) a first contract of ``plan`` starts in when it is an
        annual contract signed at a year end (:data:`YEAR_END_SHARE`), else None."""
        if plan.period_months < 12 or self.year_end.random() >= YEAR_END_SHARE:
            return None
        months, weights = zip(*YEAR_END_MONTHS.items(), strict=True)
        return self.year_end.choices(months, weights=weights)[0]

    def _plan_of_rank(self, rank: int) -> Plan:
        long_terms = self.story.prefers_long_terms
        if rank == 0:
            return LIGHT
        if rank == 1:
            return STANDARD_QUARTERLY if long_terms else STANDARD
        if rank == 2:
            return PRO_ANNUAL if long_terms else PRO
        return ENTERPRISE

    def _renewal_in(self, line: Line, renewal: date, month: int) -> date:
        """The first renewal date of ``line`` from ``renewal`` (one of them) on that falls in
        calendar month ``month``, within a year; ``renewal`` itself when there is none."""
        day = renewal
        for _ in range(12):
            if day.month == month:
                return day
            day = self._next_renewal(line, day + timedelta(days=1))
        return renewal

    @staticmethod
    def _next_renewal(line: Line, not_before: date) -> date:
        """The first renewal date of ``line`` on or after ``not_before`` (spec §5: from start)."""
        period = line.plan.period_months
        elapsed = (not_before.year - line.start.year) * 12 + not_before.month - line.start.month
        k = max(1, elapsed // period)
        while True:
            renewal = add_months(line.start, k * period)
            if renewal >= not_before:
                return renewal
            k += 1


def _months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month
