"""The success plan on the account 360: the owner CSM drafts the first objective from the
handoff, changes its status with htmx (the section comes back changed, audited, in the history)
and sees a mistake in the section; a viewer sees the plan without forms and gets 403 from
every post; the section reads in Japanese."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.success import handoff
from banso.success.models import SuccessObjective
from web.conftest import csrf_of, sign_in_as
from web.world import EMAILS, World

HTMX = {"HX-Request": "true", "Accept-Language": "en"}


def _handoff(world: World) -> None:
    with session_scope() as s:
        handoff.set_handoff(s, world.yamada, promised_outcome="月次決算を3日で締める",
                            stakeholders="経理部長 山田 (sponsor)", source="crm")  # fmt: skip


def test_the_owner_csm_starts_the_plan_from_the_handoff_and_updates_it(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    _handoff(world)
    token = sign_in("csm")
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "en"}).text
    assert 'data-testid="success-plan"' in page and 'data-testid="no-objectives"' in page
    assert 'value="月次決算を3日で締める"' in page  # the draft from the promised outcome
    assert 'name="from_handoff" value="1"' in page
    added = client.post(
        f"/accounts/{world.yamada}/success-plan/objectives", headers=HTMX,
        data={"csrf_token": token, "title": "月次決算を3日で締める", "measured_by": "kpi",
              "kpi_name": "Days to close", "baseline": "8", "target": "3",
              "from_handoff": "1"},
    )  # fmt: skip
    assert added.status_code == 200, added.text
    assert added.text.count('data-testid="objective"') == 1
    assert "From the sales handoff" in added.text and 'name="from_handoff"' not in added.text
    with session_scope() as s:
        oid = s.scalars(select(SuccessObjective.id)).one()
    changed = client.post(f"/success-plan/objectives/{oid}", headers=HTMX,
                          data={"csrf_token": token, "status": "at_risk", "value": "6",
                                "note": "AP joins in May"})  # fmt: skip
    assert changed.status_code == 200
    assert 'data-testid="objective-status">At risk of missing<' in changed.text
    assert 'data-testid="objective-progress">40.0%<' in changed.text  # (6 - 8) / (3 - 8)
    assert "AP joins in May" in changed.text and "History: 2 entries" in changed.text
    wrong = client.post(f"/success-plan/objectives/{oid}", headers=HTMX,
                        data={"csrf_token": token, "value": "six"})  # fmt: skip
    assert wrong.status_code == 200 and 'data-testid="plan-error"' in wrong.text
    assert "value must be a number (got six)." in wrong.text
    plain = client.post(f"/success-plan/objectives/{oid}", follow_redirects=False,
                        data={"csrf_token": token, "status": "on_track"})  # fmt: skip
    assert (plain.status_code, plain.headers["location"]) == (
        303,
        f"/accounts/{world.yamada}#success-plan",
    )
    with session_scope() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.action.startswith("objective."))
            .order_by(AuditEntry.id)
        ).all()  # fmt: skip
    assert actions == ["objective.create", "objective.update", "objective.update"]
    # Midori is another CSM's account: no forms there, and its posts are refused
    other = client.get(f"/accounts/{world.midori}").text
    assert 'data-testid="objective-add-form"' not in other
    form = {"csrf_token": token, "title": "t", "target": "1", "measured_by": "kpi",
            "kpi_name": "k", "baseline": "0"}  # fmt: skip
    refused = client.post(f"/accounts/{world.midori}/success-plan/objectives", data=form)
    assert refused.status_code == 403
    ja = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "ja"}).text
    assert "サクセスプラン" in ja and "営業からの引き継ぎ" in ja and "未達リスク" in ja


def test_a_viewer_sees_the_plan_without_forms_and_cannot_post(
    client: TestClient, world: World
) -> None:
    _handoff(world)
    with session_scope() as s:
        from banso.success import service

        oid = service.add_objective(s, world.yamada, "Daily use", kpi="Users", baseline=0,
                                    target=20).id  # fmt: skip
    sign_in_as(client, EMAILS["viewer"])
    token = csrf_of(client)
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "en"}).text
    assert 'data-testid="objective"' in page and "Daily use" in page
    assert "<form" not in page.split('id="success-plan"')[1].split("</section>")[0]
    for url, data in (
        (f"/success-plan/objectives/{oid}", {"status": "achieved"}),
        (f"/accounts/{world.yamada}/success-plan/objectives",
         {"title": "t", "target": "1", "measured_by": "kpi", "kpi_name": "k", "baseline": "0"}),
        (f"/accounts/{world.yamada}/handoff", {"deal_notes": "x"}),
    ):  # fmt: skip
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403
    with session_scope() as s:
        assert s.get(SuccessObjective, oid).status == "not_started"  # type: ignore[union-attr]
