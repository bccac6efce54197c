"""What the records and events importers share: a file parsed and checked batch by batch into
typed columns, the problems of a file (``ProblemSink``, ``rejected``), account references, and the
``ImportResult`` recorded as an ``ImportBatch``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Table
from sqlalchemy.orm import Session

from banso.accounts.models import Account, AccountIdentity, Contact
from banso.accounts.service import AccountFacts, resolve_accounts
from banso.activities.models import Activity
from banso.audit import service as audit
from banso.config import get_settings
from banso.deals.models import Deal
from banso.errors import ImportProblem, ImportRejected
from banso.i18n import _, ngettext
from banso.ingest.columns import ValueType, arrow_type, blank_to_null, parse_column
from banso.ingest.models import ImportBatch
from banso.ingest.readers import SourceFile
from banso.ingest.schemas import FIELDS, ImportKind
from banso.invoices.models import Invoice
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SURVEY_TYPES, SurveyResponse
from banso.team.models import TeamMember

DEFAULT_SOURCE = "import"
MAX_PRINTED_PROBLEMS = 50
MAX_SOURCE_CHARS = 100
"""The longest source system name the identity and record tables hold."""

Progress = Callable[[int, int], None]
"""Called with (bytes read, file size) as the file streams in."""


@dataclass(frozen=True)
class ImportResult:
    """What an accepted import did: rows read, records inserted, updated, unchanged."""

    kind: str
    file: str
    source: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    accounts_created: int
    dry_run: bool


def record_batch(session: Session, result: ImportResult) -> None:
    """One ``ImportBatch`` row per accepted import: the audit trail of what came in."""
    session.add(
        ImportBatch(
            kind=result.kind,
            file_name=result.file,
            source=result.source,
            rows=result.rows,
            inserted=result.inserted,
            updated=result.updated,
        )
    )
    session.flush()
    audit.record(session, "data.import", result.file, kind=result.kind, source=result.source,
                 rows=result.rows, inserted=result.inserted, updated=result.updated)  # fmt: skip


def rejected(problems: list[ImportProblem]) -> ImportRejected:
    """The error for a refused file, problems in file order."""
    problems = sorted(problems, key=lambda p: (p.row, p.column))
    return ImportRejected(
        problems,
        ngettext(
            "{file}: {n} problem found; nothing was imported.",
            "{file}: {n} problems found; nothing was imported.",
            len(problems),
            file=problems[0].file if problems else "",
        ),
    )


class ProblemSink:
    """Collects problems of one file, naming columns by the header as written in the file."""

    def __init__(self, file: str, fields: dict[str, str]) -> None:
        self.file = file
        self.fields = fields
        self.problems: list[ImportProblem] = []

    def add(self, row: int, field: str, reason: str) -> None:
        self.problems.append(ImportProblem(self.file, row, self.fields.get(field, field), reason))

    def raise_if_any(self) -> None:
        if self.problems:
            raise rejected(self.problems)


def read_validated(
    source_file: SourceFile,
    kind: ImportKind,
    fields: dict[str, str],
    progress: Progress | None = None,
) -> pa.Table:
    """The whole file parsed into typed columns (plus ``_row``), or ``ImportRejected``."""
    sink = ProblemSink(source_file.path.name, fields)
    tables = []
    backslash_is_yen = source_file.encoding == "cp932"
    for batch in source_file.batches:
        table = parse_batch(
            batch.columns, batch.rows, kind, fields, sink, backslash_is_yen=backslash_is_yen
        )
        tables.append(table)
        if progress:
            progress(batch.bytes_read, source_file.size)
    table = (
        pa.concat_tables(tables)
        if tables
        else pa.table(
            {
                **{s.name: pa.array([], arrow_type(s.value_type)) for s in FIELDS[kind]},
                "_row": pa.array([], pa.int64()),
            }
        )
    )
    check_unique(table, kind, sink)
    sink.raise_if_any()
    return table


def parse_batch(
    columns: dict[str, pa.Array],
    rows: pa.Array,
    kind: ImportKind,
    fields: dict[str, str],
    sink: ProblemSink,
    *,
    backslash_is_yen: bool = False,
) -> pa.Table:
    """Typed columns of one batch; every bad or missing cell is added to ``sink``.

    ``backslash_is_yen``: the file was CP932, whose byte 0x5C before an amount is a yen sign.
    """
    tz = get_settings().tz
    out: dict[str, pa.Array] = {}
    row_numbers: list[int] | None = None
    for spec in FIELDS[kind]:
        header = fields.get(spec.name)
        if header is None:
            out[spec.name] = pa.nulls(len(rows), arrow_type(spec.value_type))
            continue
        text = blank_to_null(columns[header])
        parsed, cell_problems = parse_column(
            text, spec.value_type, tz=tz, choices=spec.choices or None,
            backslash_is_yen=backslash_is_yen,
        )  # fmt: skip
        if cell_problems or (spec.required and text.null_count):
            row_numbers = row_numbers or rows.to_pylist()
            for index, reason in cell_problems:
                sink.add(row_numbers[index], spec.name, reason)
            if spec.required:
                for index in pc.indices_nonzero(pc.is_null(text)).to_pylist():
                    sink.add(row_numbers[index], spec.name, _("a value is required"))
        out[spec.name] = parsed
    out["_row"] = rows
    table = pa.table(out)
    _ROW_CHECKS.get(kind, _no_checks)(table, sink)
    for field, limit in text_limits(kind).items():
        _flag(table, pc.greater(pc.utf8_length(table[field]), limit), sink, field,
              lambda r, f=field, n=limit: _("longer than {limit} characters ({length})",
                                             limit=n, length=len(r[f])))  # fmt: skip
    for spec in FIELDS[kind]:
        if pa.types.is_string(table[spec.name].type):  # PostgreSQL text cannot hold NUL
            _flag(table, pc.match_substring(table[spec.name], "\x00"), sink, spec.name,
                  lambda r: _("contains a NUL character (byte 0x00)"))  # fmt: skip
    return table


@cache
def text_limits(kind: ImportKind) -> dict[str, int]:
    """Field -> the most characters of the database column it is stored in: PostgreSQL refuses
    longer text (SQLite would keep it), so a long cell is the row's problem, not a crash."""
    stored_in = _STORED_IN.get(kind)
    identity = AccountIdentity.__table__.c.external_id.type
    limits: dict[str, int] = {}
    for spec in FIELDS[kind]:
        if spec.value_type not in (ValueType.TEXT, ValueType.EMAIL):
            continue
        if spec.name == "account_id":
            column_type = identity
        elif spec.name == "account_name":
            column_type = Account.__table__.c.name.type
        elif stored_in is None:
            continue
        elif spec.name == _UNIQUE_KEYS.get(kind) and "external_id" in stored_in.c:
            column_type = stored_in.c.external_id.type
        elif spec.name in stored_in.c:
            column_type = stored_in.c[spec.name].type
        else:
            continue
        length = getattr(column_type, "length", None)
        if length:
            limits[spec.name] = int(length)
    return limits


def check_unique(table: pa.Table, kind: ImportKind, sink: ProblemSink) -> None:
    """The same external id twice in one file is a problem: which row should win is unclear."""
    key = _UNIQUE_KEYS.get(kind)
    if key is None or table.num_rows == 0:
        return
    keyed = table.select([key, "_row"]).filter(pc.is_valid(table[key]))
    counts = keyed.group_by(key).aggregate([("_row", "min"), ("_row", "count")])
    repeated = counts.filter(pc.greater(counts["_row_count"], 1))
    if repeated.num_rows == 0:
        return
    first = dict(zip(repeated[key].to_pylist(), repeated["_row_min"].to_pylist(), strict=True))
    dupes = keyed.filter(pc.is_in(keyed[key], value_set=repeated[key].combine_chunks()))
    for value, row in zip(dupes[key].to_pylist(), dupes["_row"].to_pylist(), strict=True):
        if row != first[value]:
            sink.add(
                row,
                key,
                _("{value} appears twice: also on row {row}", value=value, row=first[value]),
            )


_STORED_IN: dict[ImportKind, Table] = {
    ImportKind.ACCOUNTS: Account.__table__,
    ImportKind.CONTACTS: Contact.__table__,
    ImportKind.SUBSCRIPTIONS: Subscription.__table__,
    ImportKind.TICKETS: Ticket.__table__,
    ImportKind.SURVEYS: SurveyResponse.__table__,
    ImportKind.ACTIVITIES: Activity.__table__,
    ImportKind.TEAM: TeamMember.__table__,
    ImportKind.DEALS: Deal.__table__,
    ImportKind.INVOICES: Invoice.__table__,
}
"""The table each kind's rows are written to (events go to the Parquet store)."""

_UNIQUE_KEYS = {
    ImportKind.ACCOUNTS: "account_id",
    ImportKind.CONTACTS: "contact_id",
    ImportKind.SUBSCRIPTIONS: "subscription_id",
    ImportKind.TICKETS: "ticket_id",
    ImportKind.SURVEYS: "response_id",
    ImportKind.ACTIVITIES: "activity_id",
    ImportKind.TEAM: "email",
    ImportKind.DEALS: "deal_id",
    ImportKind.INVOICES: "invoice_id",
}


# --- row checks: rules across the cells of one row -------------------------------------------


def _no_checks(table: pa.Table, sink: ProblemSink) -> None:
    return None


def _flag(table: pa.Table, mask: pa.Array, sink: ProblemSink, field: str,
          reason: Callable[[dict[str, Any]], str]) -> None:  # fmt: skip
    """Add a problem for every row where ``mask`` is true (nulls are not flagged)."""
    hits = table.filter(pc.fill_null(mask, False))
    for row in hits.to_pylist():
        sink.add(row["_row"], field, reason(row))


def _check_subscriptions(table: pa.Table, sink: ProblemSink) -> None:
    _flag(table, pc.less_equal(table["end_date"], table["start_date"]), sink, "end_date",
          lambda r: _("end_date must be after start_date ({start}); it is the first day without"
                      " service", start=r["start_date"].isoformat()))  # fmt: skip
    _flag(table, pc.less(table["amount"], 0), sink, "amount",
          lambda r: _("amount must be 0 or more, got {value}", value=r["amount"]))  # fmt: skip
    _flag(table, pc.less(table["billing_period_months"], 1), sink, "billing_period_months",
          lambda r: _("billing_period_months must be 1 or more, got {value}",
                      value=r["billing_period_months"]))  # fmt: skip


def _check_deals(table: pa.Table, sink: ProblemSink) -> None:
    _flag(table, pc.less(table["amount"], 0), sink, "amount",
          lambda r: _("amount must be 0 or more, got {value}", value=r["amount"]))  # fmt: skip


def _check_invoices(table: pa.Table, sink: ProblemSink) -> None:
    for name in ("amount_due", "amount_paid", "attempts"):
        _flag(table, pc.less(table[name], 0), sink, name,
              lambda r, n=name: _("{field} must be 0 or more, got {value}", field=n,
                                  value=r[n]))  # fmt: skip
    _flag(table, pc.less(table["due_date"], table["issued_on"]), sink, "due_date",
          lambda r: _("due_date is before issued_on ({day})",
                      day=r["issued_on"].isoformat()))  # fmt: skip


def _check_surveys(table: pa.Table, sink: ProblemSink) -> None:
    for survey_type, (low, high) in SURVEY_TYPES.items():
        of_type = pc.equal(table["survey_type"], survey_type)
        outside = pc.or_(pc.less(table["score"], low), pc.greater(table["score"], high))
        _flag(table, pc.and_(of_type, outside), sink, "score",
              lambda r, lo=low, hi=high: _("{type} score must be {low}-{high}, got {value}",
                                           type=r["survey_type"].upper(), low=lo, high=hi,
                                           value=r["score"]))  # fmt: skip


def _check_tickets(table: pa.Table, sink: ProblemSink) -> None:
    outside = pc.or_(pc.less(table["csat"], 1), pc.greater(table["csat"], 5))
    _flag(table, outside, sink, "csat",
          lambda r: _("csat must be 1-5, got {value}", value=r["csat"]))  # fmt: skip
    _flag(table, pc.less(table["closed_at"], table["opened_at"]), sink, "closed_at",
          lambda r: _("closed_at is before opened_at"))  # fmt: skip


def _check_contacts(table: pa.Table, sink: ProblemSink) -> None:
    _flag(table, pc.and_(pc.is_null(table["contact_id"]), pc.is_null(table["email"])), sink,
          "contact_id", lambda r: _("give a contact id or an e-mail address"))  # fmt: skip


def _check_attendance(table: pa.Table, sink: ProblemSink) -> None:
    _flag(table, pc.and_(pc.is_null(table["email"]), pc.is_null(table["account_id"])), sink,
          "email", lambda r: _("give the contact's e-mail or the account id"))  # fmt: skip


_ROW_CHECKS: dict[ImportKind, Callable[[pa.Table, ProblemSink], None]] = {
    ImportKind.ATTENDANCE: _check_attendance,
    ImportKind.SUBSCRIPTIONS: _check_subscriptions,
    ImportKind.SURVEYS: _check_surveys,
    ImportKind.TICKETS: _check_tickets,
    ImportKind.CONTACTS: _check_contacts,
    ImportKind.DEALS: _check_deals,
    ImportKind.INVOICES: _check_invoices,
}


@dataclass
class AccountRefs:
    """Banso account ids for the ``account_id`` column of a file of ``source``."""

    ids: dict[str, int | None]
    created: int

    def ids_for(self, table: pa.Table) -> list[int | None]:
        return [self.ids.get(ext) for ext in table["account_id"].to_pylist()]


def account_refs(
    session: Session, ext_ids: pa.Array, names: pa.Array | None, source: str, dry_run: bool
) -> AccountRefs:
    """Resolve each distinct account id (creating unknown accounts named by the name column, or
    by the id when the file has none)."""
    distinct = pa.table({"id": ext_ids, "name": names if names is not None
                         else pa.nulls(len(ext_ids), pa.string())})  # fmt: skip
    firsts = distinct.group_by("id", use_threads=False).aggregate([("name", "first")])
    facts = {
        ext: AccountFacts(name=name)
        for ext, name in zip(
            firsts["id"].to_pylist(), firsts["name_first"].to_pylist(), strict=True
        )  # fmt: skip
    }
    resolved = resolve_accounts(session, source, facts, update_existing=False, dry_run=dry_run)
    return AccountRefs(resolved.ids, resolved.created)
