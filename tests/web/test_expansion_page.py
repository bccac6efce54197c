"""The Expansion page: the list with filters in both languages, a CSM's create and close forms
(audited, redirect back), a viewer's list without forms and 403 on every post."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.expansion.models import Opportunity
from web.world import World


def test_a_csm_opens_and_closes_an_opportunity_from_the_page(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("csm")
    page = client.get("/expansion", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'href="/expansion" aria-current="page"' in page.text
    assert 'data-testid="opportunity-create"' in page.text and "No opportunities." in page.text
    created = client.post(
        "/expansion/opportunities",
        data={"csrf_token": token, "account_id": world.yamada, "kind": "cross_sell",
              "expected_mrr": "120000", "stage": "qualified", "close_date": "2030-01-31"},
        follow_redirects=False,
    )  # fmt: skip
    assert (created.status_code, created.headers["location"]) == (303, "/expansion")
    seats = {"csrf_token": token, "account_id": world.acme, "kind": "seats"}
    client.post("/expansion/opportunities", data=seats)
    # Midori is another CSM's account: refused, nothing stored
    other = {"csrf_token": token, "account_id": world.midori, "kind": "seats"}
    assert client.post("/expansion/opportunities", data=other).status_code == 403
    page = client.get("/expansion", headers={"Accept-Language": "en"}).text
    assert page.count('data-testid="opportunity"') == 2
    assert "株式会社山田製作所" in page and "Cross-sell" in page and "¥120,000" in page
    everyone = "/expansion?status=open&kind=seats&stage=&owner_id="  # the form's "All"
    filtered = client.get(everyone, headers={"Accept-Language": "en"}).text
    assert filtered.count('data-testid="opportunity"') == 1 and "Acme Japan K.K." in filtered
    ja = client.get("/expansion?kind=cross_sell", headers={"Accept-Language": "ja"}).text
    assert "クロスセル" in ja and "確度確認済み" in ja and "拡大" in ja
    with session_scope() as s:
        oid = s.scalars(select(Opportunity.id).where(Opportunity.kind == "cross_sell")).one()
    closed = client.post(f"/expansion/opportunities/{oid}/close",
                         data={"csrf_token": token, "outcome": "won",
                               "close_date": "2030-01-20"}, follow_redirects=False)  # fmt: skip
    assert closed.status_code == 303
    with session_scope() as s:
        o = s.get(Opportunity, oid)
        assert o is not None
        assert (o.stage, o.close_date.isoformat() if o.close_date else None) == (
            "won",
            "2030-01-20",
        )
        actions = s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.startswith("opp"))
            .order_by(AuditEntry.id)
        )
        assert list(actions) == ["opportunity.create", "opportunity.create", "opportunity.close"]
    assert client.get("/expansion").text.count('data-testid="opportunity"') == 1
    won = client.get(f"/expansion?status=closed&stage=won&owner_id={world.sato_member}").text
    assert won.count('data-testid="opportunity"') == 1
    theirs = f"/expansion?status=closed&owner_id={world.tanaka_member}"
    assert client.get(theirs).text.count('data-testid="opportunity"') == 0
    assert client.get("/expansion?owner_id=x").status_code == 422
    bad = client.post("/expansion/opportunities",
                      data={"csrf_token": token, "account_id": world.yamada, "kind": "seats",
                            "stage": "nope"})  # fmt: skip
    assert bad.status_code == 400 and "Unknown stage nope" in bad.text
    assert "Traceback" not in bad.text


def test_a_viewer_sees_the_list_without_forms(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    with session_scope() as s:
        s.add(Opportunity(account_id=world.yamada, kind="upsell", expected_mrr=5,
                          stage="identified", owner_id=world.sato_member,
                          source="manual"))  # fmt: skip
    token = sign_in("viewer")
    page = client.get("/expansion").text
    assert page.count('data-testid="opportunity"') == 1
    assert 'action="/expansion/opportunities' not in page
    for path, data in (
        ("/expansion/opportunities", {"account_id": world.yamada, "kind": "upsell"}),
        ("/expansion/opportunities/1/close", {"outcome": "won"}),
    ):
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
