"""HubSpot CRM v3: owners -> team, companies -> accounts, contacts -> contacts.

Companies and contacts are pulled through the search endpoint filtered on their last
modification time (``hs_lastmodifieddate`` / ``lastmodifieddate`` GT the cursor, ascending),
paged by ``paging.next.after``; owners (a short list with no such filter) are listed in full
and only those updated after the cursor are imported."""

from __future__ import annotations

from typing import Any

from banso.connectors.base import ObjectSync, Pulled, RecordProblem, dig, mapped_row, parse_time
from banso.connectors.http import ApiClient

PAGE = 100


def _millis(value: str) -> int:
    return int(parse_time(value).timestamp() * 1000)


def _search(
    client: ApiClient, object_type: str, modified: str, cursor: str | None, mapping: dict[str, str]
) -> tuple[list[dict[str, Any]], str | None]:
    wanted = {p.split(".", 1)[1] for p in mapping.values() if p.startswith("properties.")}
    properties = sorted(wanted | {modified})
    body: dict[str, Any] = {
        "properties": properties,
        "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
        "limit": PAGE,
    }
    if cursor:
        body["filterGroups"] = [
            {"filters": [{"propertyName": modified, "operator": "GT", "value": cursor}]}
        ]
    records: list[dict[str, Any]] = []
    newest = int(cursor) if cursor else None
    while True:
        page = client.post(f"/crm/v3/objects/{object_type}/search", body)
        for record in page.get("results") or []:
            records.append(record)
            stamp = dig(record, f"properties.{modified}") or record.get("updatedAt")
            if isinstance(stamp, str):
                try:
                    millis = _millis(stamp)
                except ValueError:
                    continue
                newest = millis if newest is None else max(newest, millis)
        after = dig(page, "paging.next.after")
        if not after:
            break
        body["after"] = after
    return records, (str(newest) if newest is not None else cursor)


def owners_by_id(client: ApiClient) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    params: dict[str, Any] = {"limit": PAGE}
    while True:
        page = client.get("/crm/v3/owners", params)
        for owner in page.get("results") or []:
            out[str(owner.get("id"))] = owner
        after = dig(page, "paging.next.after")
        if not after:
            return out
        params = {"limit": PAGE, "after": after}


def _pull_owners(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    pulled = Pulled(cursor=cursor)
    newest = int(cursor) if cursor else None
    for owner_id, owner in owners_by_id(client).items():
        pulled.records_in += 1
        stamp = owner.get("updatedAt")
        millis = _millis(stamp) if isinstance(stamp, str) else None
        if cursor and millis is not None and millis <= int(cursor):
            continue
        if millis is not None:
            newest = millis if newest is None else max(newest, millis)
        if owner.get("archived"):
            pulled.skipped += 1
            continue
        row = mapped_row(owner, mapping)
        if not row.get("name"):
            first, last = owner.get("firstName") or "", owner.get("lastName") or ""
            row["name"] = f"{last} {first}".strip() or None
        if not row.get("email"):
            pulled.problems.append(RecordProblem(owner_id, "email", "the owner has no email"))
            continue
        pulled.add(owner_id, row)
    pulled.cursor = str(newest) if newest is not None else cursor
    return pulled


def _pull_companies(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    records, new_cursor = _search(client, "companies", "hs_lastmodifieddate", cursor, mapping)
    owners = owners_by_id(client) if records and "owner" in mapping else {}
    pulled = Pulled(cursor=new_cursor, records_in=len(records))
    for record in records:
        record_id = str(record.get("id") or "")
        if not record_id:
            pulled.problems.append(RecordProblem("?", "id", "the record has no id"))
            continue
        if record.get("archived"):
            pulled.skipped += 1
            continue
        row = mapped_row(record, mapping)
        if row.get("owner"):
            row["owner"] = (owners.get(row["owner"]) or {}).get("email")
        pulled.add(record_id, row)
    return pulled


def _pull_contacts(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    records, new_cursor = _search(client, "contacts", "lastmodifieddate", cursor, mapping)
    pulled = Pulled(cursor=new_cursor, records_in=len(records))
    for record in records:
        record_id = str(record.get("id") or "")
        row = mapped_row(record, mapping)
        if not row.get("account_id"):
            pulled.skipped += 1  # a contact of no company belongs to no account
            continue
        first, last = dig(record, "properties.firstname"), dig(record, "properties.lastname")
        if not row.get("name") and (first or last):
            row["name"] = " ".join(p for p in (last, first) if p)
        pulled.add(record_id, row)
    return pulled


OBJECTS = (
    ObjectSync("owners", "team", {"email": "email", "name": "name", "team": "teams.0.name"},
               _pull_owners),
    ObjectSync(
        "companies",
        "accounts",
        {"account_id": "id", "name": "properties.name", "domain": "properties.domain",
         "industry": "properties.industry", "employee_count": "properties.numberofemployees",
         "owner": "properties.hubspot_owner_id"},
        _pull_companies,
    ),
    ObjectSync(
        "contacts",
        "contacts",
        {"contact_id": "id", "account_id": "properties.associatedcompanyid",
         "email": "properties.email", "phone": "properties.phone",
         "language": "properties.hs_language", "name": "properties.fullname"},
        _pull_contacts,
    ),
)  # fmt: skip


def headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def check(client: ApiClient) -> str:
    page = client.get("/crm/v3/owners", {"limit": 1})
    return f"{len(page.get('results') or [])} owner(s) readable"


def write_back(client: ApiClient, external_id: str, values: dict[str, str]) -> None:
    client.patch(f"/crm/v3/objects/companies/{external_id}", {"properties": values})
