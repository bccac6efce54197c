"""HubSpot against a local server answering in the CRM v3 shapes: pages, a 429, a 500, a
malformed record; the second sync fetches only what changed and writes no duplicate."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from tests.connectors.hubspot_world import T0, company, contact, hubspot_world
from tests.connectors.replay import World, serve

from banso import db
from banso.accounts.models import Account, AccountIdentity, Contact
from banso.connectors.models import SyncCursor, SyncRun
from banso.team.models import TeamMember


def _world() -> World:
    return hubspot_world()


def _count(model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_first_sync_loads_everything_then_only_changes(cli, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-secret-123")
    world = _world()
    world.faults["/crm/v3/objects/companies/search"].append((429, {"Retry-After": "0"}))
    world.faults["/crm/v3/objects/contacts/search"].append((500, {}))
    assert cli("init").exit_code == 0
    with serve(world) as base:
        added = cli("connect", "add", "hubspot", "--kind", "hubspot", "--base-url", base,
                    "--secret-env", "HUBSPOT_TOKEN")  # fmt: skip
        assert added.exit_code == 0, added.stderr
        first = cli("connect", "sync", "hubspot")
        assert first.exit_code == 0, first.stderr
        assert "pat-secret-123" not in first.stdout + first.stderr
        assert set(world.authorization) == {"Bearer pat-secret-123"}
        assert _count(TeamMember) == 2 and _count(Account) == 3 and _count(Contact) == 2
        with db.session_scope() as session:
            abc = session.scalars(select(Account).where(Account.domain == "sales.example.co.jp")
                                  ).one()  # fmt: skip
            owner = session.get(TeamMember, abc.owner_id)
            assert (abc.name, owner.email if owner else None) == (
                "ＡＢＣホールディングス㈱", "sato@vendor.example")
            runs = {r.object: r for r in session.scalars(select(SyncRun))}
            assert (runs["companies"].records_in, runs["companies"].inserted) == (3, 3)
            assert (runs["contacts"].records_in, runs["contacts"].skipped) == (3, 1)
            cursors = dict(session.execute(select(SyncCursor.object, SyncCursor.cursor)).all())
        assert cursors["companies"] == str(int((T0 + timedelta(minutes=2)).timestamp() * 1000))

        # one company renamed, one contact added: only they are fetched
        later = T0 + timedelta(hours=1)
        world.hubspot_companies[1] = company("9002", "Beta Corporation", "beta.example", "502",
                                              later)  # fmt: skip
        world.hubspot_contacts.append(contact("7004", "9003", "mi@gamma.example", later))
        world.requests.clear()
        second = cli("connect", "sync", "hubspot", "--format", "json")
        assert second.exit_code == 0, second.stderr
        by_object = {r["object"]: r for r in __import__("json").loads(second.stdout)}
        assert by_object["companies"]["records_in"] == 1
        assert (by_object["companies"]["inserted"], by_object["companies"]["updated"]) == (0, 1)
        assert by_object["contacts"]["records_in"] == 1
        assert by_object["owners"]["records_in"] == 2 and by_object["owners"]["inserted"] == 0
        assert _count(Account) == 3 and _count(Contact) == 3 and _count(AccountIdentity) == 3
        with db.session_scope() as session:
            assert session.scalar(select(Account.name).where(Account.domain == "beta.example")
                                  ) == "Beta Corporation"  # fmt: skip


def test_a_malformed_record_rejects_its_batch_and_keeps_the_cursor(cli, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "t")
    world = _world()
    cli("init")
    with serve(world) as base:
        cli("connect", "add", "hs", "--kind", "hubspot", "--base-url", base, "--secret-env",
            "HUBSPOT_TOKEN")  # fmt: skip
        assert cli("connect", "sync", "hs").exit_code == 0
        with db.session_scope() as session:
            before = session.scalar(
                select(SyncCursor.cursor).where(SyncCursor.object == "contacts")
            )
        later = T0 + timedelta(hours=2)
        world.hubspot_contacts += [contact("7005", "9001", "ok@example.co.jp", later),
                                   contact("7006", "9002", "not an address", later)]
        result = cli("connect", "sync", "hs", "--object", "contacts")
        assert result.exit_code == 1
        assert "hs:contacts:7006: email:" in result.stderr
        assert _count(Contact) == 2  # not even the good one of the batch
        with db.session_scope() as session:
            after = session.scalar(
                select(SyncCursor.cursor).where(SyncCursor.object == "contacts")
            )
            last = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
            assert (last.status, last.rejected, last.cursor_after) == ("rejected", 1, before)
        assert after == before
        status = cli("connect", "status", "--format", "json")
        contacts = [o for o in __import__("json").loads(status.stdout)[0]["objects"]
                    if o["object"] == "contacts"][0]  # fmt: skip
        assert contacts["last_status"] == "rejected" and "7006" in contacts["error"]


def test_bad_connection_settings_get_one_sentence(cli, tmp_path) -> None:
    cli("init")
    bad_kind = cli("connect", "add", "x", "--kind", "pipedrive", "--base-url", "https://a.example",
                   "--secret-env", "X")  # fmt: skip
    assert bad_kind.exit_code == 2 and "pipedrive" in bad_kind.stderr
    secret = tmp_path / "token"
    secret.write_text("abc")
    secret.chmod(0o644)
    loose = cli("connect", "add", "x", "--kind", "stripe", "--base-url", "https://a.example",
                "--secret-file", str(secret))  # fmt: skip
    assert loose.exit_code == 2 and "0600" in loose.stderr
    mapping = tmp_path / "map.yaml"
    mapping.write_text("companies:\n  revenue: properties.annualrevenue\n")
    unknown = cli("connect", "add", "x", "--kind", "hubspot", "--base-url", "https://a.example",
                  "--secret-env", "X", "--mapping", str(mapping))  # fmt: skip
    assert unknown.exit_code == 2 and "revenue is not a field of accounts" in unknown.stderr
    missing = cli("connect", "sync", "nope")
    assert missing.exit_code != 0 and "No connection named nope" in missing.stderr
    assert "Traceback" not in bad_kind.stderr + loose.stderr + unknown.stderr + missing.stderr


def test_custom_field_mapping_reaches_the_account(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "t")
    world = _world()
    for record in world.hubspot_companies:
        record["properties"]["industry_ja"] = "情報通信業"
    mapping = tmp_path / "map.yaml"
    mapping.write_text("companies:\n  industry: properties.industry_ja\n", encoding="utf-8")
    cli("init")
    with serve(world) as base:
        cli("connect", "add", "hs", "--kind", "hubspot", "--base-url", base, "--secret-env",
            "HUBSPOT_TOKEN", "--mapping", str(mapping))  # fmt: skip
        assert cli("connect", "sync", "hs").exit_code == 0
        searched = [b for m, p, q, b in world.requests if p.endswith("companies/search")][0]
        assert "industry_ja" in searched["properties"]
    with db.session_scope() as session:
        assert set(session.scalars(select(Account.industry))) == {"情報通信業"}
