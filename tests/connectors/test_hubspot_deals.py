"""HubSpot deals against the replay server: the search pages, a 429 and a 500, the v4
associations (primary company first, a deal of no company skipped), the status from the closed
flags, amounts in minor units; a second sync fetches only what changed and writes no duplicate;
a malformed deal rejects its batch and keeps the cursor."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from tests.connectors.hubspot_world import T0, hubspot_world
from tests.connectors.replay import World, iso_ms, serve

from banso import db
from banso.accounts.models import AccountIdentity
from banso.connectors.models import SyncCursor, SyncRun
from banso.deals.models import Deal
from banso.team.models import TeamMember


def _deal(did: str, name: str, stage: str, amount: str | None, at: datetime, *,
          currency: str = "JPY", won: bool = False, closed: bool = False,
          owner: str = "501") -> dict:  # fmt: skip
    return {"id": did, "archived": False, "createdAt": iso_ms(T0), "updatedAt": iso_ms(at),
            "properties": {"dealname": name, "dealstage": stage, "amount": amount,
                           "deal_currency_code": currency, "closedate": "2026-12-15T00:00:00Z",
                           "dealtype": "existingbusiness", "hubspot_owner_id": owner,
                           "hs_is_closed": "true" if closed else "false",
                           "hs_is_closed_won": "true" if won else "false",
                           "pipeline": "default", "hs_lastmodifieddate": iso_ms(at)}}  # fmt: skip


def _world() -> World:
    w = hubspot_world()
    w.hubspot_deals = [
        _deal("3001", "ABC 追加席", "contractsent", "1200000", T0),
        _deal("3002", "Beta renewal", "closedwon", "12000.50", T0 + timedelta(minutes=1),
              currency="USD", won=True, closed=True, owner="502"),
        _deal("3003", "Gamma lost", "custom-stage-9", "300000", T0 + timedelta(minutes=2),
              closed=True),
        _deal("3004", "Nobody's deal", "appointmentscheduled", None, T0 + timedelta(minutes=3)),
    ]  # fmt: skip
    w.hubspot_deal_companies = {
        "3001": [("9001", 5)],
        "3002": [("9003", 341), ("9002", 5)],  # the primary company wins over the first one
        "3003": [("9003", 341)],  # no primary: the first company
    }
    return w


def _count(model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _deals() -> dict[str, tuple]:
    with db.session_scope() as session:
        rows = session.execute(
            select(Deal.external_id, AccountIdentity.external_id, Deal.name, Deal.stage,
                   Deal.status, Deal.amount, Deal.currency, Deal.close_date, Deal.deal_type,
                   TeamMember.email)
            .join(AccountIdentity, (AccountIdentity.account_id == Deal.account_id)
                  & (AccountIdentity.source == Deal.source))
            .join(TeamMember, TeamMember.id == Deal.owner_id, isouter=True)
        ).all()  # fmt: skip
    return {r[0]: tuple(r[1:]) for r in rows}


def test_deals_load_then_only_changes_without_duplicates(cli, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "t")
    world = _world()
    world.faults["/crm/v3/objects/deals/search"].append((429, {"Retry-After": "0"}))
    world.faults["/crm/v4/associations/deals/companies/batch/read"].append((500, {}))
    assert cli("init").exit_code == 0
    with serve(world) as base:
        cli("connect", "add", "hs", "--kind", "hubspot", "--base-url", base, "--secret-env",
            "HUBSPOT_TOKEN")  # fmt: skip
        first = cli("connect", "sync", "hs", "--format", "json")
        assert first.exit_code == 0, first.stderr
        deals = {r["object"]: r for r in json.loads(first.stdout)}["deals"]
        assert (deals["records_in"], deals["inserted"], deals["skipped"]) == (4, 3, 1)
        assert _deals() == {
            "3001": ("9001", "ABC 追加席", "contractsent", "open", 1200000, "JPY",
                     date(2026, 12, 15), "existingbusiness", "sato@vendor.example"),
            "3002": ("9002", "Beta renewal", "closedwon", "won", 1200050, "USD",
                     date(2026, 12, 15), "existingbusiness", "ito@vendor.example"),
            "3003": ("9003", "Gamma lost", "custom-stage-9", "lost", 300000, "JPY",
                     date(2026, 12, 15), "existingbusiness", "sato@vendor.example"),
        }  # fmt: skip
        searches = [b for _m, p, _q, b in world.requests if p.endswith("deals/search")]
        assert len(searches) == 3  # the 429, then two pages of two
        assert {"hs_is_closed_won", "hs_is_closed", "dealname"} <= set(searches[-1]["properties"])
        with db.session_scope() as session:
            cursor = session.scalar(select(SyncCursor.cursor).where(SyncCursor.object == "deals"))
        assert cursor == str(int((T0 + timedelta(minutes=3)).timestamp() * 1000))

        # one deal won, one new: only those two are fetched and nothing is duplicated
        later = T0 + timedelta(hours=1)
        world.hubspot_deals[0] = _deal("3001", "ABC 追加席", "closedwon", "1500000", later,
                                       won=True, closed=True)  # fmt: skip
        world.hubspot_deals.append(_deal("3005", "Beta seats", "qualifiedtobuy", "0", later,
                                         owner="999"))  # fmt: skip
        world.hubspot_deal_companies["3005"] = [("9002", 5)]
        world.requests.clear()
        second = cli("connect", "sync", "hs", "--object", "deals", "--format", "json")
        assert second.exit_code == 0, second.stderr
        [deals] = json.loads(second.stdout)
        assert (deals["records_in"], deals["inserted"], deals["updated"]) == (2, 1, 1)
        [search] = [b for _m, p, _q, b in world.requests if p.endswith("deals/search")]
        assert search["filterGroups"][0]["filters"][0] == {
            "propertyName": "hs_lastmodifieddate",
            "operator": "GT",
            "value": cursor,
        }
        [read] = [b for _m, p, _q, b in world.requests if p.endswith("batch/read")]
        assert read == {"inputs": [{"id": "3001"}, {"id": "3005"}]}
        assert _count(Deal) == 4
        got = _deals()
        assert got["3001"][3:5] == ("won", 1500000)
        assert got["3005"][0] == "9002" and got["3005"][-1] is None  # an unknown owner: none
        # the third sync has nothing to fetch and changes nothing
        third = cli("connect", "sync", "hs", "--object", "deals", "--format", "json")
        [deals] = json.loads(third.stdout)
        assert (deals["records_in"], deals["inserted"], deals["updated"]) == (0, 0, 0)
        assert _count(Deal) == 4


def test_a_malformed_deal_rejects_the_batch_and_keeps_the_cursor(cli, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "t")
    world = _world()
    cli("init")
    with serve(world) as base:
        cli("connect", "add", "hs", "--kind", "hubspot", "--base-url", base, "--secret-env",
            "HUBSPOT_TOKEN")  # fmt: skip
        assert cli("connect", "sync", "hs").exit_code == 0
        with db.session_scope() as session:
            before = session.scalar(select(SyncCursor.cursor).where(SyncCursor.object == "deals"))
        later = T0 + timedelta(hours=2)
        world.hubspot_deals += [
            _deal("3006", "Fine", "qualifiedtobuy", "500000", later),
            _deal("3007", "Half a yen", "qualifiedtobuy", "1200.5", later),
            _deal("3008", "Not money", "qualifiedtobuy", "lots", later),
        ]
        for did in ("3006", "3007", "3008"):
            world.hubspot_deal_companies[did] = [("9001", 5)]
        result = cli("connect", "sync", "hs", "--object", "deals")
        assert result.exit_code == 1
        assert "hs:deals:3007: properties.amount: 1200.5 has more decimals than JPY" in (
            result.stderr)  # fmt: skip
        assert "hs:deals:3008: properties.amount: not an amount: lots" in result.stderr
        assert "Traceback" not in result.stderr
        assert _count(Deal) == 3  # not even the good one of the batch
        with db.session_scope() as session:
            after = session.scalar(select(SyncCursor.cursor).where(SyncCursor.object == "deals"))
            last = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
            assert (last.status, last.rejected, last.cursor_after) == ("rejected", 2, before)
        assert after == before
        # a negative amount passes the connector and is refused by the importer's row check
        world.hubspot_deals = [d for d in world.hubspot_deals if d["id"] not in ("3007", "3008")]
        world.hubspot_deals.append(_deal("3007", "Refund", "qualifiedtobuy", "-5", later))
        negative = cli("connect", "sync", "hs", "--object", "deals")
        assert negative.exit_code == 1
        assert "hs:deals:3007: amount: amount must be 0 or more, got -5" in negative.stderr
        assert _count(Deal) == 3


def test_a_custom_deal_property_is_mapped(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "t")
    world = _world()
    for deal in world.hubspot_deals:
        deal["properties"]["cs_motion"] = "アップセル"
    mapping = tmp_path / "map.yaml"
    mapping.write_text("deals:\n  deal_type: properties.cs_motion\n", encoding="utf-8")
    cli("init")
    with serve(world) as base:
        added = cli("connect", "add", "hs", "--kind", "hubspot", "--base-url", base,
                    "--secret-env", "HUBSPOT_TOKEN", "--mapping", str(mapping))  # fmt: skip
        assert added.exit_code == 0, added.stderr
        assert cli("connect", "sync", "hs").exit_code == 0
        searched = [b for _m, p, _q, b in world.requests if p.endswith("deals/search")][0]
        assert "cs_motion" in searched["properties"]
    with db.session_scope() as session:
        assert set(session.scalars(select(Deal.deal_type))) == {"アップセル"}
