"""``import_records``: read, validate every row, then write all of it in the caller's transaction.

Nothing is written unless every row is good: parsing and checks run over the whole file first,
and any problem raises ``ImportRejected`` listing each ``FILE:ROW:COLUMN: reason``. Rows are
upserted by ``(source, external id)``, so re-importing a file (or a newer export of the same
system) updates what changed and never duplicates.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from banso.accounts.identity import company_domain, email_domain
from banso.accounts.models import TRIAGE_RATINGS, AccountIdentity, Contact
from banso.accounts.service import AccountFacts, resolve_accounts
from banso.activities.models import Activity
from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.bulk import bulk_insert, bulk_update
from banso.config import get_settings
from banso.db import utcnow
from banso.deals.models import Deal
from banso.i18n import _
from banso.ingest.batches import (
    AccountRefs,
    ImportResult,
    ProblemSink,
    Progress,
    account_refs,
    read_validated,
    record_batch,
)
from banso.ingest.readers import SourceFile
from banso.ingest.schemas import ImportKind
from banso.ingest.values import web_domain
from banso.invoices.models import Invoice
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember


def import_records(
    session: Session,
    import_kind: ImportKind,
    source_file: SourceFile,
    fields: dict[str, str],
    source: str,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a file of records (every kind but events) whose headers matched ``fields``."""
    path = source_file.path
    table = read_validated(source_file, import_kind, fields, progress)
    writer = _WRITERS[import_kind]
    inserted, updated, unchanged, created = writer(
        session, table, source, dry_run, ProblemSink(path.name, fields)
    )
    result = ImportResult(
        import_kind.value, path.name, source, table.num_rows, inserted, updated, unchanged,
        created, dry_run,
    )  # fmt: skip
    if not dry_run:
        record_batch(session, result)
    return result


# --- writers: one per kind; each returns (inserted, updated, unchanged, accounts created) -----

Counts = tuple[int, int, int, int]


def _write_subscriptions(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    settings = get_settings()
    accounts = _account_refs(session, table, source, dry_run)
    currency = pc.fill_null(table["currency"], settings.reporting_currency).to_pylist()
    period = pc.fill_null(table["billing_period_months"], 1).to_pylist()
    records = _records(
        table,
        external_id="subscription_id",
        columns=("plan", "start_date", "end_date", "amount"),
        extra={"account_id": accounts.ids_for(table), "currency": currency,
               "billing_period_months": period},
    )  # fmt: skip
    return (*upsert_by_external_id(session, Subscription.__table__, source, records, dry_run),
            accounts.created)  # fmt: skip


def _write_accounts(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    owners = _member_ids(session, table["owner"], table["_row"], "owner", sink)
    columns = {name: table[name].to_pylist() for name in table.column_names}
    for rating in ("it_literacy", "motivation"):
        for row, value in zip(columns["_row"], columns[rating], strict=True):
            if value is not None and value not in TRIAGE_RATINGS:
                sink.add(row, rating, _("a rating is a whole number from 1 to 5"))
    sink.raise_if_any()
    facts: dict[str, AccountFacts] = {}
    for i, ext in enumerate(columns["account_id"]):
        domain = columns["domain"][i]
        facts[ext] = AccountFacts(
            name=columns["name"][i],
            kana=columns["kana"][i],
            domain=company_domain(web_domain(domain)) if domain else email_domain(
                columns["email"][i]),
            industry=columns["industry"][i],
            employee_count=columns["employee_count"][i],
            plan=columns["plan"][i],
            segment=columns["segment"][i],
            owner_id=owners[i],
            lifecycle_stage=columns["lifecycle_stage"][i],
            tier=columns["tier"][i],
            touch_model=columns["touch_model"][i],
            it_literacy=columns["it_literacy"][i],
            motivation=columns["motivation"][i],
        )  # fmt: skip
    resolved = resolve_accounts(session, source, facts, update_existing=True, dry_run=dry_run)
    unchanged = len(facts) - resolved.created - resolved.updated
    return resolved.created, resolved.updated, unchanged, resolved.created


def _write_contacts(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    accounts = _account_refs(session, table, source, dry_run)
    ids = pc.coalesce(table["contact_id"], table["email"])
    table = table.set_column(table.column_names.index("contact_id"), "contact_id", ids)
    records = _records(
        table,
        external_id="contact_id",
        columns=("name", "kana", "email", "phone", "role", "language", "left_at"),
        extra={"account_id": accounts.ids_for(table)},
    )
    return (*upsert_by_external_id(session, Contact.__table__, source, records, dry_run),
            accounts.created)  # fmt: skip


def _write_tickets(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    accounts = _account_refs(session, table, source, dry_run)
    records = _records(
        table,
        external_id="ticket_id",
        columns=("subject", "opened_at", "closed_at", "priority", "status", "category", "csat"),
        extra={"account_id": accounts.ids_for(table),
               "contact_id": _contact_ids(session, table["email"])},
    )  # fmt: skip
    return (*upsert_by_external_id(session, Ticket.__table__, source, records, dry_run),
            accounts.created)  # fmt: skip


def _write_surveys(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    accounts = _account_refs(session, table, source, dry_run)
    table = _with_derived_ids(
        table, "response_id", ("account_id", "email", "survey_type", "score", "answered_at")
    )
    records = _records(
        table,
        external_id="response_id",
        columns=("survey_type", "score", "comment", "answered_at"),
        extra={"account_id": accounts.ids_for(table),
               "contact_id": _contact_ids(session, table["email"])},
    )  # fmt: skip
    return (*upsert_by_external_id(session, SurveyResponse.__table__, source, records, dry_run),
            accounts.created)  # fmt: skip


def _write_activities(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    members = _member_ids(session, table["member"], table["_row"], "member", sink)
    sink.raise_if_any()
    accounts = _account_refs(session, table, source, dry_run)
    table = _with_derived_ids(
        table, "activity_id", ("account_id", "kind", "member", "occurred_at", "summary")
    )
    records = _records(
        table,
        external_id="activity_id",
        columns=("kind", "occurred_at", "summary"),
        extra={"account_id": accounts.ids_for(table), "member_id": members},
    )
    return (*upsert_by_external_id(session, Activity.__table__, source, records, dry_run),
            accounts.created)  # fmt: skip


def _write_deals(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    """CRM deals keyed by ``(source, deal_id)``. The owner is kept as the CRM gives it and linked
    to the team member with that e-mail or name when there is one: a deal's owner is often a
    sales rep, or someone who left, rather than a CSM, so an unknown one is not a problem. An
    amount without a currency is in the reporting currency, like a contract line's."""
    owners = _member_ids(session, table["owner"], table["_row"], "owner", None)
    accounts = _account_refs(session, table, source, dry_run)
    currency = pc.fill_null(table["currency"], get_settings().reporting_currency).to_pylist()
    records = _records(
        table,
        external_id="deal_id",
        columns=("name", "stage", "status", "amount", "close_date", "deal_type", "owner"),
        extra={"account_id": accounts.ids_for(table), "currency": currency, "owner_id": owners},
    )
    return (*upsert_by_external_id(session, Deal.__table__, source, records, dry_run),
            accounts.created)  # fmt: skip


def _write_invoices(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    """Invoices keyed by ``(source, invoice_id)``; no currency: the reporting currency."""
    accounts = _account_refs(session, table, source, dry_run)
    currency = pc.fill_null(table["currency"], get_settings().reporting_currency).to_pylist()
    records = _records(
        table,
        external_id="invoice_id",
        columns=("number", "status", "amount_due", "amount_paid", "issued_on", "due_date",
                 "paid_at", "attempts"),
        extra={"account_id": accounts.ids_for(table), "currency": currency},
    )  # fmt: skip
    return (*upsert_by_external_id(session, Invoice.__table__, source, records, dry_run),
            accounts.created)  # fmt: skip


def _write_team(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    """Team members are keyed by e-mail (one person, whatever system listed them)."""
    existing = {m.email: m for m in session.scalars(select(TeamMember))}
    inserted = updated = unchanged = 0
    for row in table.select(["name", "email", "job_title", "team"]).to_pylist():
        member = existing.get(row["email"])
        if member is None:
            inserted += 1
            if not dry_run:
                session.add(TeamMember(**row))
            continue
        said = {k: v for k, v in row.items() if v is not None}
        if all(getattr(member, k) == v for k, v in said.items()):
            unchanged += 1
            continue
        updated += 1
        if not dry_run:
            for key, value in said.items():
                setattr(member, key, value)
    session.flush()
    return inserted, updated, unchanged, 0


def _write_attendance(
    session: Session, table: pa.Table, source: str, dry_run: bool, sink: ProblemSink
) -> Counts:
    """Who enrolled in or attended which session. A session is the programme's one session on
    the row's company-local date; the person is the contact with the e-mail, else the account
    with the id in ``source`` (nobody is created). A session never takes more people than its
    capacity; a person already on the roster only changes status."""
    rows = table.select(["_row", "program", "session_date", "email", "account_id", "status"])
    wanted = [r for r in rows.to_pylist()]
    sessions = _sessions_by_day(session, {r["program"] for r in wanted})
    contacts = _contacts_by_email(session, {r["email"] for r in wanted if r["email"]})
    accounts = dict(
        session.execute(
            select(AccountIdentity.external_id, AccountIdentity.account_id).where(
                AccountIdentity.source == source,
                AccountIdentity.external_id.in_(
                    {r["account_id"] for r in wanted if r["account_id"]}
                ),
            )
        ).all()
    )
    keyed: list[tuple[int, tuple[int, int, int | None], str]] = []
    first_row: dict[tuple[int, int, int | None], int] = {}
    for r in wanted:
        found = sessions.get((r["program"], r["session_date"]), [])
        if len(found) != 1:
            sink.add(r["_row"], "program", _(
                "no session of programme {program} on {day}; add it first (banso programs "
                "add-session)", program=r["program"], day=r["session_date"].isoformat(),
            ) if not found else _(
                "programme {program} has {count} sessions on {day}; record this one in the app",
                program=r["program"], count=len(found), day=r["session_date"].isoformat(),
            ))  # fmt: skip
            continue
        if r["email"]:
            contact = contacts.get(r["email"].casefold())
            if contact is None:
                sink.add(r["_row"], "email", _("no contact with the e-mail {email}; import the"
                                               " contacts first", email=r["email"]))  # fmt: skip
                continue
            person: tuple[int, int | None] = (contact.account_id, contact.id)
        else:
            account_id = accounts.get(r["account_id"])
            if account_id is None:
                sink.add(r["_row"], "account_id", _(
                    "no account with the id {value} from {source}; import the accounts first",
                    value=r["account_id"], source=source,
                ))  # fmt: skip
                continue
            person = (account_id, None)
        key = (found[0].id, *person)
        if key in first_row:
            sink.add(r["_row"], "email" if r["email"] else "account_id",
                     _("the same person and session as row {row}", row=first_row[key]))  # fmt: skip
            continue
        first_row[key] = r["_row"]
        keyed.append((r["_row"], key, r["status"]))
    existing = {
        (e.session_id, e.account_id, e.contact_id): e
        for e in session.scalars(
            select(ProgramEnrolment).where(
                ProgramEnrolment.session_id.in_({k[0] for _, k, _ in keyed})
            )
        )
    }
    taken = Counter(k[0] for k in existing)
    by_id = {s.id: s for found in sessions.values() for s in found}
    for row, key, _status in keyed:
        if key in existing:
            continue
        taken[key[0]] += 1
        capacity = by_id[key[0]].capacity
        if capacity is not None and taken[key[0]] > capacity:
            sink.add(row, "program", _("the session is full ({capacity} seats)",
                                       capacity=capacity))  # fmt: skip
    sink.raise_if_any()
    inserted = updated = unchanged = 0
    recorded_by = f"import:{sink.file}"[:320]
    for _row, key, status in keyed:
        current = existing.get(key)
        if current is None:
            inserted += 1
            if not dry_run:
                session.add(ProgramEnrolment(session_id=key[0], account_id=key[1],
                                             contact_id=key[2], status=status,
                                             recorded_by=recorded_by))  # fmt: skip
        elif current.status == status:
            unchanged += 1
        else:
            updated += 1
            if not dry_run:
                current.status, current.recorded_by = status, recorded_by
    session.flush()
    return inserted, updated, unchanged, 0


def _sessions_by_day(
    session: Session, programs: set[str]
) -> dict[tuple[str, date], list[ProgramSession]]:
    zone = get_settings().tz
    out: dict[tuple[str, date], list[ProgramSession]] = defaultdict(list)
    for s in session.scalars(select(ProgramSession).where(ProgramSession.program.in_(programs))):
        at = s.starts_at if s.starts_at.tzinfo else s.starts_at.replace(tzinfo=UTC)
        out[(s.program, at.astimezone(zone).date())].append(s)
    return out


def _contacts_by_email(session: Session, emails: set[str]) -> dict[str, Contact]:
    folded = {e.casefold() for e in emails}
    found: dict[str, Contact] = {}
    for c in session.scalars(select(Contact).where(func.lower(Contact.email).in_(folded))):
        found.setdefault(c.email.casefold(), c)
    return found


_WRITERS: dict[ImportKind, Callable[[Session, pa.Table, str, bool, ProblemSink], Counts]] = {
    ImportKind.ATTENDANCE: _write_attendance,
    ImportKind.ACCOUNTS: _write_accounts,
    ImportKind.CONTACTS: _write_contacts,
    ImportKind.SUBSCRIPTIONS: _write_subscriptions,
    ImportKind.TICKETS: _write_tickets,
    ImportKind.SURVEYS: _write_surveys,
    ImportKind.ACTIVITIES: _write_activities,
    ImportKind.TEAM: _write_team,
    ImportKind.DEALS: _write_deals,
    ImportKind.INVOICES: _write_invoices,
}


# --- shared writing helpers -----------------------------------------------------------------


def _account_refs(session: Session, table: pa.Table, source: str, dry_run: bool) -> AccountRefs:
    return account_refs(session, table["account_id"], table["account_name"], source, dry_run)


def upsert_by_external_id(
    session: Session,
    table: Table,
    source: str,
    records: list[dict[str, Any]],
    dry_run: bool,
) -> tuple[int, int, int]:
    """Insert new ``(source, external_id)`` records, update changed ones, skip identical ones.

    Returns (inserted, updated, unchanged). Bulk statements: one executemany for the inserts and
    one for the updates, so a million rows stay within seconds.
    """
    if not records:
        return 0, 0, 0
    columns = [c for c in records[0] if c != "external_id"]
    existing: dict[str, tuple[int, tuple[Any, ...]]] = {}
    query = select(table.c.external_id, table.c.id, *[table.c[c] for c in columns]).where(
        table.c.source == source
    )
    for row in session.execute(query):
        existing[row[0]] = (row[1], tuple(_comparable(v) for v in row[2:]))
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged = 0
    for record in records:
        found = existing.get(record["external_id"])
        if found is None:
            inserts.append({**record, "source": source, "created_at": now})
            continue
        values = tuple(_comparable(record[c]) for c in columns)
        if values == found[1]:
            unchanged += 1
        else:
            updates.append({**{c: record[c] for c in columns}, "id": found[0]})
    if not dry_run:
        if "updated_at" in table.c:
            for row in inserts:
                row["updated_at"] = now
        bulk_insert(session, table, inserts)
        if "updated_at" in table.c:
            for row in updates:
                row["updated_at"] = now
        bulk_update(session, table, updates)
    return len(inserts), len(updates), unchanged


def _records(
    table: pa.Table, *, external_id: str, columns: tuple[str, ...], extra: dict[str, list[Any]]
) -> list[dict[str, Any]]:
    data = {"external_id": table[external_id].to_pylist()}
    data.update({c: table[c].to_pylist() for c in columns})
    data.update(extra)
    names = list(data)
    return [dict(zip(names, values, strict=True)) for values in zip(*data.values(), strict=True)]


def _comparable(value: Any) -> Any:
    """Stored and imported values compared alike (SQLite returns naive UTC datetimes)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _with_derived_ids(table: pa.Table, id_field: str, basis: tuple[str, ...]) -> pa.Table:
    """Fill a missing record id with a hash of the record, so re-importing it is idempotent."""
    if table[id_field].null_count == 0:
        return table
    texts = zip(*[table[c].to_pylist() for c in basis], strict=True)
    derived = [
        "h:"
        + hashlib.sha256(
            "\x1f".join("" if v is None else str(v) for v in row).encode()
        ).hexdigest()[:32]
        for row in texts
    ]
    ids = pc.coalesce(table[id_field], pa.array(derived, pa.string()))
    return table.set_column(table.column_names.index(id_field), id_field, ids)


def _member_ids(
    session: Session,
    refs: pa.ChunkedArray,
    rows: pa.ChunkedArray,
    field: str,
    sink: ProblemSink | None,
) -> list[int | None]:
    """Team members named by e-mail or by name; an unknown one is a problem of that row (None
    without a ``sink``: no member)."""
    values = refs.to_pylist()
    if all(v is None for v in values):
        return [None] * len(values)
    by_key: dict[str, int] = {}
    names: dict[str, list[int]] = {}
    for member_id, name, email in session.execute(
        select(TeamMember.id, TeamMember.name, TeamMember.email)
    ):
        by_key[email.lower()] = member_id
        names.setdefault(" ".join(name.split()).casefold(), []).append(member_id)
    for name, ids in names.items():
        if len(ids) == 1:
            by_key.setdefault(name, ids[0])
    out: list[int | None] = []
    for value, row in zip(values, rows.to_pylist(), strict=True):
        if value is None:
            out.append(None)
            continue
        member = by_key.get(" ".join(value.split()).casefold())
        if member is None and sink is not None:
            sink.add(row, field, _("no team member with the e-mail or name {value}; import the"
                                   " team file first", value=value))  # fmt: skip
        out.append(member)
    return out


def _contact_ids(session: Session, emails: pa.ChunkedArray) -> list[int | None]:
    values = emails.to_pylist()
    wanted = {v for v in values if v}
    if not wanted:
        return [None] * len(values)
    found = dict(
        session.execute(select(Contact.email, Contact.id).where(Contact.email.in_(wanted))).all()
    )
    return [found.get(v) if v else None for v in values]
