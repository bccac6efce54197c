"""``banso handoff import FILE``: handoffs from a CRM export (CSV in UTF-8 or Shift_JIS, .xlsx or
Parquet, read by ``ingest.readers``), all or nothing.

Columns (English or Japanese headers; case and spaces ignored):

| field | headers |
| --- | --- |
| account | ``account_id`` / ``顧客ID`` (Banso's id), or ``external_id`` / ``CRM顧客ID`` |
|         | (the account's id in the ``--source`` system, e.g. a Salesforce account id) |
| promised outcome | ``promised_outcome`` / ``約束した成果`` |
| stakeholders | ``stakeholders`` / ``関係者`` |
| deal notes | ``deal_notes`` / ``商談メモ`` |
| sales owner | ``sales_owner`` / ``営業担当`` |

Every problem is reported as ``FILE:ROW:COLUMN: reason`` and nothing is written; otherwise each
row sets that account's handoff (only the columns the file has; audited ``handoff.set``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, AccountIdentity
from banso.errors import ImportProblem
from banso.i18n import _
from banso.ingest.batches import rejected
from banso.ingest.readers import open_source
from banso.success.handoff import MAX_TEXT, set_handoff

HEADERS = {
    "account_id": ("account_id", "顧客id"),
    "external_id": ("external_id", "crm顧客id", "crm_account_id"),
    "promised_outcome": ("promised_outcome", "約束した成果"),
    "stakeholders": ("stakeholders", "関係者"),
    "deal_notes": ("deal_notes", "商談メモ"),
    "sales_owner": ("sales_owner", "営業担当"),
}
TEXT_FIELDS = ("promised_outcome", "stakeholders", "deal_notes", "sales_owner")


def import_handoffs(session: Session, path: Path, source: str = "crm") -> int:
    """Set the handoff of every row's account; returns the rows imported."""
    opened = open_source(path)
    name = path.name
    columns = _columns(opened.headers, name)
    problems: list[ImportProblem] = []
    rows: list[tuple[int, dict[str, str | None]]] = []
    for batch in opened.batches:
        texts = {header: batch.columns[header].to_pylist() for header in columns.values()}
        for i, row_number in enumerate(batch.rows.to_pylist()):
            cell = {field: texts[header][i] for field, header in columns.items()}
            account_id = _account(session, cell, columns, source, name, row_number, problems)
            values = {f: (cell.get(f) or "").strip() for f in TEXT_FIELDS if f in columns}
            for field, text in values.items():
                if len(text) > MAX_TEXT:
                    reason = _("longer than {n} characters", n=MAX_TEXT)
                    problems.append(ImportProblem(name, row_number, columns[field], reason))
            if account_id is not None:
                rows.append((account_id, {k: v or None for k, v in values.items()}))
    if problems:
        raise rejected(problems)
    for account_id, values in rows:
        set_handoff(session, account_id, source=source,
                    **{k: v if v is not None else "" for k, v in values.items()})  # fmt: skip
    return len(rows)


def _columns(headers: list[str], name: str) -> dict[str, str]:
    """field -> the header as written in the file."""
    found: dict[str, str] = {}
    for header in headers:
        key = "".join(header.split()).lower()
        for field, aliases in HEADERS.items():
            if key in aliases:
                found[field] = header
    if "account_id" not in found and "external_id" not in found:
        reason = _("a column account_id or external_id is required")
        raise rejected([ImportProblem(name, 1, "account_id", reason)])
    if not any(f in found for f in TEXT_FIELDS):
        raise rejected([ImportProblem(name, 1, "promised_outcome",
                                      _("no handoff column (promised_outcome, stakeholders, "
                                        "deal_notes, sales_owner)"))])  # fmt: skip
    return found


def _account(
    session: Session,
    cell: dict[str, str | None],
    columns: dict[str, str],
    source: str,
    name: str,
    row: int,
    problems: list[ImportProblem],
) -> int | None:
    own = (cell.get("account_id") or "").strip()
    external = (cell.get("external_id") or "").strip()
    if own:
        if not own.isdigit() or session.get(Account, int(own)) is None:
            problems.append(ImportProblem(name, row, columns["account_id"],
                                          _("no account with id {id}", id=own)))  # fmt: skip
            return None
        return int(own)
    if external:
        found = session.scalar(
            select(AccountIdentity.account_id).where(
                AccountIdentity.source == source, AccountIdentity.external_id == external
            )
        )
        if found is None:
            problems.append(ImportProblem(name, row, columns["external_id"],
                                          _("no account known as {id} in {source}", id=external,
                                            source=source)))  # fmt: skip
        return found
    column = columns.get("account_id") or columns["external_id"]
    problems.append(ImportProblem(name, row, column, _("the account is missing")))
    return None
