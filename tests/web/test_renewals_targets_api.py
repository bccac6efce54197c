"""``GET /api/renewals/calendar`` and ``GET /api/targets``: the same rows as the commands."""

from __future__ import annotations

from fastapi.testclient import TestClient

from banso.config import get_settings
from banso.db import session_scope
from banso.renewals.calendar import renewal_calendar, rounded
from banso.revenue.months import with_completeness
from banso.targets.config import load_targets
from banso.targets.plan import build_targets
from banso.targets.plan import rounded as plan_rounded
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _token(role: str) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "test", ["read"], None)
        return {"Authorization": f"Bearer {value}"}


def test_renewal_calendar_api(client: TestClient, world: World) -> None:
    auth = _token("viewer")
    answer = client.get(
        "/api/renewals/calendar", params={"start": "2025-06", "end": "2027-05"}, headers=auth
    )
    assert answer.status_code == 200, answer.text
    with session_scope() as session:
        report = renewal_calendar(session, start="2025-06", end="2027-05")
    assert answer.json() == {
        "currency": "JPY",
        "months": [with_completeness(rounded(r)) for r in report.rows],
    }
    assert sum(r["mrr_due"] for r in answer.json()["months"]) > 0
    inverted = client.get(
        "/api/renewals/calendar", params={"start": "2027-05", "end": "2025-06"}, headers=auth
    )
    assert inverted.status_code == 422
    assert inverted.json()["errors"][0]["field"] == "start"
    bad_by = client.get(
        "/api/renewals/calendar",
        params={"start": "2025-06", "end": "2025-07", "by": "colour"},
        headers=auth,
    )
    assert bad_by.status_code == 422


def test_targets_api(client: TestClient, world: World) -> None:
    auth = _token("viewer")
    missing = client.get("/api/targets", params={"fiscal_year": 2026}, headers=auth)
    assert missing.status_code == 400
    assert "No targets file at" in missing.json()["detail"]
    config = get_settings().config_path
    config.mkdir(parents=True, exist_ok=True)
    (config / "targets.yaml").write_text(
        "teams:\n  - name: All\n    headcount: 3\n    expansion_mrr_per_head: 1000\n"
        "    new_mrr_per_head: 500\n",
        encoding="utf-8",
    )
    answer = client.get("/api/targets", params={"fiscal_year": 2026}, headers=auth)
    assert answer.status_code == 200, answer.text
    with session_scope() as session:
        plan = build_targets(session, 2026, load_targets().model)
    body = answer.json()
    assert body["plan"] == [plan_rounded(r) for r in plan.rows]
    assert {r["expansion_target"] for r in body["plan"]} == {3000.0}
    (config / "targets.yaml").write_text("teams: []\n", encoding="utf-8")
    bad = client.get("/api/targets", params={"fiscal_year": 2026}, headers=auth)
    assert bad.status_code == 400 and "targets.yaml:1: teams:" in bad.json()["detail"]
