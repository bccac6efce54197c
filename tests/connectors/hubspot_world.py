"""The HubSpot world the connector tests start from: two owners, three companies (one under a
registered domain's subdomain), three contacts (one of no company)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.connectors.replay import World, iso_ms

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def company(cid: str, name: str, domain: str, owner: str, at: datetime) -> dict:
    return {"id": cid, "archived": False, "createdAt": iso_ms(at), "updatedAt": iso_ms(at),
            "properties": {"name": name, "domain": domain, "industry": "SOFTWARE",
                           "numberofemployees": "120", "hubspot_owner_id": owner,
                           "hs_lastmodifieddate": iso_ms(at)}}  # fmt: skip


def contact(cid: str, company: str | None, email: str, at: datetime) -> dict:
    return {"id": cid, "archived": False,
            "properties": {"firstname": "Taro", "lastname": "Yamada", "email": email,
                           "associatedcompanyid": company, "hs_language": "ja",
                           "lastmodifieddate": iso_ms(at)}}  # fmt: skip


def hubspot_world() -> World:
    w = World()
    w.hubspot_owners = [
        {"id": "501", "email": "sato@vendor.example", "firstName": "Hanako", "lastName": "Sato",
         "archived": False, "updatedAt": iso_ms(T0)},
        {"id": "502", "email": "ito@vendor.example", "firstName": "Ken", "lastName": "Ito",
         "archived": False, "updatedAt": iso_ms(T0)},
    ]  # fmt: skip
    w.hubspot_companies = [
        company("9001", "ＡＢＣホールディングス㈱", "sales.example.co.jp", "501", T0),
        company("9002", "Beta Corp", "beta.example", "502", T0 + timedelta(minutes=1)),
        company("9003", "Gamma合同会社", "gamma.example", "501", T0 + timedelta(minutes=2)),
    ]
    w.hubspot_contacts = [
        contact("7001", "9001", "taro@example.co.jp", T0),
        contact("7002", "9002", "jo@beta.example", T0 + timedelta(minutes=1)),
        contact("7003", None, "nobody@free.example", T0 + timedelta(minutes=2)),
    ]
    return w
