"""``banso run`` syncs every connection before scoring; a failing one is reported and stops
neither the others nor the day; write-back sends only what changed."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.connectors.replay import World, serve
from tests.connectors.test_hubspot import _world

from banso import db
from banso.accounts.models import Account


def test_run_syncs_reports_a_failure_and_writes_back_once(cli, monkeypatch) -> None:
    monkeypatch.setenv("HUBSPOT_TOKEN", "t")
    world: World = _world()
    cli("init")
    with serve(world) as base:
        assert cli("connect", "add", "crm", "--kind", "hubspot", "--base-url", base,
                   "--secret-env", "HUBSPOT_TOKEN", "--write-back").exit_code == 0  # fmt: skip
        # its secret's variable is not set: this one fails, the run goes on
        assert cli("connect", "add", "billing", "--kind", "stripe", "--base-url", base,
                   "--secret-env", "STRIPE_UNSET").exit_code == 0  # fmt: skip
        run = cli("run", "--as-of", "2026-11-30", "--no-send")
        assert run.exit_code == 0, run.stderr
        assert "Syncing connections…" in run.stderr
        assert "billing: not synced: billing: the environment variable STRIPE_UNSET is not set" in (
            run.stdout)
        assert "crm: 8 records in, 7 new" in run.stdout
        assert "Health scored for" in run.stdout
        with db.session_scope() as session:
            assert session.scalar(select(func.count()).select_from(Account)) == 3
        patches = [(p, b) for m, p, _q, b in world.requests if m == "PATCH"]
        assert sorted(p for p, _b in patches) == [f"/crm/v3/objects/companies/{i}"
                                                  for i in ("9001", "9002", "9003")]  # fmt: skip
        sent = patches[0][1]["properties"]
        assert set(sent) == {"banso_health_score", "banso_health_band", "banso_csm_email"}
        assert "crm: 3 records written back" in run.stdout
        world.requests.clear()
        again = cli("run", "--as-of", "2026-11-30", "--no-send")
        assert again.exit_code == 0, again.stderr
        assert not [p for m, p, _q, _b in world.requests if m == "PATCH"]
        assert "crm: 0 records written back" in again.stdout
