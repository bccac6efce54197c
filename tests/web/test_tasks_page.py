"""My tasks and the account's open CTAs; the public unsubscribe link of playbook e-mails."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.dates import today as company_today
from banso.db import session_scope
from banso.messaging.delivery import unsubscribe_token
from banso.messaging.models import Suppression
from banso.playbooks.models import Cta, CtaTask
from web.world import World


def _ctas(world: World) -> None:
    today = company_today()
    with session_scope() as s:
        mine = Cta(
            account_id=world.yamada,
            playbook="renewal",
            reason="due",
            type="renewal",
            priority="high",
            title="更新準備のミーティングを設定",
            status="open",
            owner_id=world.sato_member,
            due_date=today + timedelta(days=3),
            first_triggered_on=today,
            last_triggered_on=today,
            trigger_count=1,
        )
        theirs = Cta(
            account_id=world.midori,
            playbook="onboarding",
            reason="stalled",
            type="risk",
            priority="medium",
            title="Kick-off follow-up",
            status="open",
            owner_id=world.tanaka_member,
            due_date=today - timedelta(days=1),
            first_triggered_on=today,
            last_triggered_on=today,
            trigger_count=1,
        )
        closed = Cta(
            account_id=world.yamada,
            playbook="risk",
            reason="old",
            type="risk",
            priority="low",
            title="Closed long ago",
            status="closed",
            owner_id=world.sato_member,
            due_date=today,
            first_triggered_on=today,
            last_triggered_on=today,
            trigger_count=1,
        )
        s.add_all([mine, theirs, closed])
        s.flush()
        s.add_all(
            [
                CtaTask(cta_id=mine.id, position=1, title="議題を送る", due_date=today),
                CtaTask(cta_id=mine.id, position=2, title="日程を確定", due_date=today),
            ]
        )


def test_a_csm_sees_own_open_ctas_and_can_look_at_everyones(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    _ctas(world)
    sign_in("csm")
    mine = client.get("/tasks").text
    assert mine.count('data-testid="cta"') == 1
    assert "更新準備のミーティングを設定" in mine and "議題を送る" in mine
    assert mine.count('data-testid="task-toggle" aria-pressed="false"') == 2
    everyone = client.get("/tasks?everyone=true").text
    assert everyone.count('data-testid="cta"') == 2
    assert everyone.index("Kick-off follow-up") < everyone.index("更新準備")  # overdue first
    account = client.get(f"/accounts/{world.yamada}").text
    assert "更新準備のミーティングを設定" in account and "Closed long ago" not in account


def test_unsubscribe_link_confirms_then_suppresses_without_a_session(
    client: TestClient,
) -> None:
    token = unsubscribe_token("Taro@Yamada-SS.co.jp", None)
    assert "Stop receiving these e-mails?" in client.get(f"/unsubscribe/{token}").text
    fresh = TestClient(client.app)  # a mail client's one-click POST: no cookie, no CSRF token
    done = fresh.post(f"/unsubscribe/{token}")
    assert done.status_code == 200
    assert "taro@yamada-ss.co.jp will receive no more of these e-mails." in done.text
    assert fresh.post(f"/unsubscribe/{token}x").status_code == 400
    with session_scope() as s:
        assert s.scalars(select(Suppression.email)).all() == ["taro@yamada-ss.co.jp"]
