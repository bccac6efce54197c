"""A local HTTP server answering in the shapes of the vendors' published API references
(HubSpot CRM v3, Stripe, Zendesk Support, Salesforce REST), from an in-memory world a test
edits between syncs; faults (429 with Retry-After, 500) are queued per path."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE = 2
"""Every list answers at most two records a page, so every sync pages."""


def iso_ms(moment: datetime) -> str:
    millis = f"{moment.microsecond // 1000:03d}"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"


@dataclass
class World:
    hubspot_owners: list[dict[str, Any]] = field(default_factory=list)
    hubspot_companies: list[dict[str, Any]] = field(default_factory=list)
    hubspot_contacts: list[dict[str, Any]] = field(default_factory=list)
    hubspot_deals: list[dict[str, Any]] = field(default_factory=list)
    hubspot_deal_companies: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """Deal id -> its companies as (company id, association type id; 5 = primary)."""
    stripe_customers: list[dict[str, Any]] = field(default_factory=list)
    stripe_subscriptions: list[dict[str, Any]] = field(default_factory=list)
    stripe_events: list[dict[str, Any]] = field(default_factory=list)
    stripe_invoices: list[dict[str, Any]] = field(default_factory=list)
    zendesk_organizations: list[dict[str, Any]] = field(default_factory=list)
    zendesk_users: list[dict[str, Any]] = field(default_factory=list)
    zendesk_tickets: list[dict[str, Any]] = field(default_factory=list)
    zendesk_ratings: list[dict[str, Any]] = field(default_factory=list)
    salesforce: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    salesforce_queries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """A query's rows by its locator, as the real service keeps them for ``nextRecordsUrl``."""
    faults: dict[str, list[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    requests: list[tuple[str, str, dict[str, list[str]], Any]] = field(default_factory=list)
    authorization: list[str] = field(default_factory=list)

    def stripe_event(self, kind: str, obj: dict[str, Any], created: int) -> None:
        self.stripe_events.insert(0, {"id": f"evt_{len(self.stripe_events) + 1}",
                                      "object": "event", "type": kind, "created": created,
                                      "data": {"object": obj}})  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    world: World
    base: str

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        w = self.world
        w.requests.append((method, parts.path, query, body))
        w.authorization.append(self.headers.get("Authorization", ""))
        if w.faults.get(parts.path):
            status, headers = w.faults[parts.path].pop(0)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            return
        status, payload = route(w, method, parts.path, query, body, self.base)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _q(query: dict[str, list[str]], key: str, default: str | None = None) -> str | None:
    return query.get(key, [default])[0]


def _hubspot_search(records: list[dict[str, Any]], modified: str, body: dict[str, Any]) -> Any:
    rows = sorted(records, key=lambda r: r["properties"][modified])
    for group in body.get("filterGroups") or []:
        for f in group["filters"]:
            assert f["operator"] == "GT"
            since = int(f["value"])
            rows = [r for r in rows if _millis(r["properties"][modified]) > since]
    start = int(body.get("after") or 0)
    page = rows[start:start + PAGE]
    out: dict[str, Any] = {"total": len(rows), "results": [
        {**r, "properties": {k: v for k, v in r["properties"].items()
                             if k in body["properties"] or k == modified}} for r in page]}
    if start + PAGE < len(rows):
        out["paging"] = {"next": {"after": str(start + PAGE)}}
    return out


def _millis(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def _stripe_list(rows: list[dict[str, Any]], query: dict[str, list[str]], url: str) -> Any:
    after = _q(query, "starting_after")
    if after:
        index = next(i for i, r in enumerate(rows) if r["id"] == after) + 1
        rows = rows[index:]
    page = rows[:PAGE]
    return {"object": "list", "url": url, "has_more": len(rows) > PAGE, "data": page}


def route(w: World, method: str, path: str, query: dict[str, list[str]], body: Any,
          base: str) -> tuple[int, Any]:  # fmt: skip
    # --- HubSpot
    if path == "/crm/v3/owners":
        start = int(_q(query, "after", "0") or 0)
        out: dict[str, Any] = {"results": w.hubspot_owners[start:start + PAGE]}
        if start + PAGE < len(w.hubspot_owners):
            out["paging"] = {"next": {"after": str(start + PAGE)}}
        return 200, out
    if path == "/crm/v3/objects/companies/search":
        return 200, _hubspot_search(w.hubspot_companies, "hs_lastmodifieddate", body)
    if path == "/crm/v3/objects/contacts/search":
        return 200, _hubspot_search(w.hubspot_contacts, "lastmodifieddate", body)
    if path == "/crm/v3/objects/deals/search":
        return 200, _hubspot_search(w.hubspot_deals, "hs_lastmodifieddate", body)
    if path == "/crm/v4/associations/deals/companies/batch/read":
        assert len(body["inputs"]) <= 1000
        results, errors = [], []
        for wanted in body["inputs"]:
            links = w.hubspot_deal_companies.get(str(wanted["id"]))
            if not links:  # the reference answers 207 and names the ids with no association
                errors.append({"status": "error", "category": "OBJECT_NOT_FOUND",
                               "message": f"No company is associated with deal {wanted['id']}",
                               "context": {"fromObjectId": [str(wanted["id"])]}})  # fmt: skip
                continue
            results.append({"from": {"id": str(wanted["id"])}, "to": [
                {"toObjectId": int(cid), "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": type_id,
                     "label": "Primary" if type_id == 5 else None}]}
                for cid, type_id in links]})  # fmt: skip
        out = {"status": "COMPLETE", "results": results, "startedAt": "2026-11-02T09:00:00Z",
               "completedAt": "2026-11-02T09:00:01Z"}  # fmt: skip
        if errors:
            out.update(numErrors=len(errors), errors=errors)
        return (207 if errors else 200), out
    if path.startswith("/crm/v3/objects/companies/") and method == "PATCH":
        return 200, {"id": path.rsplit("/", 1)[1], "properties": body["properties"]}
    # --- Stripe
    if path == "/v1/customers":
        return 200, _stripe_list(w.stripe_customers, query, path)
    if path == "/v1/subscriptions":
        assert _q(query, "status") == "all"
        return 200, _stripe_list(w.stripe_subscriptions, query, path)
    if path == "/v1/invoices":
        return 200, _stripe_list(w.stripe_invoices, query, path)
    if path == "/v1/events":
        rows = w.stripe_events
        since = _q(query, "created[gt]")
        if since is not None:
            rows = [e for e in rows if e["created"] > int(since)]
        if _q(query, "limit") == "1":
            return 200, {"object": "list", "has_more": len(rows) > 1, "data": rows[:1]}
        return 200, _stripe_list(rows, query, path)
    # --- Zendesk
    for key, rows in (("organizations", w.zendesk_organizations), ("users", w.zendesk_users)):
        if path == f"/api/v2/incremental/{key}.json":
            start = int(_q(query, "start_time", "0") or 0)
            offset = int(_q(query, "offset", "0") or 0)
            chosen = sorted((r for r in rows if r["_ts"] >= start), key=lambda r: r["_ts"])
            page = chosen[offset:offset + PAGE]
            end = offset + PAGE >= len(chosen)
            out = {key: [{k: v for k, v in r.items() if k != "_ts"} for r in page],
                   "count": len(page), "end_of_stream": end,
                   "end_time": (max(r["_ts"] for r in chosen) + 1) if chosen else start,
                   "next_page": None if end else
                   f"{base}{path}?start_time={start}&offset={offset + PAGE}"}  # fmt: skip
            return 200, out
    if path == "/api/v2/incremental/tickets/cursor.json":
        cursor = _q(query, "cursor")
        start = int(cursor.split("-")[0]) if cursor else int(_q(query, "start_time", "0") or 0)
        offset = int(cursor.split("-")[1]) if cursor else 0
        chosen = sorted((t for t in w.zendesk_tickets if t["_ts"] >= start), key=lambda t: t["_ts"])
        page = chosen[offset:offset + PAGE]
        end = offset + PAGE >= len(chosen)
        after = (f"{start}-{offset + PAGE}" if not end else
                 f"{max(t['_ts'] for t in chosen) + 1 if chosen else start}-0")  # fmt: skip
        return 200, {"tickets": [{k: v for k, v in t.items() if k != "_ts"} for t in page],
                     "after_cursor": after, "end_of_stream": end,
                     "after_url": f"{base}{path}?cursor={after}"}  # fmt: skip
    if path == "/api/v2/satisfaction_ratings.json":
        start = int(_q(query, "start_time", "0") or 0)
        after = int(_q(query, "page[after]", "0") or 0)
        chosen = [r for r in w.zendesk_ratings
                  if int(datetime.fromisoformat(r["created_at"].replace("Z", "+00:00"))
                         .timestamp()) >= start]  # fmt: skip
        page = chosen[after:after + PAGE]
        more = after + PAGE < len(chosen)
        return 200, {"satisfaction_ratings": page, "meta": {"has_more": more},
                     "links": {"next": f"{base}{path}?start_time={start}&page[after]="
                               f"{after + PAGE}" if more else None}}  # fmt: skip
    if path == "/api/v2/users/me.json":
        return 200, {"user": {"id": 1, "role": "admin"}}
    # --- Salesforce
    if path.startswith("/services/data/v60.0/query"):
        if path.endswith("/query"):
            soql = _q(query, "q") or ""
            sobject = soql.split(" FROM ")[1].split()[0]
            rows = sorted(w.salesforce.get(sobject, []), key=lambda r: r["SystemModstamp"])
            if " SystemModstamp > " in soql:
                since = soql.split("SystemModstamp > ")[1].split()[0]
                rows = [r for r in rows if r["SystemModstamp"] > since]
            locator = f"{sobject}{len(w.salesforce_queries) + 1:04d}"
            w.salesforce_queries[locator] = rows
            offset = 0
        else:  # the query's rows as they were when it ran, remembered by its locator
            locator, offset_text = path.rsplit("/", 1)[1].split("-")
            rows = w.salesforce_queries[locator]
            offset = int(offset_text)
        page = rows[offset:offset + PAGE]
        done = offset + PAGE >= len(rows)
        return 200, {"totalSize": len(rows), "done": done, "records": page,
                     "nextRecordsUrl": None if done else
                     f"/services/data/v60.0/query/{locator}-{offset + PAGE}"}  # fmt: skip
    if path == "/services/data/v60.0/limits":
        return 200, {"DailyApiRequests": {"Max": 15000, "Remaining": 14990}}
    if path.startswith("/services/data/v60.0/sobjects/Account/") and method == "PATCH":
        return 204, {}
    return 404, [{"errorCode": "NOT_FOUND", "message": path}]


@contextmanager
def serve(world: World) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    handler = type("H", (_Handler,), {"world": world, "base": base})
    server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
