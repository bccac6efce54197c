"""Stripe: customers -> accounts, subscription items -> contract lines (subscriptions).

The first sync lists every customer and subscription (``status=all``), paged by
``starting_after``; it stores as cursor the creation time of the newest event at that moment.
Later syncs read only the events created after the cursor (``/v1/events``, newest first) and
take the newest snapshot of each customer or subscription they carry.

Each subscription item is one contract line, as the spec counts MRR: ``amount`` = the price's
``unit_amount`` x ``quantity`` per billing period, in the currency's minor unit as Stripe keeps
it; ``billing_period_months`` = the price's interval (month x count, year x 12 x count; day and
week intervals are not whole months and are rejected, naming the record); ``start_date`` = the
day paying starts (the trial's end when there is a trial); ``end_date`` = the first day without
service: the day it ended, or for ``cancel_at_period_end`` the end of the current period, or
``cancel_at``."""

from __future__ import annotations

from typing import Any

from banso.connectors.base import (
    ObjectSync,
    Pulled,
    RecordProblem,
    company_date,
    dig,
    from_epoch,
    mapped_row,
)
from banso.connectors.http import ApiClient

PAGE = 100
SKIPPED_STATUSES = {"incomplete", "incomplete_expired"}


def _list_all(client: ApiClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    query = {"limit": PAGE, **params}
    while True:
        page = client.get(path, query)
        data = page.get("data") or []
        out.extend(data)
        if not page.get("has_more") or not data:
            return out
        query = {**query, "starting_after": data[-1]["id"]}


def _changed(
    client: ApiClient, cursor: str | None, list_path: str, list_params: dict[str, Any],
    prefixes: tuple[str, ...], object_name: str,
) -> tuple[list[dict[str, Any]], str | None]:
    """The objects to import and the cursor after them (see the module's docstring)."""
    if cursor is None:
        newest = client.get("/v1/events", {"limit": 1}).get("data") or []
        mark = str(newest[0]["created"]) if newest else "0"
        return _list_all(client, list_path, list_params), mark
    events = _list_all(client, "/v1/events", {"created[gt]": cursor})
    latest: dict[str, dict[str, Any]] = {}
    mark = int(cursor)
    for event in events:  # newest first
        mark = max(mark, int(event.get("created") or 0))
        if not str(event.get("type", "")).startswith(prefixes):
            continue
        obj = dig(event, "data.object") or {}
        if obj.get("object") != object_name or not obj.get("id"):
            continue
        latest.setdefault(obj["id"], obj)
    return list(latest.values()), str(mark)


def _pull_customers(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    records, new_cursor = _changed(client, cursor, "/v1/customers", {}, ("customer.",),
                                   "customer")  # fmt: skip
    pulled = Pulled(cursor=new_cursor, records_in=len(records))
    for record in records:
        if record.get("deleted"):
            pulled.skipped += 1
            continue
        pulled.add(str(record["id"]), mapped_row(record, mapping))
    return pulled


def _months(price: dict[str, Any]) -> int | None:
    interval = dig(price, "recurring.interval")
    count = int(dig(price, "recurring.interval_count") or 1)
    if interval == "month":
        return count
    if interval == "year":
        return 12 * count
    return None


def _pull_subscriptions(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    records, new_cursor = _changed(client, cursor, "/v1/subscriptions", {"status": "all"},
                                   ("customer.subscription.",), "subscription")  # fmt: skip
    pulled = Pulled(cursor=new_cursor, records_in=len(records))
    for sub in records:
        sub_id = str(sub.get("id"))
        if sub.get("status") in SKIPPED_STATUSES:
            pulled.skipped += 1  # never paid: no contract
            continue
        start = sub.get("start_date")
        if sub.get("trial_end") and (start is None or sub["trial_end"] > start):
            start = sub["trial_end"]
        customer = sub.get("customer")
        if isinstance(customer, dict):
            customer = customer.get("id")
        for item in dig(sub, "items.data") or []:
            item_id = str(item.get("id") or sub_id)
            price = item.get("price") or item.get("plan") or {}
            months = _months(price)
            if months is None:
                interval = dig(price, "recurring.interval") or dig(price, "interval") or "?"
                pulled.problems.append(RecordProblem(item_id, "price.recurring.interval",
                    f"a {interval} interval is not a whole number of months"))  # fmt: skip
                continue
            unit = price.get("unit_amount")
            if unit is None or not str(unit).lstrip("-").isdigit():
                pulled.problems.append(RecordProblem(item_id, "price.unit_amount",
                                                     "the price has no unit amount"))  # fmt: skip
                continue
            end = _end(sub, item)
            row = mapped_row({"subscription": sub, "item": item}, mapping)
            row.update(
                account_id=str(customer) if customer else None,
                subscription_id=item_id,
                start_date=company_date(from_epoch(start)).isoformat() if start else None,
                end_date=company_date(from_epoch(end)).isoformat() if end else None,
                amount=str(int(unit) * int(item.get("quantity") or 1)),
                currency=str(price.get("currency") or "").upper() or None,
                billing_period_months=str(months),
            )
            if row["end_date"] and row["start_date"] and row["end_date"] <= row["start_date"]:
                pulled.skipped += 1  # cancelled during its trial: never paid, no contract line
                continue
            pulled.add(item_id, row)
    return pulled


def _end(sub: dict[str, Any], item: dict[str, Any]) -> int | None:
    if sub.get("ended_at"):
        return int(sub["ended_at"])
    if sub.get("cancel_at_period_end"):
        period_end = sub.get("current_period_end") or item.get("current_period_end")
        return int(period_end) if period_end else None
    if sub.get("cancel_at"):
        return int(sub["cancel_at"])
    return None


OBJECTS = (
    ObjectSync("customers", "accounts",
               {"account_id": "id", "name": "name", "email": "email"}, _pull_customers),
    ObjectSync("subscriptions", "subscriptions",
               {"plan": "item.price.nickname"}, _pull_subscriptions),
)  # fmt: skip


def headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def check(client: ApiClient) -> str:
    client.get("/v1/customers", {"limit": 1})
    return "customers readable"
