"""Salesforce REST API (SOQL): User -> team, Account -> accounts, Contact -> contacts.

Each object is queried for rows whose ``SystemModstamp`` is after the cursor, ordered by it,
following ``nextRecordsUrl``; the cursor is the newest ``SystemModstamp`` seen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from banso.connectors.base import ObjectSync, Pulled, mapped_row, parse_time
from banso.connectors.http import ApiClient

API = "/services/data/v60.0"


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
    sobject: str, where: str = "", skip_without: str | None = None
) -> Callable[[ApiClient, str | None, dict[str, str]], Pulled]:
    def pull(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
        fields = sorted(set(mapping.values()))  # relationship fields (Owner.Email) as written
        records, new_cursor = _query(client, sobject, fields, cursor, where)
        pulled = Pulled(cursor=new_cursor, records_in=len(records))
        for record in records:
            row = mapped_row(record, mapping)
            if skip_without and not row.get(skip_without):
                pulled.skipped += 1
                continue
            pulled.add(str(record["Id"]), row)
        return pulled

    return pull


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
)  # fmt: skip


def headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def check(client: ApiClient) -> str:
    client.get(f"{API}/limits")
    return "limits readable"


def write_back(client: ApiClient, external_id: str, values: dict[str, str]) -> None:
    client.patch(f"{API}/sobjects/Account/{external_id}", values)
