"""Zendesk Support: organizations -> accounts, end users -> contacts, tickets -> tickets,
satisfaction ratings -> CSAT survey answers (good 5, bad 1).

Organizations and users come from the time-based incremental exports (cursor: the export's
``end_time``), tickets from the cursor-based incremental export (cursor: ``after_cursor``),
satisfaction ratings from their list filtered by ``start_time`` with cursor pagination."""

from __future__ import annotations

import base64
from typing import Any

from banso.connectors.base import ObjectSync, Pulled, RecordProblem, mapped_row, parse_time
from banso.connectors.http import ApiClient

STATUSES = {"new": "open", "open": "open", "pending": "pending", "hold": "pending",
            "solved": "solved", "closed": "closed"}  # fmt: skip
PRIORITIES = {"low": "low", "normal": "normal", "high": "high", "urgent": "high"}
RATING_SCORES = {"good": 5, "bad": 1}


def _time_export(
    client: ApiClient, path: str, key: str, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    page = client.get(path, {"start_time": cursor or "0"})
    records: list[dict[str, Any]] = []
    end_time = cursor
    while True:
        records.extend(page.get(key) or [])
        if page.get("end_time") is not None:
            end_time = str(page["end_time"])
        if page.get("end_of_stream", True) or not page.get("next_page"):
            return records, end_time
        page = client.get(page["next_page"])


def _pull_organizations(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    records, new_cursor = _time_export(client, "/api/v2/incremental/organizations.json",
                                       "organizations", cursor)  # fmt: skip
    pulled = Pulled(cursor=new_cursor, records_in=len(records))
    for record in records:
        if record.get("deleted_at"):
            pulled.skipped += 1
            continue
        pulled.add(str(record.get("id")), mapped_row(record, mapping))
    return pulled


def _pull_users(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    records, new_cursor = _time_export(client, "/api/v2/incremental/users.json", "users", cursor)
    pulled = Pulled(cursor=new_cursor, records_in=len(records))
    for record in records:
        if record.get("role") not in (None, "end-user") or not record.get("organization_id"):
            pulled.skipped += 1  # agents are not customers; an end user of no organization
            continue
        row = mapped_row(record, mapping)
        locale = (record.get("locale") or "").lower()
        row["language"] = "ja" if locale.startswith("ja") else "en" if locale else None
        pulled.add(str(record.get("id")), row)
    return pulled


def _pull_tickets(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    path = "/api/v2/incremental/tickets/cursor.json"
    page = client.get(path, {"cursor": cursor} if cursor else {"start_time": "0"})
    pulled = Pulled(cursor=cursor)
    while True:
        for record in page.get("tickets") or []:
            pulled.records_in += 1
            record_id = str(record.get("id"))
            if not record.get("organization_id"):
                pulled.skipped += 1
                continue
            row = mapped_row(record, mapping)
            status = record.get("status")
            if status not in STATUSES:
                pulled.problems.append(RecordProblem(record_id, "status",
                                                     f"unknown ticket status {status!r}"))
                continue
            row["status"] = STATUSES[status]
            row["priority"] = PRIORITIES.get(record.get("priority") or "", None)
            if row["status"] in ("solved", "closed"):
                row["closed_at"] = record.get("updated_at")
            pulled.add(record_id, row)
        if page.get("after_cursor"):
            pulled.cursor = str(page["after_cursor"])
        if page.get("end_of_stream", True) or not page.get("after_url"):
            return pulled
        page = client.get(page["after_url"])


def _pull_ratings(client: ApiClient, cursor: str | None, mapping: dict[str, str]) -> Pulled:
    page = client.get("/api/v2/satisfaction_ratings.json",
                      {"start_time": cursor or "0", "page[size]": "100"})  # fmt: skip
    pulled = Pulled(cursor=cursor)
    newest = int(cursor) if cursor else None
    while True:
        for record in page.get("satisfaction_ratings") or []:
            pulled.records_in += 1
            record_id = str(record.get("id"))
            created = record.get("created_at")
            if created:
                stamp = int(parse_time(created).timestamp()) + 1
                newest = stamp if newest is None else max(newest, stamp)
            score = RATING_SCORES.get(record.get("score") or "")
            if score is None or not record.get("organization_id"):
                pulled.skipped += 1  # offered but unanswered, or of no organization
                continue
            row = mapped_row(record, mapping)
            row.update(response_id=f"rating-{record_id}", survey_type="csat", score=str(score))
            pulled.add(record_id, row)
        nxt = (page.get("links") or {}).get("next")
        if not (page.get("meta") or {}).get("has_more") or not nxt:
            break
        page = client.get(nxt)
    pulled.cursor = str(newest) if newest is not None else cursor
    return pulled


OBJECTS = (
    ObjectSync("organizations", "accounts",
               {"account_id": "id", "name": "name", "domain": "domain_names.0"},
               _pull_organizations),
    ObjectSync("users", "contacts",
               {"contact_id": "id", "account_id": "organization_id", "name": "name",
                "email": "email", "phone": "phone"}, _pull_users),
    ObjectSync("tickets", "tickets",
               {"ticket_id": "id", "account_id": "organization_id", "subject": "subject",
                "opened_at": "created_at", "category": "type"}, _pull_tickets),
    ObjectSync("satisfaction_ratings", "surveys",
               {"account_id": "organization_id", "comment": "comment",
                "answered_at": "created_at"}, _pull_ratings),
)  # fmt: skip


def headers(secret: str) -> dict[str, str]:
    """An OAuth token, or ``agent@example.com/token:API_TOKEN`` for an API token."""
    if "/token:" in secret:
        basic = base64.b64encode(secret.encode()).decode()
        return {"Authorization": f"Basic {basic}"}
    return {"Authorization": f"Bearer {secret}"}


def check(client: ApiClient) -> str:
    client.get("/api/v2/users/me.json")
    return "signed in"
