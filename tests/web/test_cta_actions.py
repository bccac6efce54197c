"""Acting on CTAs in the web app (forms, htmx partials) and through /api/ctas: who may do
what, what is stored, what the audit log says, titles in the reader's language."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.dates import today as company_today
from banso.db import session_scope, utcnow
from banso.playbooks.models import Cta, CtaEvent, CtaTask
from banso.users.tokens import create_token
from web.world import EMAILS, World

HX = {"HX-Request": "true"}


def _playbook_cta(world: World, owner: int, account: int) -> tuple[int, list[int]]:
    """A CTA as a Japanese `banso run` stored it, with both languages kept."""
    today = company_today()
    with session_scope() as s:
        cta = Cta(
            account_id=account, playbook="health-red", reason="health_red", type="risk",
            priority="high", title="ヘルススコアが危険: 原因を確認",
            title_texts=json.dumps({"en": "Health is red: find out why",
                                    "ja": "ヘルススコアが危険: 原因を確認"}),
            status="open", owner_id=owner, due_date=today, first_triggered_on=today,
            last_triggered_on=today, trigger_count=1,
        )  # fmt: skip
        s.add(cta)
        s.flush()
        tasks = [
            CtaTask(cta_id=cta.id, position=i, title=ja, due_date=today,
                    title_texts=json.dumps({"en": en, "ja": ja}))
            for i, (en, ja) in enumerate([("Call the champion", "チャンピオンに電話"),
                                          ("Agree a recovery plan", "改善プランを合意")], 1)
        ]  # fmt: skip
        s.add_all(tasks)
        s.flush()
        return cta.id, [t.id for t in tasks]


def _audit_actions() -> list[tuple[str, str, str]]:
    with session_scope() as s:
        return [
            tuple(r)  # type: ignore[misc]
            for r in s.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
                .where(AuditEntry.action.startswith("cta."))
                .order_by(AuditEntry.id)
            )
        ]


def test_a_csm_works_a_cta_from_the_360_and_my_tasks(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("csm")
    form = {"csrf_token": token}
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "en"}).text
    assert 'data-testid="cta-create"' in page
    created = client.post(
        "/ctas",
        data={**form, "account_id": world.yamada, "title": "", "type": "risk",
              "priority": "urgent", "template": "health-red", "view": "account"},
        headers=HX,
    )  # fmt: skip
    assert created.status_code == 200, created.text
    assert created.text.count('data-testid="cta"') == 1
    assert created.text.count('data-testid="cta-task"') == 3  # the playbook's three steps
    with session_scope() as s:
        cta = s.scalars(select(Cta)).one()
        tasks = s.scalars(select(CtaTask).order_by(CtaTask.position)).all()
        assert (cta.playbook, cta.priority, cta.owner_id) == ("manual", "urgent", world.sato_member)
        assert json.loads(cta.title_texts or "{}")["en"] == "Health is red: find out why"
        task_ids = [t.id for t in tasks]

    ticked = client.post(f"/ctas/{cta.id}/tasks/{task_ids[0]}",
                         data={**form, "view": "tasks", "done": "1"}, headers=HX)  # fmt: skip
    assert ticked.status_code == 200
    assert 'aria-pressed="true"' in ticked.text
    assert 'id="cta-counts"' in ticked.text and 'hx-swap-oob="true"' in ticked.text
    unticked = client.post(f"/ctas/{cta.id}/tasks/{task_ids[0]}",
                           data={**form, "view": "tasks", "done": ""}, headers=HX)  # fmt: skip
    assert 'aria-pressed="true"' not in unticked.text

    client.post(f"/ctas/{cta.id}/comments", data={**form, "text": "電話は明日"}, headers=HX)
    past = client.post(f"/ctas/{cta.id}/snooze",
                       data={**form, "until": company_today().isoformat()}, headers=HX)  # fmt: skip
    assert past.status_code == 200 and "Snooze until a day after today" in past.text
    later = (company_today() + timedelta(days=7)).isoformat()
    snoozed = client.post(f"/ctas/{cta.id}/snooze", data={**form, "until": later}, headers=HX)
    assert 'data-testid="cta-gone"' in snoozed.text  # left the queue
    assert "0 open CTAs" in snoozed.text and "1 snoozed" in snoozed.text
    client.post(f"/ctas/{cta.id}/assign", data={**form, "owner_id": world.tanaka_member})
    closed = client.post(f"/ctas/{cta.id}/close",
                         data={**form, "outcome": "resolved", "note": "ok", "view": "account"},
                         headers=HX)  # fmt: skip
    assert "Resolved" in closed.text
    again = client.post(f"/ctas/{cta.id}/close", data={**form, "outcome": "resolved"})
    assert again.status_code == 400
    with session_scope() as s:
        stored = s.get(Cta, cta.id)
        assert stored is not None
        assert (stored.status, stored.outcome, stored.owner_id, stored.snoozed_until) == (
            "closed", "resolved", world.tanaka_member, None,
        )  # fmt: skip
        actions = [e.action for e in s.scalars(select(CtaEvent).order_by(CtaEvent.id))]
    assert actions == ["created", "task_done", "task_undone", "commented", "snoozed",
                       "assigned", "closed"]  # fmt: skip
    assert [a for _who, a, _t in _audit_actions()] == [
        "cta.create", "cta.task", "cta.task", "cta.comment", "cta.update", "cta.update",
        "cta.close",
    ]  # fmt: skip
    assert {who for who, _a, _t in _audit_actions()} == {EMAILS["csm"]}


def test_a_viewer_sees_no_forms_and_every_write_is_403(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    cta_id, tasks = _playbook_cta(world, world.sato_member, world.yamada)
    token = sign_in("viewer")
    page = client.get(f"/accounts/{world.yamada}").text
    assert "<form" not in page.split('id="open-ctas"')[1].split("</section>")[0]
    assert "Health is red: find out why" in client.get("/tasks").text
    form = {"csrf_token": token}
    for path, data in (
        ("/ctas", {"account_id": world.yamada, "title": "x"}),
        (f"/ctas/{cta_id}/tasks/{tasks[0]}", {"done": "1"}),
        (f"/ctas/{cta_id}/comments", {"text": "x"}),
        (f"/ctas/{cta_id}/snooze", {"until": "2099-01-01"}),
        (f"/ctas/{cta_id}/assign", {"owner_id": world.tanaka_member}),
        (f"/ctas/{cta_id}/close", {"outcome": "resolved"}),
    ):
        assert client.post(path, data={**form, **data}).status_code == 403, path
    headers = {"X-CSRF-Token": token}
    for method, path, body in (
        ("POST", "/api/ctas", {"account_id": world.yamada, "title": "x"}),
        ("PATCH", f"/api/ctas/{cta_id}", {"priority": "low"}),
        ("POST", f"/api/ctas/{cta_id}/close", {"outcome": "resolved"}),
        ("PATCH", f"/api/ctas/{cta_id}/tasks/{tasks[0]}", {"done": True}),
        ("POST", f"/api/ctas/{cta_id}/comments", {"text": "x"}),
    ):
        answer = client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 403, (path, answer.text)
    assert _audit_actions() == []


def test_a_csm_may_not_touch_another_csms_cta_on_their_account(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    theirs, _tasks = _playbook_cta(world, world.tanaka_member, world.midori)
    token = sign_in("csm")
    assert client.post(f"/ctas/{theirs}/comments",
                       data={"csrf_token": token, "text": "x"}).status_code == 403  # fmt: skip
    denied = client.post("/ctas", data={"csrf_token": token, "account_id": world.midori,
                                        "title": "x"})  # fmt: skip
    assert denied.status_code == 403


def test_the_api_lists_filters_pages_and_changes_ctas_in_the_callers_language(
    client: TestClient, world: World
) -> None:
    cta_id, tasks = _playbook_cta(world, world.sato_member, world.yamada)
    _other, _t = _playbook_cta(world, world.tanaka_member, world.midori)
    with session_scope() as s:
        _row, value = create_token(s, EMAILS["csm"], "t", ["read", "write"],
                                   utcnow() + timedelta(days=1))  # fmt: skip
    auth = {"Authorization": f"Bearer {value}"}
    en = client.get("/api/ctas?owner=me", headers={**auth, "Accept-Language": "en"}).json()
    assert (en["total"], en["pages"]) == (1, 1)
    [item] = en["items"]
    assert item["title"] == "Health is red: find out why"
    assert item["title_texts"] == {"en": "Health is red: find out why",
                                   "ja": "ヘルススコアが危険: 原因を確認"}  # fmt: skip
    assert [t["title"] for t in item["tasks"]] == ["Call the champion", "Agree a recovery plan"]
    ja = client.get(f"/api/ctas/{cta_id}", headers={**auth, "Accept-Language": "ja"}).json()
    assert ja["title"] == "ヘルススコアが危険: 原因を確認" and ja["priority_label"] == "高"
    assert client.get("/api/ctas?priority=low", headers=auth).json()["total"] == 0
    assert client.get("/api/ctas?page=2", headers=auth).json()["items"] == []
    assert client.get("/api/ctas?owner=999999", headers=auth).status_code == 422
    today = company_today()
    window = f"/api/ctas?due_after={today}&due_before={today}&status=open"
    assert client.get(window, headers=auth).json()["total"] == 2

    later = (today + timedelta(days=3)).isoformat()
    changed = client.patch(f"/api/ctas/{cta_id}", headers=auth,
                           json={"priority": "urgent", "snoozed_until": later})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (changed.json()["priority"], changed.json()["snoozed_until"]) == ("urgent", later)
    assert client.get("/api/ctas?snoozed=true", headers=auth).json()["total"] == 1
    woken = client.patch(f"/api/ctas/{cta_id}", headers=auth, json={"snoozed_until": None})
    assert woken.json()["snoozed_until"] is None
    task = client.patch(f"/api/ctas/{cta_id}/tasks/{tasks[1]}", headers=auth, json={"done": True})
    assert task.json()["done"] is True
    assert client.patch(f"/api/ctas/{_other}/tasks/{tasks[1]}", headers=auth,
                        json={"done": True}).status_code == 404  # fmt: skip
    note = client.post(f"/api/ctas/{cta_id}/comments", headers=auth, json={"text": " 連絡済み "})
    assert (note.status_code, note.json()["text"]) == (201, "連絡済み")
    assert client.post(f"/api/ctas/{_other}/comments", headers=auth,
                       json={"text": "x"}).status_code == 403  # fmt: skip
    closed = client.post(f"/api/ctas/{cta_id}/close", headers=auth,
                         json={"outcome": "renewed", "note": "signed"})  # fmt: skip
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "renewed")
    assert client.post(f"/api/ctas/{cta_id}/close", headers=auth,
                       json={"outcome": "renewed"}).status_code == 400  # fmt: skip
    made = client.post("/api/ctas", headers=auth, json={
        "account_id": world.yamada, "title": "更新の打ち合わせ", "type": "opportunity",
        "due_date": (today + timedelta(days=10)).isoformat()})  # fmt: skip
    assert made.status_code == 201, made.text
    assert (made.json()["owner_id"], made.json()["tasks"]) == (world.sato_member, [])
    read_only = {"Authorization": f"Bearer {_token('csm', ['read'])}"}
    refused = client.post("/api/ctas", headers=read_only,
                          json={"account_id": world.yamada, "title": "x"})  # fmt: skip
    assert refused.status_code == 403


def _token(role: str, scopes: list[str]) -> str:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "t", scopes, utcnow() + timedelta(days=1))
    return value
