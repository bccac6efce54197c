"""The CSM page and ``GET /api/team/scorecard``: who sees whose scorecard, and the
qualitative score form (a manager of the team or an admin; audited)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.team.models import TeamMember
from banso.users.models import User
from web.world import EMAILS, World


def _link(email: str, member_id: int | None) -> None:
    with session_scope() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        user.team_member_id = member_id


def _set_member(member_id: int, **fields: str) -> None:
    with session_scope() as session:
        member = session.get(TeamMember, member_id)
        assert member is not None
        for key, value in fields.items():
            setattr(member, key, value)


def test_a_csm_sees_only_their_own_scorecard(client: TestClient, sign_in, world: World) -> None:  # type: ignore[no-untyped-def]
    # 佐藤 is the CSM's member; as an associate she is no manager
    _set_member(world.sato_member, job_title="associate", team="Enterprise")
    _set_member(world.tanaka_member, job_title="associate", team="Enterprise")
    _link(EMAILS["csm"], world.sato_member)
    sign_in("csm")
    own = client.get(f"/team/{world.sato_member}")
    assert own.status_code == 200
    assert 'data-testid="csm-axes"' in own.text
    assert 'data-testid="csm-qualitative-form"' not in own.text  # nobody scores themselves
    assert client.get(f"/team/{world.tanaka_member}").status_code == 403
    # My book links to the scorecard; a colleague's book does not
    assert 'data-testid="book-scorecard"' in client.get("/book").text
    other = client.get("/book", params={"owner": str(world.tanaka_member)})
    assert 'data-testid="book-scorecard"' not in other.text
    api = client.get("/api/team/scorecard", params={"period": "FY2025Q1"})
    assert api.status_code == 200
    assert [c["member_id"] for c in api.json()["scorecards"]] == [world.sato_member]


def test_a_manager_sees_and_scores_their_team(client: TestClient, sign_in, world: World) -> None:  # type: ignore[no-untyped-def]
    _set_member(world.sato_member, job_title="manager", team="Enterprise")
    _set_member(world.tanaka_member, job_title="associate", team="Enterprise")
    _link(EMAILS["csm"], world.sato_member)
    token = sign_in("csm")
    page = client.get(f"/team/{world.tanaka_member}", params={"period": "FY2025-Q1"})
    assert page.status_code == 200
    assert 'data-testid="csm-qualitative-form"' in page.text
    posted = client.post(
        f"/team/{world.tanaka_member}/qualitative",
        data={"period": "FY2025-Q1", "score": "85", "note": "良い更新提案", "csrf_token": token},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/team/{world.tanaka_member}?period=FY2025-Q1"
    api = client.get("/api/team/scorecard", params={"period": "FY2025-Q1"}).json()
    cards = {c["member_id"]: c for c in api["scorecards"]}
    assert set(cards) == {world.sato_member, world.tanaka_member}
    axes = {a["axis"]: a for a in cards[world.tanaka_member]["axes"]}
    assert axes["qualitative"]["actual"] == 85.0
    assert cards[world.tanaka_member]["qualitative_note"] == "良い更新提案"
    with session_scope() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "team.qualitative")
        ).one()
        assert entry.actor == EMAILS["csm"]
        assert entry.target == f"team_member:{world.tanaka_member}"
    # a member of another team is out of reach
    _set_member(world.tanaka_member, team="SMB")
    assert client.get(f"/team/{world.tanaka_member}").status_code == 403
    refused = client.post(
        f"/team/{world.tanaka_member}/qualitative",
        data={"period": "FY2025-Q1", "score": "10", "csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code == 403


def test_an_admin_sees_everyone(client: TestClient, sign_in, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in("admin")
    api = client.get("/api/team/scorecard", params={"period": "FY2025"}).json()
    assert {c["member_id"] for c in api["scorecards"]} == {world.sato_member, world.tanaka_member}
    assert client.get(f"/team/{world.tanaka_member}").status_code == 200
    assert client.get("/team/999999").status_code == 404
    bad = client.get("/api/team/scorecard", params={"period": "2025Q1"})
    assert bad.status_code == 422


def test_a_viewer_sees_no_scorecard(client: TestClient, sign_in, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    assert client.get(f"/team/{world.sato_member}").status_code == 403
    api = client.get("/api/team/scorecard", params={"period": "FY2025"})
    assert api.status_code == 200 and api.json()["scorecards"] == []
