"""Salesforce REST API (SOQL): User -> team, Account -> accounts, Contact -> contacts,
Opportunity -> deals, Contract -> contract lines (subscriptions).

Each object is queried for rows whose ``SystemModstamp`` is after the cursor, ordered by it,
following ``nextRecordsUrl``; the cursor is the newest ``SystemModstamp`` seen.

An Opportunity's status is ``won`` when ``IsWon``, ``lost`` when ``IsClosed`` without a win,
else ``open``; one of no account is skipped. Amounts (``Amount``, a Contract's mapped amount)
are written in the currency's major unit and stored in its minor unit; the currency is the
reporting currency unless the mapping names one (``currency: CurrencyIsoCode`` in a
multi-currency org; the field does not exist in others, so it is not asked for by default).

A Contract is a contract line as the spec counts MRR: ``start_date`` = ``StartDate``,
``end_date`` (the first day without service) = the day after ``EndDate``,
``billing_period_months`` = ``ContractTerm`` unless mapped to a billing-period field, and
``amount`` = the price per that period. Salesforce's Contract has no amount field, so the object
is synced only once the mapping names one (``Contract: {amount: Amount__c}``). Drafts and
contracts in approval (``StatusCode`` ``Draft``, ``InApproval``) are skipped: not in force."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from banso.connectors.base import (
    ObjectSync,
    Pulled,
    RecordProblem,
    mapped_row,
    minor_amount,
    parse_time,
)
from banso.connectors.http import ApiClient
from banso.i18n import _

API = "/services/data/v60.0"
NOT_IN_FORCE = {"Draft", "InApproval"}

Shape = Callable[[dict[str, Any], dict[str, str | None], dict[str, str]], RecordProblem | bool]
"""Finish a row from its record and the object's mapping: True to import it, False to skip it,
or the record's problem."""


def _query(client: ApiClient, sobject: str, fields: list[str], cursor: str | None,
           where: str = "") -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
    columns = ", ".join(sorted({"Id", "SystemModstamp", *fields}))
    conditions = [c for c in (where, f"SystemModstamp > {cursor}" if cursor else "") if c]
    soql = f"SELECT {columns} FROM {sobject}"
    if conditions:
        soql += " WHERE " + " AND ".join(conditions)
    soql += " ORDER BY SystemModstamp ASC"
    page = client.get(f"{API}/query", {"q": soql})
    records: list[dict[str, Any]] = []
    newest = cursor
    while True:
        for record in page.get("records") or []:
            records.append(record)
            stamp = record.get("SystemModstamp")
            if stamp:
                iso = parse_time(stamp).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                newest = iso if newest is None or iso > newest else newest
        if page.get("done", True) or not page.get("nextRecordsUrl"):
            return records, newest
        page = client.get(page["nextRecordsUrl"])


def _puller(
    sobject: str, where: str = "", skip_without: str | None = None,
    always: tuple[str, ...] = (), shape: Shape | None = None,
) -> Callable[[ApiClient, str | None, dict[str, str]], Pulled]:  # fmt: skip
    def pull(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
        # relationship fields (Owner.Email) as written
        fields = sorted(set(mapping.values()) | set(always))
        records, new_cursor = _query(client, sobject, fields, cursor, where)
        pulled = Pulled(cursor=new_cursor, records_in=len(records))
        for record in records:
            record_id = str(record["Id"])
            row = mapped_row(record, mapping)
            if skip_without and not row.get(skip_without):
                pulled.skipped += 1
                continue
            verdict = shape(record, row, mapping) if shape else True
            if isinstance(verdict, RecordProblem):
                pulled.problems.append(verdict)
            elif verdict:
                pulled.add(record_id, row)
            else:
                pulled.skipped += 1
        return pulled

    return pull


def _amount(record: dict[str, Any], row: dict[str, str | None],
            mapping: dict[str, str]) -> RecordProblem | None:  # fmt: skip
    if row.get("amount") is None:
        return None
    try:
        row["amount"] = minor_amount(row["amount"], row.get("currency"))
    except ValueError as exc:
        return RecordProblem(str(record["Id"]), mapping["amount"], str(exc))
    return None


def _opportunity(record: dict[str, Any], row: dict[str, str | None],
                 mapping: dict[str, str]) -> RecordProblem | bool:  # fmt: skip
    row["status"] = "won" if record.get("IsWon") else "lost" if record.get("IsClosed") else "open"
    return _amount(record, row, mapping) or True


def _contract(record: dict[str, Any], row: dict[str, str | None],
              mapping: dict[str, str]) -> RecordProblem | bool:  # fmt: skip
    if record.get("StatusCode") in NOT_IN_FORCE:
        return False
    if not row.get("billing_period_months"):  # the importer would read a missing one as 1
        return RecordProblem(str(record["Id"]), mapping["billing_period_months"],
                             _("the contract has no term in months"))  # fmt: skip
    if row.get("end_date"):
        try:
            last = date.fromisoformat(str(row["end_date"]))
        except ValueError:
            return RecordProblem(str(record["Id"]), "EndDate",
                                 _("not a date: {value}", value=row["end_date"]))  # fmt: skip
        row["end_date"] = (last + timedelta(days=1)).isoformat()
    return _amount(record, row, mapping) or True


OBJECTS = (
    ObjectSync("User", "team", {"name": "Name", "email": "Email"},
               _puller("User", "IsActive = true")),
    ObjectSync("Account", "accounts",
               {"account_id": "Id", "name": "Name", "domain": "Website", "industry": "Industry",
                "employee_count": "NumberOfEmployees", "owner": "Owner.Email"},
               _puller("Account")),
    ObjectSync("Contact", "contacts",
               {"contact_id": "Id", "account_id": "AccountId", "name": "Name", "email": "Email",
                "phone": "Phone"}, _puller("Contact", skip_without="account_id")),
    ObjectSync("Opportunity", "deals",
               {"deal_id": "Id", "account_id": "AccountId", "name": "Name",
                "stage": "StageName", "amount": "Amount", "close_date": "CloseDate",
                "deal_type": "Type", "owner": "Owner.Email"},
               _puller("Opportunity", skip_without="account_id", always=("IsClosed", "IsWon"),
                       shape=_opportunity)),
    ObjectSync("Contract", "subscriptions",
               {"subscription_id": "Id", "account_id": "AccountId", "start_date": "StartDate",
                "end_date": "EndDate", "billing_period_months": "ContractTerm"},
               _puller("Contract", skip_without="account_id", always=("StatusCode",),
                       shape=_contract), requires=("amount",)),
)  # fmt: skip


def headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def check(client: ApiClient) -> str:
    client.get(f"{API}/limits")
    return "limits readable"


def write_back(client: ApiClient, external_id: str, values: dict[str, str]) -> None:
    client.patch(f"{API}/sobjects/Account/{external_id}", values)
