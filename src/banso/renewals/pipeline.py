"""The renewal pipeline: each account's renewals in a window, its health, the CSM's forecast,
the probability that it renews and the MRR expected from it (``docs/metrics.md`` §5b).

Renewal dates and MRR come from :mod:`banso.revenue.contracts` (the one definition): an
account's renewals are those of its paid lines billed every ``RENEWAL_TERM_MONTHS`` months or
more, one row per account and renewal date, ``mrr_due`` the MRR of its lines due that day.

``probability``: the CSM's forecast when one is set (:data:`FORECAST_PROBABILITY`); otherwise
the company's own renewal rate (MRR-weighted, §5's rules) of past renewals whose account was in
the same health band :data:`BAND_LOOKBACK_DAYS` days before the renewal date; when fewer than
:data:`MIN_SAMPLE` such renewals exist, the rate of all past renewals; none when there were
none. ``expected_mrr = mrr_due × probability``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from banso import dates
from banso.accounts.models import Account
from banso.audit import service as audit
from banso.config import get_settings
from banso.db import utcnow
from banso.errors import BansoError, InvalidValue, NotFound
from banso.health import snapshots
from banso.health.models import HealthCurrent
from banso.i18n import _
from banso.labels import register
from banso.renewals.models import RenewalForecast
from banso.retention import service as churn_reasons
from banso.revenue import contracts
from banso.revenue import service as revenue
from banso.revenue.contracts import RENEWAL_TERM_MONTHS, Line
from banso.revenue.models import Subscription
from banso.revenue.months import MonthRange
from banso.team.models import TeamMember

FORECASTS = ("commit", "likely", "at_risk", "lost")
register(
    "renewal_forecast",
    {"commit": "Commit", "likely": "Likely", "at_risk": "At risk", "lost": "Lost"},
)

FORECAST_PROBABILITY = {
    "commit": Fraction(95, 100),
    "likely": Fraction(75, 100),
    "at_risk": Fraction(35, 100),
    "lost": Fraction(0),
}
"""The probability of renewal a CSM's forecast stands for."""

BAND_LOOKBACK_DAYS = 90
"""The band a past renewal is counted under: its account's band this many days before."""

MIN_SAMPLE = 10
"""Fewer past renewals than this in a band: the band's rate gives way to the overall rate."""

MAX_NOTE = 2000

COLUMNS = (
    "account_id",
    "account_name",
    "renewal_date",
    "subscription_ids",
    "mrr_due",
    "owner",
    "health_band",
    "health_score",
    "forecast",
    "forecast_note",
    "probability",
    "probability_source",
    "probability_sample",
    "expected_mrr",
)


@dataclass
class Due:
    """One account's renewal on one date: the lines due then and their MRR (exact, minor units
    of the reporting currency)."""

    account_id: int
    renewal_date: date
    subscription_ids: list[int]
    mrr: Fraction


@dataclass
class Rate:
    """A renewal rate: Σ renewed MRR / Σ due MRR over ``sample`` past renewals."""

    due: Fraction = Fraction(0)
    renewed: Fraction = Fraction(0)
    sample: int = 0

    @property
    def value(self) -> Fraction | None:
        return self.renewed / self.due if self.due else None


@dataclass
class Rates:
    """The renewal rate of past renewals by the band 90 days before, and over all of them."""

    by_band: dict[str, Rate] = field(default_factory=dict)
    overall: Rate = field(default_factory=Rate)

    def for_band(self, band: str | None) -> tuple[Fraction | None, str, int]:
        """(rate, source, sample): the band's rate when it has ``MIN_SAMPLE`` renewals, else
        the overall rate (source ``overall``), else none (source ``none``)."""
        rate = self.by_band.get(band) if band else None
        if rate is not None and rate.sample >= MIN_SAMPLE and rate.value is not None:
            return rate.value, f"band:{band}", rate.sample
        if self.overall.value is not None:
            return self.overall.value, "overall", self.overall.sample
        return None, "none", 0


@dataclass
class Outcome:
    """A past renewal (one account, one month, §5): MRR due and MRR lost."""

    account_id: int
    month: date
    first_date: date
    due: Fraction
    lost: Fraction


# ---------------------------------------------------------------------------------------------


def _term_lines(
    session: Session, first: date, last: date, account_ids: Iterable[int] | None = None
) -> dict[int, list[tuple[int, Line]]]:
    """Paid lines billed every RENEWAL_TERM_MONTHS months or more that may be due in
    ``[first, last]``, by account, with their subscription ids."""
    s = Subscription
    query = select(s).where(
        s.amount > 0,
        s.billing_period_months >= RENEWAL_TERM_MONTHS,
        s.start_date < last,
        or_(s.end_date.is_(None), s.end_date >= first),
    )
    if account_ids is not None:
        query = query.where(s.account_id.in_(list(account_ids)))
    found: dict[int, list[tuple[int, Line]]] = defaultdict(list)
    for sub in session.scalars(query):
        found[sub.account_id].append((sub.id, Line.of(sub)))
    return found


def renewals_due(
    session: Session, first: date, last: date, account_ids: Iterable[int] | None = None
) -> list[Due]:
    """Each account's renewals in ``[first, last]`` (contracts.renewals_between and line_mrr,
    at the renewal month's FX rate), ordered by date then account."""
    fx = contracts.fx_table(session, first, last)
    out: list[Due] = []
    for account_id, lines in _term_lines(session, first, last, account_ids).items():
        by_day: dict[date, Due] = {}
        for sub_id, line in lines:
            for b in contracts.renewals_between(line, first, last):
                due = by_day.setdefault(b, Due(account_id, b, [], Fraction(0)))
                due.subscription_ids.append(sub_id)
                due.mrr += contracts.line_mrr(line, fx, b)
        out.extend(by_day.values())
    for due in out:
        due.subscription_ids.sort()
    out.sort(key=lambda d: (d.renewal_date, d.account_id))
    return out


def outcomes(session: Session, first: date, last: date) -> list[Outcome]:
    """The renewals of the months from ``first``'s to ``last``'s, per account and month as §5
    counts them (due = the MRR of its term lines due in the month; lost = max(0, MRR of those
    that end on their renewal date − MRR of the account's lines that start on such a date)).

    The amounts are the revenue engine's own §5 aggregates keyed by account
    (:func:`banso.revenue.service.renewal_months` with ``by="account"``), so they cannot drift
    from ``renewal_due_mrr`` and ``renewal_churned_mrr``; only the first renewal date of each
    account's month (for the health band before it) comes from :func:`renewals_due`."""
    first, last = first.replace(day=1), last.replace(day=1)
    window = MonthRange(
        first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    )
    report = revenue.renewal_months(
        session, window, by="account", min_term_months=RENEWAL_TERM_MONTHS
    )
    unit = Fraction(10) ** contracts.minor_exponent(report.currency)
    first_dates: dict[tuple[int, date], date] = {}
    for d in renewals_due(session, first, contracts.add_months(last, 1) - timedelta(days=1)):
        first_dates.setdefault((d.account_id, d.renewal_date.replace(day=1)), d.renewal_date)
    out = []
    for row in report.rows:
        if not row["due"]:
            continue  # free lines only: nothing to renew (renewals_due skips them too)
        month = date.fromisoformat(row["month"] + "-01")
        key = (int(row["key"]), month)
        out.append(
            Outcome(key[0], month, first_dates[key], row["due"] * unit, row["lost"] * unit)
        )
    return sorted(out, key=lambda o: (o.month, o.account_id))


def past_rates(session: Session, before: date) -> Rates:
    """Renewal rates of every renewal in the months that are over before ``before``'s month
    (§5 per account and month: a month's outcome is known once it is over), by
    the account's health band ``BAND_LOOKBACK_DAYS`` days before its renewal date (the health
    snapshot of that day; a renewal whose account was not scored then counts only overall)."""
    first = session.scalar(select(func.min(Subscription.start_date)))
    rates = Rates()
    last = before.replace(day=1) - timedelta(days=1)  # the last month that is over
    if first is None or first > last:
        return rates
    done = outcomes(session, first, last)
    days = {o.first_date - timedelta(days=BAND_LOOKBACK_DAYS) for o in done}
    bands: dict[tuple[int, date], str] = {}
    if days:
        table = snapshots.read(columns="day, account_id, band", only_days=days, common_columns=True)
        if table.num_rows:
            for row in table.to_pylist():
                if row["band"]:
                    bands[(row["account_id"], row["day"])] = row["band"]
    for o in done:
        renewed = o.due - o.lost
        band = bands.get((o.account_id, o.first_date - timedelta(days=BAND_LOOKBACK_DAYS)))
        targets = [rates.overall]
        if band is not None:
            targets.append(rates.by_band.setdefault(band, Rate()))
        for rate in targets:
            rate.due += o.due
            rate.renewed += renewed
            rate.sample += 1
    return rates


# ---------------------------------------------------------------------------------------------
# Forecasts


def current_forecasts(
    session: Session, account_ids: Iterable[int] | None = None
) -> dict[tuple[int, date], RenewalForecast]:
    """The forecast in force per (account, renewal date): the newest row, when not cleared."""
    f = RenewalForecast
    newest = select(func.max(f.id)).group_by(f.account_id, f.renewal_date)
    if account_ids is not None:
        newest = newest.where(f.account_id.in_(list(account_ids)))
    rows = session.scalars(select(f).where(f.id.in_(newest)))
    return {(r.account_id, r.renewal_date): r for r in rows if r.status is not None}


def forecast_history(
    session: Session, account_id: int, renewal_date: date
) -> list[RenewalForecast]:
    """Every forecast set on the renewal, oldest first."""
    f = RenewalForecast
    return list(
        session.scalars(
            select(f)
            .where(f.account_id == account_id, f.renewal_date == renewal_date)
            .order_by(f.id)
        )
    )


def set_forecast(
    session: Session,
    account_id: int,
    renewal_date: date,
    status: str | None,
    note: str | None = None,
    reason: str | None = None,
) -> RenewalForecast:
    """Record the CSM's forecast of the account's renewal on ``renewal_date`` (``status`` None
    clears it), audited; the date must be one of the account's renewal dates. With the status
    ``lost`` a churn reason (``banso.retention``, a configured code) may be given: it is
    recorded for the renewal's month, where §5 will count the loss."""
    reason = (reason or "").strip() or None
    if reason is not None and status != "lost":
        raise InvalidValue(
            "reason", _("Give a churn reason only with the forecast lost.")
        )
    if status is not None and status not in FORECASTS:
        raise InvalidValue(
            "status",
            _(
                "a forecast is one of {choices} (or none to clear it), not {value!r}",
                choices=", ".join(FORECASTS),
                value=status,
            ),
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidValue("note", _("a note is at most {n} characters", n=MAX_NOTE))
    dates.check_day(renewal_date, "RENEWAL_DATE")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    if not renewals_due(session, renewal_date, renewal_date, [account_id]):
        upcoming = renewals_due(
            session, renewal_date, renewal_date + timedelta(days=3 * 366), [account_id]
        )
        raise BansoError(
            _(
                "{day} is not a renewal date of {account}; its next renewal is on {next}.",
                day=renewal_date.isoformat(),
                account=account.name,
                next=upcoming[0].renewal_date.isoformat(),
            )
            if upcoming
            else _(
                "{day} is not a renewal date of {account}; it has no renewal after it.",
                day=renewal_date.isoformat(),
                account=account.name,
            )
        )
    row = RenewalForecast(
        account_id=account_id,
        renewal_date=renewal_date,
        status=status,
        note=note,
        set_by=(audit.current_actor().name or "anonymous")[:320],
        set_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "renewal.forecast",
        f"account:{account_id}",
        renewal_date=renewal_date.isoformat(),
        status=status,
        note=note,
    )
    if reason is not None:
        churn_reasons.record(
            session, account_id, renewal_date.strftime("%Y-%m"), reason, actor=row.set_by,
            note=note,
        )  # fmt: skip
    return row


# ---------------------------------------------------------------------------------------------
# The list


def check_window(first: date, last: date) -> None:
    """Both days in the accepted window (:func:`banso.dates.check_day`), ``first`` not after
    ``last``; a BansoError naming the option otherwise."""
    dates.check_day(first, "--from")
    dates.check_day(last, "--to")
    if first > last:
        raise BansoError(
            _(
                "--from ({first}) is after --to ({last}); give a window that starts before it "
                "ends.",
                first=first.isoformat(),
                last=last.isoformat(),
            )
        )


def pipeline(
    session: Session,
    first: date,
    last: date,
    *,
    owner_id: int | None = None,
    band: str | None = None,
    forecast: str | None = None,
) -> list[dict[str, Any]]:
    """The renewal pipeline of ``[first, last]``: one exact row per account and renewal date
    (money as ``Fraction`` in major units of the reporting currency, see :func:`rounded`)."""
    check_window(first, last)
    dues = renewals_due(session, first, last)
    ids = sorted({d.account_id for d in dues})
    accounts: dict[int, tuple[str, int | None]] = {}
    owners: dict[int, str] = {}
    health: dict[int, tuple[str | None, float | None]] = {}
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        for a_id, name, o_id in session.execute(
            select(Account.id, Account.name, Account.owner_id).where(Account.id.in_(part))
        ):
            accounts[a_id] = (name, o_id)
        for a_id, h_band, score in session.execute(
            select(HealthCurrent.account_id, HealthCurrent.band, HealthCurrent.score).where(
                HealthCurrent.account_id.in_(part)
            )
        ):
            health[a_id] = (h_band, score)
    owner_ids = {o for _n, o in accounts.values() if o is not None}
    if owner_ids:
        owners = dict(
            session.execute(
                select(TeamMember.id, TeamMember.name).where(TeamMember.id.in_(owner_ids))
            ).all()
        )
    forecasts = current_forecasts(session, ids) if ids else {}
    months = sorted({d.renewal_date.strftime("%Y-%m") for d in dues})
    reasons = churn_reasons.latest_reasons(session, months) if months else {}
    rates = past_rates(session, dates.today())
    unit = Fraction(10) ** contracts.minor_exponent(get_settings().reporting_currency)
    rows: list[dict[str, Any]] = []
    for d in dues:
        name, o_id = accounts.get(d.account_id, ("", None))
        if owner_id is not None and o_id != owner_id:
            continue
        h_band, score = health.get(d.account_id, (None, None))
        if band is not None and h_band != band:
            continue
        f = forecasts.get((d.account_id, d.renewal_date))
        status = f.status if f is not None else None
        if forecast is not None and (status or "none") != forecast:
            continue
        if status is not None:
            probability: Fraction | None = FORECAST_PROBABILITY[status]
            source, sample = "forecast", None
        else:
            probability, source, sample = rates.for_band(h_band)
        mrr_due = d.mrr / unit
        reason = reasons.get((d.account_id, d.renewal_date.strftime("%Y-%m")))
        rows.append(
            {
                "account_id": d.account_id,
                "account_name": name,
                "renewal_date": d.renewal_date,
                "subscription_ids": d.subscription_ids,
                "mrr_due": mrr_due,
                "owner_id": o_id,
                "owner": owners.get(o_id) if o_id is not None else None,
                "health_band": h_band,
                "health_score": score,
                "forecast": status,
                "forecast_note": f.note if f is not None else None,
                "churn_reason": reason.code if reason is not None else None,
                "probability": probability,
                "probability_source": source,
                "probability_sample": sample,
                "expected_mrr": None if probability is None else mrr_due * probability,
            }
        )
    return rows


BY_MONTH_GROUPS = {"owner": "owner", "band": "health_band"}
"""``by_month`` groups: the option value and the pipeline column it splits by."""


def by_month(
    session: Session, rows: list[dict[str, Any]], by: str | None = None
) -> list[dict[str, Any]]:
    """The risk-weighted forecast per month (and ``owner`` or ``band`` when ``by`` says) of the
    rows: Σ mrr_due, Σ expected_mrr; for a month that is over, the MRR actually renewed (§5:
    due − lost, per account and month) of those renewals and the difference actual − expected.
    """
    if by is not None and by not in BY_MONTH_GROUPS:
        raise BansoError(
            _(
                "--by must be one of {choices}, not {value!r}.",
                choices=", ".join(BY_MONTH_GROUPS),
                value=by,
            )
        )
    column = BY_MONTH_GROUPS[by] if by is not None else None
    groups: dict[tuple[date, Any], dict[str, Any]] = {}
    members: dict[tuple[date, Any], set[int]] = defaultdict(set)
    for r in rows:
        m = r["renewal_date"].replace(day=1)
        key = (m, r[column] if column else None)
        acc = groups.setdefault(
            key,
            {
                "month": f"{m.year:04d}-{m.month:02d}",
                **({by: key[1]} if by is not None else {}),
                "renewals": 0,
                "mrr_due": Fraction(0),
                "expected_mrr": Fraction(0),
                "actual_mrr": None,
                "variance": None,
            },
        )
        acc["renewals"] += 1
        acc["mrr_due"] += r["mrr_due"]
        acc["expected_mrr"] += r["expected_mrr"] or 0
        members[key].add(r["account_id"])
    unit = Fraction(10) ** contracts.minor_exponent(get_settings().reporting_currency)
    done: dict[date, list[Outcome]] = {}
    for (m, _key), acc in groups.items():
        if not dates.month_over(m):
            continue
        if m not in done:
            done[m] = outcomes(session, m, contracts.add_months(m, 1) - timedelta(days=1))
        wanted = members[(m, _key)]
        actual = sum(
            ((o.due - o.lost) / unit for o in done[m] if o.account_id in wanted), Fraction(0)
        )
        acc["actual_mrr"] = actual
        acc["variance"] = actual - acc["expected_mrr"]
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1] is None, str(k[1])))]


def rounded(row: dict[str, Any]) -> dict[str, Any]:
    """Money half to even to 2 decimals, probability to 6, dates ISO (the KPIs' contract)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None:
            out[key] = None
        elif key in ("mrr_due", "expected_mrr", "actual_mrr", "variance"):
            out[key] = float(round(Fraction(value), 2))
        elif key == "probability":
            out[key] = float(round(Fraction(value), 6))
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
