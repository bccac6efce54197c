"""Churn reasons: record why an account churned or contracted in a month, list the losses
without a reason, and report lost MRR by reason, segment and month.

Lost MRR is spec §3's ``churned_mrr + contraction_mrr`` per account and month, taken from the
revenue engine (:func:`banso.revenue.service.lost_by_account`); a loss is explained by the newest
reason recorded for the same account and month, else it is "unreasoned".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit import service as audit
from banso.dates import parse_month_option, today
from banso.errors import BansoError, ConfigRejected, InvalidValue, NotFound
from banso.i18n import _
from banso.labels import register
from banso.retention.models import ChurnReason
from banso.retention.reasons import load_reasons, reason_label
from banso.revenue import service as revenue

MAX_NOTE = 2000
REPORT_BY = ("segment",)
UNREASONED = "unreasoned"
WRITER_ROLES = ("admin", "ops", "csm")
"""The roles that record churn reasons (a viewer reads only)."""
register("loss_kind", {"churn": "Churn", "contraction": "Contraction"})


def find_account(session: Session, account: str) -> Account:
    """The account with id or exact name ``account``; a clear error when there is none."""
    if account.isdigit():
        found = session.get(Account, int(account))
        if found is not None:
            return found
    named = session.scalars(select(Account).where(Account.name == account)).all()
    if len(named) == 1:
        return named[0]
    raise BansoError(_("No account {account!r} (give its id or exact name).", account=account))


def account_owner(session: Session, account_id: int) -> int | None:
    """The owner (team member id) of the account, for the role check; NotFound without it."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("There is no account with id {id}.", id=account_id))
    return account.owner_id


def record(
    session: Session,
    account_id: int,
    month: str,
    code: str,
    *,
    actor: str,
    note: str | None = None,
    cta_id: int | None = None,
) -> ChurnReason:
    """Record ``code`` as the reason ``account_id`` lost MRR in ``month`` (``YYYY-MM``); audited.
    A later recording for the same account and month supersedes it (both are kept)."""
    month = parse_month_option(month, "month")
    reasons = load_reasons()
    if code not in reasons:
        raise InvalidValue(
            "reason",
            _("Unknown churn reason {code!r}; use one of: {known}.", code=code,
              known=", ".join(reasons)),
        )  # fmt: skip
    if session.get(Account, account_id) is None:
        raise NotFound(_("There is no account with id {id}.", id=account_id))
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidValue("note", _("Write a note of at most {n} characters.", n=MAX_NOTE))
    entry = ChurnReason(
        account_id=account_id, month=month, code=code, note=note, recorded_by=actor[:320],
        cta_id=cta_id,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    audit.record(
        session, "churn_reason.record", f"account:{account_id}", actor=actor,
        month=month, reason=code, note=note, cta_id=cta_id,
    )  # fmt: skip
    return entry


def record_at_close(
    session: Session, account_id: int, code: str, *, actor: str, note: str | None, cta_id: int
) -> ChurnReason:
    """The reason given when a CTA is closed as churned: for the month it is closed in."""
    return record(
        session, account_id, today().strftime("%Y-%m"), code, actor=actor, note=note,
        cta_id=cta_id,
    )  # fmt: skip


def check_close_reason(outcome: str, code: str) -> None:
    """A reason given when closing a CTA: only with the outcome churned, and a configured one."""
    if outcome != "churned":
        raise InvalidValue("reason", _("Give a churn reason only with the outcome churned."))
    reasons = load_reasons()
    if code not in reasons:
        raise InvalidValue(
            "reason",
            _("Unknown churn reason {code!r}; use one of: {known}.", code=code,
              known=", ".join(reasons)),
        )  # fmt: skip


def choices() -> list[tuple[str, str]]:
    """The configured reasons as (code, label) for a form; none while the file is invalid (the
    form then offers no reason, and ``churn-reasons list`` names the file's problems)."""
    try:
        return [(r.code, r.label()) for r in load_reasons().values()]
    except ConfigRejected:
        return []


def latest_reasons(
    session: Session, months: list[str] | None = None
) -> dict[tuple[int, str], ChurnReason]:
    """The newest reason per (account, month)."""
    query = select(ChurnReason).order_by(ChurnReason.id)
    if months is not None:
        query = query.where(ChurnReason.month.in_(months))
    return {(r.account_id, r.month): r for r in session.scalars(query)}


def history(session: Session, account_id: int) -> list[ChurnReason]:
    """Every reason recorded for one account, newest first."""
    return list(
        session.scalars(
            select(ChurnReason)
            .where(ChurnReason.account_id == account_id)
            .order_by(ChurnReason.id.desc())
        )
    )


def losses(
    session: Session, *, start: str | None = None, end: str | None = None, engine: str = "duckdb"
) -> list[dict[str, Any]]:
    """Each account's spec §3 loss per month with its reason (None when none recorded): rows
    month, account_id, account_name, segment, churned_mrr, contraction_mrr, lost_mrr, reason,
    note (exact Fractions)."""
    months, _currency, rows = revenue.lost_by_account(session, start=start, end=end, engine=engine)
    reasons = latest_reasons(session, months.labels())
    ids = sorted({r["account_id"] for r in rows})
    names: dict[int, tuple[str, str | None]] = {}
    for chunk in range(0, len(ids), 1000):
        part = ids[chunk : chunk + 1000]
        for aid, name, segment in session.execute(
            select(Account.id, Account.name, Account.segment).where(Account.id.in_(part))
        ):
            names[aid] = (name, segment)
    out = []
    for row in rows:
        found = reasons.get((row["account_id"], row["month"]))
        name, segment = names.get(row["account_id"], ("", None))
        out.append(
            {
                "month": row["month"],
                "account_id": row["account_id"],
                "account_name": name,
                "segment": segment,
                "churned_mrr": row["churned_mrr"],
                "contraction_mrr": row["contraction_mrr"],
                "lost_mrr": row["churned_mrr"] + row["contraction_mrr"],
                "kind": "churn" if row["churned_mrr"] else "contraction",
                "reason": found.code if found else None,
                "note": found.note if found else None,
            }
        )
    return out


def unreasoned(
    session: Session, *, start: str | None = None, end: str | None = None, engine: str = "duckdb"
) -> list[dict[str, Any]]:
    """The accounts that churned or contracted in ``start..end`` with no reason recorded."""
    return [r for r in losses(session, start=start, end=end, engine=engine) if r["reason"] is None]


def report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    engine: str = "duckdb",
) -> list[dict[str, Any]]:
    """Lost MRR per month[, segment] and reason, exact; the losses without a reason are their
    own row (reason ``unreasoned``). Rows: month, [segment,] reason, reason_label, accounts,
    churned_mrr, contraction_mrr, lost_mrr; ordered by month[, segment], then the configured
    order of the reasons, unreasoned last."""
    if by is not None and by not in REPORT_BY:
        raise BansoError(
            _("Unknown breakdown {by}; choose one of {choices}.", by=by,
              choices=", ".join(REPORT_BY)),
        )  # fmt: skip
    reasons = load_reasons()
    order = {code: i for i, code in enumerate(reasons)}
    groups: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: {"accounts": set(), "churned": Fraction(0), "contraction": Fraction(0)}
    )
    for row in losses(session, start=start, end=end, engine=engine):
        key = (row["month"], row["segment"] if by else None, row["reason"])
        group = groups[key]
        group["accounts"].add(row["account_id"])
        group["churned"] += row["churned_mrr"]
        group["contraction"] += row["contraction_mrr"]

    def sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
        month, segment, code = key
        rank = len(order) + 1 if code is None else order.get(code, len(order))
        return (month, segment is None, segment or "", rank, code or "")

    out = []
    for key in sorted(groups, key=sort_key):
        month, segment, code = key
        group = groups[key]
        row: dict[str, Any] = {"month": month}
        if by:
            row[by] = segment
        row.update(
            {
                "reason": code or UNREASONED,
                "reason_label": reason_label(code, reasons),
                "accounts": len(group["accounts"]),
                "churned_mrr": group["churned"],
                "contraction_mrr": group["contraction"],
                "lost_mrr": group["churned"] + group["contraction"],
            }
        )
        out.append(row)
    return out


def reason_out(entry: ChurnReason) -> dict[str, Any]:
    """A recorded reason as JSON-ready values."""
    recorded_at: datetime = entry.recorded_at
    return {
        "id": entry.id,
        "account_id": entry.account_id,
        "month": entry.month,
        "reason": entry.code,
        "note": entry.note,
        "recorded_by": entry.recorded_by,
        "recorded_at": recorded_at.isoformat(),
        "cta_id": entry.cta_id,
    }
