"""Salesforce Opportunity (deals) and Contract (contract lines) through SOQL pages, the
SystemModstamp cursor, a 429 and a 500; Contract only once an amount field is mapped."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select
from tests.connectors.replay import World, serve

from banso import db
from banso.accounts.models import Account
from banso.deals.models import Deal
from banso.revenue.models import Subscription

Q = "/services/data/v60.0/query"


def _opp(i: int, stamp: str, stage: str, amount: float | None, *, won: bool = False,
         closed: bool = False, account: str | None = "001001") -> dict:  # fmt: skip
    return {"attributes": {"type": "Opportunity"}, "Id": f"006{i:03d}", "AccountId": account,
            "Name": f"Opp {i}", "StageName": stage, "Amount": amount, "CloseDate": "2026-12-20",
            "Type": "Existing Customer - Upgrade", "IsClosed": closed, "IsWon": won,
            "Owner": {"Email": "sato@vendor.example"}, "SystemModstamp": stamp}  # fmt: skip


def _contract(i: int, stamp: str, status: str, start: str, end: str, term: int,
              amount: float | None) -> dict:  # fmt: skip
    return {"attributes": {"type": "Contract"}, "Id": f"800{i:03d}", "AccountId": "001001",
            "ContractNumber": f"{i:08d}", "StatusCode": status, "Status": status,
            "StartDate": start, "EndDate": end, "ContractTerm": term, "Amount__c": amount,
            "SystemModstamp": stamp}  # fmt: skip


def _world() -> World:
    w = World()
    w.salesforce = {
        "User": [{"Id": "005001", "Name": "佐藤 花子", "Email": "sato@vendor.example",
                  "SystemModstamp": "2026-11-01T00:00:00.000+0000"}],
        "Account": [{"Id": "001001", "Name": "Company 1", "Website": "company1.example",
                     "Industry": None, "NumberOfEmployees": 10, "Owner": {"Email": None},
                     "SystemModstamp": "2026-11-01T00:00:00.000+0000"}],
        "Contact": [],
        "Opportunity": [
            _opp(1, "2026-11-01T00:01:00.000+0000", "Negotiation/Review", 1200000.0),
            _opp(2, "2026-11-01T00:02:00.000+0000", "Closed Won", 600000.0, won=True,
                 closed=True),
            _opp(3, "2026-11-01T00:03:00.000+0000", "Closed Lost", None, closed=True),
            _opp(4, "2026-11-01T00:04:00.000+0000", "Prospecting", 1.0, account=None),
        ],
        "Contract": [
            # a year at 1,200,000 yen from 1 April 2026, billed for the year
            _contract(1, "2026-11-01T00:01:00.000+0000", "Activated", "2026-04-01",
                      "2027-03-31", 12, 1200000.0),
            _contract(2, "2026-11-01T00:02:00.000+0000", "Draft", "2026-12-01", "2027-11-30",
                      12, 999.0),
            # ended: served until 31 March 2026, so the first day without service is 1 April
            _contract(3, "2026-11-01T00:03:00.000+0000", "Expired", "2025-04-01",
                      "2026-03-31", 12, 600000.0),
        ],
    }  # fmt: skip
    return w


def _count(model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_opportunities_and_contracts_load_then_only_changes(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SF_TOKEN", "00Dxx")
    monkeypatch.setenv("BANSO_TODAY", "2026-11-30")
    w = _world()
    w.faults[Q] += [(429, {"Retry-After": "0"}), (500, {})]
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Contract:\n  amount: Amount__c\n", encoding="utf-8")
    cli("init")
    with serve(w) as base:
        cli("connect", "add", "plain", "--kind", "salesforce", "--base-url", base,
            "--secret-env", "SF_TOKEN")  # fmt: skip
        # with no amount field mapped, Contract is left out, and asking for it says why
        plain = cli("connect", "sync", "plain", "--format", "json")
        assert plain.exit_code == 0, plain.stderr
        assert [r["object"] for r in json.loads(plain.stdout)] == [
            "User", "Account", "Contact", "Opportunity"]  # fmt: skip
        asked = cli("connect", "sync", "plain", "--object", "Contract")
        assert asked.exit_code == 2
        assert "Contract is synced once the connection's mapping names its amount" in asked.stderr
        assert "Traceback" not in asked.stderr
        assert not any("FROM Contract" in (q.get("q") or [""])[0] for _m, _p, q, _b in w.requests)
        status = json.loads(cli("connect", "status", "--format", "json").stdout)[0]
        needs = {o["object"]: o["needs"] for o in status["objects"]}
        assert needs["Contract"] == ["amount"] and needs["Opportunity"] == []
        cli("connect", "remove", "plain")

        added = cli("connect", "add", "sf", "--kind", "salesforce", "--base-url", base,
                    "--secret-env", "SF_TOKEN", "--mapping", str(mapping))  # fmt: skip
        assert added.exit_code == 0, added.stderr
        first = cli("connect", "sync", "sf", "--format", "json")
        assert first.exit_code == 0, first.stderr
        by_object = {r["object"]: r for r in json.loads(first.stdout)}
        opp, contract = by_object["Opportunity"], by_object["Contract"]
        assert (opp["records_in"], opp["inserted"], opp["skipped"]) == (4, 3, 1)
        assert (contract["records_in"], contract["inserted"], contract["skipped"]) == (3, 2, 1)
        soql = [q["q"][0] for _m, p, q, _b in w.requests if p == Q]
        assert any("IsWon" in s and "IsClosed" in s and "FROM Opportunity" in s for s in soql)
        assert any("Amount__c" in s and "StatusCode" in s and "FROM Contract" in s for s in soql)
        with db.session_scope() as session:
            deals = {d.external_id: (d.status, d.amount, d.currency, d.close_date, d.stage)
                     for d in session.scalars(select(Deal).where(Deal.source == "sf"))}  # fmt: skip
            lines = {s.external_id: (s.start_date, s.end_date, s.amount, s.currency,
                                     s.billing_period_months)
                     for s in session.scalars(select(Subscription))}  # fmt: skip
        assert deals == {
            "006001": ("open", 1200000, "JPY", date(2026, 12, 20), "Negotiation/Review"),
            "006002": ("won", 600000, "JPY", date(2026, 12, 20), "Closed Won"),
            "006003": ("lost", None, "JPY", date(2026, 12, 20), "Closed Lost"),
        }
        assert lines == {
            "800001": (date(2026, 4, 1), date(2027, 4, 1), 1200000, "JPY", 12),
            "800003": (date(2025, 4, 1), date(2026, 4, 1), 600000, "JPY", 12),
        }
        # MRR as the spec counts it, from the contract lines: 1,200,000 / 12 in November
        revenue = cli("metrics", "revenue", "--from", "2026-11", "--to", "2026-11", "--format",
                      "json")  # fmt: skip
        assert revenue.exit_code == 0, revenue.stderr
        data = json.loads(revenue.stdout)
        row = (data["rows"] if isinstance(data, dict) else data)[0]
        assert int(row["mrr_end"]) == 100000

        # the opportunity is won and the draft is activated: only those two are fetched
        w.salesforce["Opportunity"][0] = _opp(1, "2026-11-05T00:00:00.000+0000", "Closed Won",
                                              1300000.0, won=True, closed=True)  # fmt: skip
        w.salesforce["Contract"][1] = _contract(
            2, "2026-11-05T00:00:00.000+0000", "Activated", "2026-12-01", "2027-11-30", 12, 240000.0
        )
        w.requests.clear()
        second = cli("connect", "sync", "sf", "--object", "Opportunity", "--object", "Contract",
                     "--format", "json")  # fmt: skip
        assert second.exit_code == 0, second.stderr
        by_object = {r["object"]: r for r in json.loads(second.stdout)}
        assert (by_object["Opportunity"]["records_in"], by_object["Opportunity"]["updated"],
                by_object["Opportunity"]["inserted"]) == (1, 1, 0)  # fmt: skip
        assert (by_object["Contract"]["records_in"], by_object["Contract"]["inserted"]) == (1, 1)
        soql = [q["q"][0] for _m, p, q, _b in w.requests if p == Q]
        assert all("SystemModstamp > 2026-11-01T00:0" in s for s in soql)
        with db.session_scope() as session:
            sf_deals = session.scalar(select(func.count()).where(Deal.source == "sf"))
        # the removed connection's deals stay (records outlive their connection), once each
        assert (sf_deals, _count(Deal), _count(Subscription), _count(Account)) == (3, 6, 3, 1)


def test_a_malformed_contract_rejects_its_batch(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SF_TOKEN", "00Dxx")
    w = _world()
    mapping = tmp_path / "map.yaml"
    mapping.write_text("Contract:\n  amount: Amount__c\n  currency: CurrencyIsoCode\n",
                       encoding="utf-8")  # fmt: skip
    for record in w.salesforce["Contract"]:
        record["CurrencyIsoCode"] = "USD"
    w.salesforce["Contract"][0]["Amount__c"] = 1000.25
    cli("init")
    with serve(w) as base:
        cli("connect", "add", "sf", "--kind", "salesforce", "--base-url", base, "--secret-env",
            "SF_TOKEN", "--mapping", str(mapping))  # fmt: skip
        assert cli("connect", "sync", "sf").exit_code == 0
        with db.session_scope() as session:
            assert {(s.external_id, s.amount, s.currency) for s in
                    session.scalars(select(Subscription))} == {
                ("800001", 100025, "USD"), ("800003", 60000000, "USD")}  # fmt: skip
        w.salesforce["Contract"] += [
            _contract(4, "2026-11-06T00:00:00.000+0000", "Activated", "2026-12-01",
                      "2027-11-30", 12, 10.125),
            _contract(5, "2026-11-06T00:00:01.000+0000", "Activated", "2026-12-01",
                      "2026-11-15", 12, 10.0),
        ]  # fmt: skip
        for record in w.salesforce["Contract"][-2:]:
            record["CurrencyIsoCode"] = "USD"
        bad = cli("connect", "sync", "sf", "--object", "Contract")
        assert bad.exit_code == 1
        assert "sf:Contract:800004: Amount__c: 10.125 has more decimals than USD" in bad.stderr
        assert _count(Subscription) == 2
        # the amount fixed, the end before the start is the importer's row check, named
        w.salesforce["Contract"][-2]["Amount__c"] = 10.12
        again = cli("connect", "sync", "sf", "--object", "Contract")
        assert again.exit_code == 1
        assert "sf:Contract:800005: end_date: end_date must be after start_date" in again.stderr
        assert _count(Subscription) == 2
        # a contract with no term would be read as billed monthly: refused, naming the field
        w.salesforce["Contract"][-1].update(EndDate="2027-11-30", ContractTerm=None)
        termless = cli("connect", "sync", "sf", "--object", "Contract")
        assert termless.exit_code == 1
        assert "sf:Contract:800005: ContractTerm: the contract has no term in months" in (
            termless.stderr)  # fmt: skip
        assert _count(Subscription) == 2
