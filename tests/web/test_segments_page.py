"""The Segments page and API after an evaluation (ja and en), and the 360's triage forms: a
CSM sets the ratings and overrides the touch model of an account they own (audited); a viewer
gets 403; a bad rating is a 4xx, never a 500."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso import dates
from banso.accounts.models import Account
from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.segments import service
from web.world import World


def _evaluate() -> None:
    with session_scope() as s:
        service.evaluate(s, dates.yesterday())


def test_the_segments_page_lists_rules_counts_mrr_and_members(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    sign_in("viewer")
    before = client.get("/segments", headers={"Accept-Language": "en"})
    assert before.status_code == 200 and "Not evaluated yet" in before.text
    _evaluate()
    api = client.get("/api/segments").json()
    by_name = {s["segment"]: s for s in api["segments"]}
    assert set(by_name) == {"enterprise", "mid", "smb"}
    assert sum(s["accounts"] for s in api["segments"]) == 60
    with session_scope() as s:
        stored = dict(s.execute(select(Account.segment, Account.id)).all())
    assert set(stored) <= set(by_name)
    page = client.get("/segments?segment=smb", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert 'href="/segments" aria-current="page"' in page.text
    assert "Tech touch" in page.text and "(default)" not in page.text
    members = client.get("/api/segments/smb/members?limit=5").json()
    assert members["total"] == by_name["smb"]["accounts"] and len(members["members"]) <= 5
    if members["members"]:
        first = members["members"][0]["account_id"]
        assert f'href="/accounts/{first}"' in page.text
    ja = client.get("/segments", headers={"Accept-Language": "ja"}).text
    assert "セグメント" in ja and "テックタッチ" in ja
    assert client.get("/segments?segment=nope").status_code == 422
    assert client.get("/api/segments/nope/members").status_code == 404


def test_a_csm_rates_and_overrides_an_account_they_own_and_a_viewer_cannot(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    _evaluate()
    token = sign_in("csm")
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "en"})
    assert 'id="set-triage"' in page.text and 'id="touch-override"' in page.text
    saved = client.post(
        f"/accounts/{world.yamada}/triage",
        data={"csrf_token": token, "it_literacy": "2", "motivation": "5"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    bad = client.post(
        f"/accounts/{world.yamada}/triage",
        data={"csrf_token": token, "it_literacy": "9", "motivation": ""},
    )
    assert 400 <= bad.status_code < 500
    until = (dates.today() + timedelta(days=30)).isoformat()
    overridden = client.post(
        f"/accounts/{world.yamada}/touch-override",
        data={"csrf_token": token, "touch_model": "tech", "reason": "pilot of a new module",
              "until": until},
        follow_redirects=False,
    )  # fmt: skip
    assert overridden.status_code == 303
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "en"}).text
    assert "Tech touch" in page and "pilot of a new module" in page and until in page
    with session_scope() as s:
        account = s.get(Account, world.yamada)
        assert (account.it_literacy, account.motivation, account.touch_model) == (2, 5, "tech")
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target == f"account:{world.yamada}")
                .order_by(AuditEntry.id)
            )
        )
    assert actions[-3:] == ["account.triage", "account.touch_override", "account.touch"], actions
    cleared = client.post(
        f"/accounts/{world.yamada}/touch-override/clear", data={"csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert cleared.status_code == 303
    with session_scope() as s:
        account = s.get(Account, world.yamada)
        assert (account.touch_source, account.touch_model) == ("segment", "high")
    viewer = sign_in("viewer")
    refused = client.post(
        f"/accounts/{world.yamada}/triage",
        data={"csrf_token": viewer, "it_literacy": "1", "motivation": "1"},
    )
    assert refused.status_code == 403


def test_an_invalid_segments_file_is_shown_not_a_500(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    from banso.config import get_settings

    config = get_settings().config_path
    config.mkdir(parents=True, exist_ok=True)
    (config / "segments.yaml").write_text(
        "segments: {a: {touch_model: phone}}\ndefault: a\n", encoding="utf-8"
    )
    sign_in("viewer")
    page = client.get("/segments", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "segments.yaml:1: segments.a.touch_model: unknown touch model &#39;phone&#39;" in (
        page.text
    )
    api = client.get("/api/segments")
    assert api.status_code == 400 and "unknown touch model" in api.text
