"""The Campaigns page: ops and admin list, create (with a field's error shown) and preview;
other roles are refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.campaigns.world import PASSWORD, build_world, csrf_of, sign_in

from banso.db import session_scope
from banso.server.app import create_app
from banso.users.service import create_user


@pytest.fixture
def client() -> Iterator[TestClient]:
    build_world()
    with session_scope() as s:
        create_user(s, "ops@vendor.example", name="Ops", role="ops", password=PASSWORD)
        create_user(s, "viewer@vendor.example", name="View", role="viewer", password=PASSWORD)
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


FORM = {
    "name": "June news",
    "segment": "smb",
    "schedule": "once",
    "subject_en": "News for {{ account.name }}",
    "body_en": "Hello {{ contact.name }}\n\nhttps://docs.vendor.example/new\n",
    "subject_ja": "お知らせ",
    "body_ja": "{{ contact.name }} 様\n\nhttps://docs.vendor.example/new\n",
    "tracking": "true",
}


def test_ops_creates_a_campaign_and_sees_its_audience_and_both_languages(
    client: TestClient,
) -> None:
    csrf = sign_in(client, "ops@vendor.example")
    assert client.get("/campaigns").status_code == 200
    created = client.post("/campaigns", data={**FORM, "csrf_token": csrf}, follow_redirects=False)
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert '<dd data-count="contacts">2</dd>' in page.text
    assert '<dd data-count="accounts">2</dd>' in page.text
    assert '<dd data-count="suppressed">1</dd>' in page.text
    assert '<dd data-count="no-email">1</dd>' in page.text
    assert "News for One" in page.text  # Ann, the first English recipient
    assert "鈴木 様" in page.text  # the first Japanese recipient
    assert "June news" in client.get("/campaigns").text


def test_a_bad_template_is_shown_with_its_field_and_nothing_is_stored(client: TestClient) -> None:
    csrf = sign_in(client, "ops@vendor.example")
    bad = {**FORM, "body_en": "Hi {{ secret }}", "csrf_token": csrf}
    answer = client.post("/campaigns", data=bad)
    assert answer.status_code == 422
    assert "body_en: unknown variables secret" in answer.text
    assert "No campaign yet." in answer.text


def test_a_viewer_may_not_see_campaigns_and_a_missing_csrf_token_is_refused(
    client: TestClient,
) -> None:
    sign_in(client, "viewer@vendor.example")
    assert client.get("/campaigns").status_code == 403
    client.post("/sign-out", data={"csrf_token": csrf_of(client)})
    sign_in(client, "ops@vendor.example")
    assert client.post("/campaigns", data=FORM).status_code == 403


def test_the_api_creates_a_campaign_and_gives_its_audience_and_runs(client: TestClient) -> None:
    headers = {"X-CSRF-Token": sign_in(client, "ops@vendor.example")}
    body = {k: v for k, v in FORM.items() if k != "tracking"} | {"first_send_on": "2099-01-05"}
    created = client.post("/api/campaigns", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["next_send_on"] == "2099-01-05"
    detail = client.get(f"/api/campaigns/{created.json()['id']}?day=2025-06-02").json()
    assert detail["audience"] == {
        "day": "2025-06-02", "contacts": 2, "accounts": 2, "excluded_suppressed": 1,
        "excluded_no_email": 1, "excluded_quiet": 0,
    }  # fmt: skip
    assert detail["runs"] == []
    again = client.post("/api/campaigns", json=body, headers=headers)
    assert again.status_code == 422
    assert "a campaign named June news exists" in again.text
    assert [c["name"] for c in client.get("/api/campaigns").json()] == ["June news"]
    assert client.get("/api/campaigns/99").status_code == 404
