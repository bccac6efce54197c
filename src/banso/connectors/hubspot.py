"""HubSpot CRM v3: owners -> team, companies -> accounts, contacts -> contacts, deals -> deals.

Companies, contacts and deals are pulled through the search endpoint filtered on their last
modification time (``hs_lastmodifieddate`` / ``lastmodifieddate`` GT the cursor, ascending),
paged by ``paging.next.after``; owners (a short list with no such filter) are listed in full
and only those updated after the cursor are imported.

A deal's account is its primary company (association type 5, else the first company), read for
the pulled deals in batches from the v4 associations API (the search answers no associations);
a deal of no company is skipped, like a contact of none. Its status is ``won`` when
``hs_is_closed_won`` (or the default pipeline's ``closedwon`` stage), ``lost`` when
``hs_is_closed`` without a win (or ``closedlost``), else ``open``; its ``amount``, written in the
deal currency's major unit, is stored in the minor unit (``12000.50`` USD -> 1200050); its
``closedate`` becomes the company's calendar day."""

from __future__ import annotations

from typing import Any

from banso.connectors.base import (
    ObjectSync,
    Pulled,
    RecordProblem,
    company_date,
    dig,
    mapped_row,
    minor_amount,
    parse_time,
)
from banso.connectors.http import ApiClient
from banso.i18n import _

PAGE = 100
ASSOCIATION_BATCH = 100
PRIMARY_DEAL_TO_COMPANY = 5
"""HubSpot's association type id of a deal's primary company."""
DEAL_STATUS_PROPERTIES = ("dealstage", "hs_is_closed", "hs_is_closed_won")


def _millis(value: str) -> int:
    return int(parse_time(value).timestamp() * 1000)


def _search(
    client: ApiClient, object_type: str, modified: str, cursor: str | None, mapping: dict[str, str],
    extra: tuple[str, ...] = (),
) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
    wanted = {p.split(".", 1)[1] for p in mapping.values() if p.startswith("properties.")}
    properties = sorted(wanted | {modified, *extra})
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


def deal_companies(client: ApiClient, deal_ids: list[str]) -> dict[str, str]:
    """Deal id -> its primary company's id (else its first company), for deals that have one."""
    out: dict[str, str] = {}
    for start in range(0, len(deal_ids), ASSOCIATION_BATCH):
        chunk = deal_ids[start : start + ASSOCIATION_BATCH]
        page = client.post("/crm/v4/associations/deals/companies/batch/read",
                           {"inputs": [{"id": d} for d in chunk]})  # fmt: skip
        for result in page.get("results") or []:
            deal_id = str(dig(result, "from.id") or "")
            companies = [t for t in result.get("to") or [] if t.get("toObjectId") is not None]
            if not deal_id or not companies:
                continue
            primary = [t for t in companies if any(
                a.get("typeId") == PRIMARY_DEAL_TO_COMPANY for a in t.get("associationTypes") or []
            )]  # fmt: skip
            out[deal_id] = str((primary or companies)[0]["toObjectId"])
    return out


def _deal_status(record: dict[str, Any]) -> str:
    stage = str(dig(record, "properties.dealstage") or "")
    won = str(dig(record, "properties.hs_is_closed_won") or "").lower() == "true"
    closed = str(dig(record, "properties.hs_is_closed") or "").lower() == "true"
    if won or stage == "closedwon":
        return "won"
    if closed or stage == "closedlost":
        return "lost"
    return "open"


def _pull_deals(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    records, new_cursor = _search(client, "deals", "hs_lastmodifieddate", cursor, mapping,
                                  DEAL_STATUS_PROPERTIES)  # fmt: skip
    pulled = Pulled(cursor=new_cursor, records_in=len(records))
    live = [r for r in records if r.get("id") and not r.get("archived")]
    companies = deal_companies(client, [str(r["id"]) for r in live]) if live else {}
    owners = owners_by_id(client) if live and "owner" in mapping else {}
    for record in records:
        record_id = str(record.get("id") or "")
        if not record_id:
            pulled.problems.append(RecordProblem("?", "id", _("the record has no id")))
            continue
        if record.get("archived"):
            pulled.skipped += 1
            continue
        row = mapped_row(record, mapping)
        row["account_id"] = row.get("account_id") or companies.get(record_id)
        if not row["account_id"]:
            pulled.skipped += 1  # a deal of no company belongs to no account
            continue
        row["status"] = _deal_status(record)
        if row.get("owner"):
            row["owner"] = (owners.get(row["owner"]) or {}).get("email")
        if row.get("close_date"):
            try:
                row["close_date"] = company_date(parse_time(row["close_date"])).isoformat()
            except ValueError:
                pulled.problems.append(RecordProblem(record_id, mapping["close_date"],
                    _("not a date: {value}", value=row["close_date"])))  # fmt: skip
                continue
        if row.get("amount") is not None:
            try:
                row["amount"] = minor_amount(row["amount"], row.get("currency"))
            except ValueError as exc:
                pulled.problems.append(RecordProblem(record_id, mapping["amount"], str(exc)))
                continue
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
    ObjectSync(
        "deals",
        "deals",
        {"deal_id": "id", "name": "properties.dealname", "stage": "properties.dealstage",
         "amount": "properties.amount", "currency": "properties.deal_currency_code",
         "close_date": "properties.closedate", "deal_type": "properties.dealtype",
         "owner": "properties.hubspot_owner_id"},
        _pull_deals,
    ),
)  # fmt: skip


def headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def check(client: ApiClient) -> str:
    page = client.get("/crm/v3/owners", {"limit": 1})
    return f"{len(page.get('results') or [])} owner(s) readable"


def write_back(client: ApiClient, external_id: str, values: dict[str, str]) -> None:
    client.patch(f"/crm/v3/objects/companies/{external_id}", {"properties": values})
