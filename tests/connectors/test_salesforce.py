"""Salesforce SOQL pages (``nextRecordsUrl``) and the ``SystemModstamp`` cursor."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from tests.connectors.replay import World, serve

from banso import db
from banso.accounts.models import Account, Contact
from banso.team.models import TeamMember


def _account(i: int, stamp: str) -> dict:
    return {"attributes": {"type": "Account"}, "Id": f"001{i:03d}", "Name": f"Company {i}",
            "Website": f"https://www.company{i}.example/", "Industry": "Technology",
            "NumberOfEmployees": 50 + i, "Owner": {"Email": "sato@vendor.example"},
            "SystemModstamp": stamp}  # fmt: skip


def test_accounts_contacts_users_then_only_changes(cli, monkeypatch) -> None:
    monkeypatch.setenv("SF_TOKEN", "00Dxx")
    w = World()
    w.salesforce = {
        "User": [{"Id": "005001", "Name": "佐藤 花子", "Email": "sato@vendor.example",
                  "SystemModstamp": "2026-11-01T00:00:00.000+0000"}],
        "Account": [_account(i, f"2026-11-01T00:0{i}:00.000+0000") for i in range(1, 4)],
        "Contact": [
            {"Id": "003001", "AccountId": "001001", "Name": "Taro", "Email": "t@company1.example",
             "Phone": None, "SystemModstamp": "2026-11-01T00:00:00.000+0000"},
            {"Id": "003002", "AccountId": None, "Name": "Lead", "Email": "l@free.example",
             "Phone": None, "SystemModstamp": "2026-11-01T00:01:00.000+0000"},
        ],
    }  # fmt: skip
    w.faults["/services/data/v60.0/query"] += [(429, {"Retry-After": "0"}), (500, {})]
    cli("init")
    with serve(w) as base:
        cli("connect", "add", "sf", "--kind", "salesforce", "--base-url", base, "--secret-env",
            "SF_TOKEN")  # fmt: skip
        assert cli("connect", "test", "sf").exit_code == 0
        first = cli("connect", "sync", "sf")
        assert first.exit_code == 0, first.stderr
        with db.session_scope() as session:
            count = lambda m: session.scalar(select(func.count()).select_from(m))  # noqa: E731
            assert (count(TeamMember), count(Account), count(Contact)) == (1, 3, 1)
            domains = set(session.scalars(select(Account.domain)))
        assert domains == {"company1.example", "company2.example", "company3.example"}
        assert any(re.search(r"/query/Account\d+-2$", p) for _m, p, _q, _b in w.requests)  # paged
        w.salesforce["Account"][0] = {**_account(1, "2026-11-02T00:00:00.000+0000"),
                                      "Name": "Company One"}  # fmt: skip
        w.requests.clear()
        second = cli("connect", "sync", "sf", "--object", "Account")
        assert second.exit_code == 0, second.stderr
        [query] = [q["q"][0] for _m, p, q, _b in w.requests if p.endswith("/query")]
        assert "SystemModstamp > 2026-11-01T00:03:00.000Z" in query
        with db.session_scope() as session:
            assert session.scalar(select(func.count()).select_from(Account)) == 3
            assert "Company One" in set(session.scalars(select(Account.name)))
        # a contact whose e-mail is not an address: the batch changes nothing
        w.salesforce["Contact"].append(
            {"Id": "003009", "AccountId": "001002", "Name": "Bad", "Email": "nope",
             "Phone": None, "SystemModstamp": "2026-11-03T00:00:00.000+0000"})  # fmt: skip
        bad = cli("connect", "sync", "sf", "--object", "Contact")
        assert bad.exit_code == 1 and "sf:Contact:003009: email:" in bad.stderr
        with db.session_scope() as session:
            assert session.scalar(select(func.count()).select_from(Contact)) == 1
