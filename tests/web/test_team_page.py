"""The Team page and GET /api/team on the web test world: books, the proposed reassignment as a
diff, and who may apply it (admin, ops or a manager; not a viewer or a CSM), audited."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from banso.accounts import ownership
from banso.accounts.models import Account
from banso.audit.models import AuditEntry
from banso.dates import today
from banso.db import session_scope
from banso.team.models import TeamMember
from web.world import World

TEAM_YAML = """\
titles:
  - title: associate
    book_size: {low: 60}
  - title: manager
    max_account_mrr: 100000
    book_size: {low: 20}
teams:
  - name: CS
    touch_models: [low]
"""


def _team(world: World, banso_home: Path, sato_title: str = "manager") -> None:
    """Everyone in team CS, every account low touch. 山田製作所 (MRR 130,000) is owned by 佐藤,
    a manager whose band stops at 100,000: the proposal gives it to 田中 (associate)."""
    (banso_home / "config").mkdir(parents=True, exist_ok=True)
    (banso_home / "config" / "team.yaml").write_text(TEAM_YAML, encoding="utf-8")
    with session_scope() as s:
        s.execute(update(TeamMember).values(team="CS"))
        s.execute(
            update(TeamMember)
            .where(TeamMember.id == world.sato_member)
            .values(job_title=sato_title)
        )
        s.execute(update(Account).values(touch_model="low"))


def test_page_shows_books_capacity_and_the_diff(
    client: TestClient,
    sign_in,
    world: World,
    banso_home: Path,  # type: ignore[no-untyped-def]
) -> None:
    _team(world, banso_home)
    sign_in("viewer")
    page = client.get("/team")
    assert page.status_code == 200
    assert 'data-testid="books"' in page.text and 'data-testid="capacity"' in page.text
    assert "株式会社山田製作所" in page.text and "Owner may not hold it" in page.text
    assert 'data-testid="apply-proposal"' not in page.text  # a viewer sees, cannot apply
    ja = client.get("/team", headers={"Accept-Language": "ja"})
    assert ja.status_code == 200
    api = client.get("/api/team").json()
    (change,) = [c for c in api["proposal"]["changes"] if c["account_id"] == world.yamada]
    assert (change["from_id"], change["to_id"], change["reason"], change["mrr"]) == (
        world.sato_member, world.tanaka_member, "band", "130000.00"
    )  # fmt: skip
    sato = next(m for m in api["members"] if m["id"] == world.sato_member)
    assert sato["band_violations"] == 1
    bad = client.get("/api/team?hires=2&title=intern")
    assert bad.status_code == 422
    assert "Give the hires' title" in bad.text


def test_a_csm_cannot_apply_a_manager_can_and_it_is_audited(
    client: TestClient,
    sign_in,
    world: World,
    banso_home: Path,  # type: ignore[no-untyped-def]
) -> None:
    _team(world, banso_home, sato_title="associate")
    token = sign_in("csm")  # 佐藤, now an associate
    digest = client.get("/api/team").json()["proposal"]["digest"]
    refused = client.post("/team/apply", data={"digest": digest, "csrf_token": token},
                          follow_redirects=False)  # fmt: skip
    assert refused.status_code == 403
    with session_scope() as s:
        s.execute(
            update(TeamMember).where(TeamMember.id == world.sato_member).values(job_title="manager")
        )
    page = client.get("/team")
    assert 'data-testid="apply-proposal"' in page.text
    digest = client.get("/api/team").json()["proposal"]["digest"]
    stale = client.post("/team/apply", data={"digest": "0" * 16, "csrf_token": token},
                        follow_redirects=False)  # fmt: skip
    assert stale.status_code == 400
    assert "The books changed since the proposal was shown" in stale.text
    done = client.post("/team/apply", data={"digest": digest, "csrf_token": token},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    assert client.get(done.headers["location"]).status_code == 200
    with session_scope() as s:
        assert s.get(Account, world.yamada).owner_id == world.tanaka_member  # type: ignore[union-attr]
        assert ownership.owner_on(s, world.yamada, today()) == world.tanaka_member
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "team.assign"))
        detail = json.loads(entry.detail)
        assert [world.yamada, world.sato_member, world.tanaka_member] in detail["changes"]
