"""Campaigns against a real SMTP server: the audience, sending once, unsubscribes, the quiet
period, and opens and clicks coming back through the tracking endpoints."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.campaigns.world import DAY, build_world, mail_settings, parts, smtp_server

from banso.campaigns import service
from banso.campaigns.models import Campaign, CampaignMessage
from banso.campaigns.settings import CampaignSettings
from banso.campaigns.templates import TemplateRejected
from banso.db import session_scope
from banso.flows.merge import merge_accounts
from banso.messaging import outbox
from banso.messaging.models import OutboxMessage, Suppression
from banso.server.app import create_app

PUBLIC = "https://banso.vendor.example"
DOCS = "https://docs.vendor.example/new?a=1&b=2"


def spec(name: str = "June news", **changes: object) -> service.CampaignInput:
    values: dict[str, object] = {
        "name": name,
        "segment": "smb",
        "subject_en": "News for {{ account.name }}",
        "body_en": f"Hello {{{{ contact.name }}}},\n\nWhat is new: {DOCS}\n\n"
        "Unsubscribe: {{ unsubscribe_url }}\n",
        "subject_ja": "{{ account.name }} 様へのお知らせ",
        "body_ja": f"{{{{ contact.name }}}} 様\n\n新機能: {DOCS}\n\n"
        "配信停止: {{ unsubscribe_url }}\n",
    }
    return service.CampaignInput(**(values | changes))  # type: ignore[arg-type]


def create(name: str = "June news", day: date = DAY, **changes: object) -> int:
    with session_scope() as s:
        return service.create(s, spec(name, **changes), day, actor="test").id


def send(day: date, port: int, public: str = PUBLIC) -> list[service.RunResult]:
    with session_scope() as s:
        results = service.send_due(s, day, CampaignSettings(), mail_settings(port, public))
    outbox.deliver(settings=mail_settings(port, public))
    return results


def test_the_audience_counts_who_receives_and_who_is_left_out_and_why() -> None:
    build_world()
    campaign_id = create()
    with session_scope() as s:
        people = service.audience(s, s.get(Campaign, campaign_id), DAY)
    # Ann (1) and 鈴木 (3) receive; Ben has no address, 佐藤 unsubscribed; Carl left; Dora is
    # in another segment
    assert [r.email for r in people.recipients] == ["ann@one.example", "suzuki@three.example"]
    assert (people.contacts, people.accounts) == (2, 2)
    assert (people.excluded_no_email, people.excluded_suppressed, people.excluded_quiet) == (
        1,
        1,
        0,
    )
    with session_scope() as s:  # a language filter keeps only that language's contacts
        campaign = s.get(Campaign, campaign_id)
        campaign.language = "en"
        assert [r.email for r in service.audience(s, campaign, DAY).recipients] == [
            "ann@one.example"
        ]


def test_a_campaign_is_sent_once_in_each_contacts_language_and_tracks_opens_and_clicks(
    any_db: str,
) -> None:
    build_world()
    campaign_id = create()
    with smtp_server() as (box, port):
        [first] = send(DAY, port)
        again = send(DAY, port)
        next_day = send(DAY + timedelta(days=1), port)
    assert (first.queued, again, next_day) == (2, [], [])
    assert box.to() == ["ann@one.example", "suzuki@three.example"]
    ann = next(m for m in box.messages if m["To"] == "ann@one.example")
    suzuki = next(m for m in box.messages if m["To"] == "suzuki@three.example")
    assert str(ann["Subject"]) == "News for One"
    assert str(suzuki["Subject"]) == "Three 様へのお知らせ"
    text, html = parts(ann)
    assert text.startswith("Hello Ann,") and DOCS in text  # the text part keeps the plain link
    unsubscribe = str(ann["List-Unsubscribe"]).strip("<>")
    assert unsubscribe.startswith(f"{PUBLIC}/unsubscribe/")
    [pixel] = re.findall(r'<img src="([^"]+)"', html)
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)
    assert [shown for _href, shown in links] == [DOCS.replace("&", "&amp;"), unsubscribe]
    tracked = links[0][0]
    assert tracked.startswith(f"{PUBLIC}/t/c/") and links[1][0] == unsubscribe
    with session_scope() as s:
        assert s.scalars(select(Campaign.next_send_on)).one() is None
        keys = sorted(s.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == [f"campaign/{campaign_id}/2025-06-02/1", f"campaign/{campaign_id}/2025-06-02/4"]

    with TestClient(create_app()) as client:
        opened = client.get(urlsplit(pixel).path)
        client.get(urlsplit(pixel).path)  # a second open of the same message counts once
        clicked = client.get(urlsplit(tracked).path, follow_redirects=False)
        forged = client.get("/t/c/eyJjIjoxLCJ1IjoiaHR0cHM6Ly9ldmlsLmV4YW1wbGUifQ.x",
                            follow_redirects=False)  # fmt: skip
        forged_pixel = client.get("/t/o/nonsense.gif")
    assert (opened.status_code, opened.headers["content-type"]) == (200, "image/gif")
    assert opened.content.startswith(b"GIF89a")
    assert (clicked.status_code, clicked.headers["location"]) == (302, DOCS)
    assert forged.status_code == 404 and "location" not in forged.headers
    assert forged_pixel.status_code == 200  # the image always loads; nothing is counted
    with session_scope() as s:
        [run] = service.stats(s, campaign_id)
    assert (run.queued, run.sent, run.bounced, run.waiting) == (2, 2, 0, 0)
    assert (run.opened, run.clicked) == (1, 1)
    assert (run.excluded_no_email, run.excluded_suppressed) == (1, 1)


def test_unsubscribed_contacts_and_the_quiet_period_are_respected(any_db: str) -> None:
    build_world()
    create()
    with smtp_server() as (box, port):
        send(DAY, port)
        ann = next(m for m in box.messages if m["To"] == "ann@one.example")
        token = str(ann["List-Unsubscribe"]).strip("<>").rsplit("/", 1)[1]
        with TestClient(create_app()) as client:
            assert client.post(f"/unsubscribe/{token}").status_code == 200
        # the next campaign, 6 days later: 鈴木 is in the 7-day quiet period, Ann unsubscribed
        create("Webinar", DAY + timedelta(days=6))
        [quiet] = send(DAY + timedelta(days=6), port)
        # on day 7 the quiet period is over for 鈴木
        create("Survey", DAY + timedelta(days=7))
        [later] = send(DAY + timedelta(days=7), port)
    assert (quiet.queued, quiet.excluded_quiet, quiet.excluded_suppressed) == (0, 1, 2)
    assert (later.queued, later.excluded_quiet, later.excluded_suppressed) == (1, 0, 2)
    assert box.to() == ["ann@one.example", "suzuki@three.example", "suzuki@three.example"]
    with session_scope() as s:
        assert sorted(s.scalars(select(Suppression.email))) == [
            "ann@one.example", "sato@two.example"
        ]  # fmt: skip


def test_a_weekly_campaign_runs_on_each_of_its_days_once() -> None:
    build_world()
    campaign_id = create("Weekly tips", schedule="weekly")
    settings = CampaignSettings(campaign_quiet_days=1)
    sent_days = []
    for offset in range(15):
        day = DAY + timedelta(days=offset)
        with session_scope() as s:
            sent_days += [
                r.run_on for r in service.send_due(s, day, settings, mail_settings(1, PUBLIC))
            ]
    assert sent_days == [DAY, DAY + timedelta(days=7), DAY + timedelta(days=14)]
    with session_scope() as s:
        assert s.get(Campaign, campaign_id).next_send_on == DAY + timedelta(days=21)


def test_a_monthly_campaign_keeps_its_day_and_falls_back_to_the_months_end() -> None:
    assert service._next_send("monthly", date(2025, 1, 31), date(2025, 1, 31)) == date(2025, 2, 28)
    assert service._next_send("monthly", date(2025, 2, 28), date(2025, 2, 28)) == date(2025, 3, 28)
    assert service._next_send("weekly", date(2025, 6, 2), date(2025, 6, 20)) == date(2025, 6, 23)
    assert service._next_send("once", date(2025, 6, 2), date(2025, 6, 2)) is None


def test_without_tracking_the_email_has_plain_links_and_no_pixel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_world()
    create("Untracked", tracking=False)
    with smtp_server() as (box, port):
        send(DAY, port)
    monkeypatch.setenv("BANSO_CAMPAIGN_TRACKING", "false")  # the global switch
    create("Globally untracked", DAY + timedelta(days=8))
    with smtp_server() as (box2, port):
        with session_scope() as s:
            service.send_due(s, DAY + timedelta(days=8), None, mail_settings(port, PUBLIC))
        outbox.deliver(settings=mail_settings(port, PUBLIC))
    for message in [*box.messages, *box2.messages]:
        _text, html = parts(message)
        assert "/t/" not in html and "<img" not in html
        assert f'<a href="{DOCS.replace("&", "&amp;")}">' in html
    assert len(box.messages) == len(box2.messages) == 2


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"segment": "nope"}, "segment", "unknown segment nope"),
        (
            {"body_en": "Hi {{ contact.name }} {{ password }}"},
            "body_en",
            "unknown variables password",
        ),
        ({"subject_ja": "{% if %}"}, "subject_ja", "template syntax error on line 1"),
        ({"schedule": "daily"}, "schedule", "choose one of once, weekly, monthly"),
        ({"first_send_on": DAY - timedelta(days=1)}, "first_send_on", "cannot be in the past"),
    ],
)
def test_a_bad_campaign_is_rejected_with_its_field_and_nothing_is_stored(
    changes: dict[str, object], field: str, reason: str
) -> None:
    build_world()
    with pytest.raises(service.CampaignRejected) as problem, session_scope() as s:
        service.create(s, spec(**changes), DAY)
    assert problem.value.field == field and reason in problem.value.reason
    with session_scope() as s:
        assert service.campaigns(s) == []


def test_the_sandbox_refuses_unsafe_attribute_access() -> None:
    build_world()
    campaign_id = create(body_en="{{ contact.__class__.__mro__ }}")
    with session_scope() as s, pytest.raises(TemplateRejected):
        service.preview_email(s.get(Campaign, campaign_id), "en", None)


def test_a_merge_moves_the_campaign_emails_to_the_kept_account() -> None:
    build_world()
    create()
    with session_scope() as s:
        service.send_due(s, DAY, CampaignSettings(), mail_settings(1, PUBLIC))
    with session_scope() as s:
        merge_accounts(s, 1, 3)
    with session_scope() as s:
        rows = s.execute(select(CampaignMessage.account_id, CampaignMessage.email)).all()
    assert sorted(rows) == [(1, "ann@one.example"), (1, "suzuki@three.example")]


def test_a_hard_bounce_is_counted_and_the_address_is_left_out_next_time() -> None:
    build_world()
    campaign_id = create()
    with smtp_server() as (box, port):
        box.refuse.add("suzuki@three.example")
        send(DAY, port)
    with session_scope() as s:
        [run] = service.stats(s, campaign_id)
    assert (run.queued, run.sent, run.bounced) == (2, 1, 1)
    later = create("Later", DAY + timedelta(days=10))
    with session_scope() as s:
        people = service.audience(s, service.get(s, later), DAY + timedelta(days=10))
    assert [r.email for r in people.recipients] == ["ann@one.example"]
    assert people.excluded_suppressed == 2  # 佐藤 unsubscribed, 鈴木 bounced


def test_a_survey_campaign_sends_the_survey_invitation_once_with_its_quiet_period() -> None:
    from banso.voc.models import SurveyInvitation

    build_world()
    campaign_id = create("NPS June", survey="nps", subject_en="", body_en="", subject_ja="",
                         body_ja="")  # fmt: skip
    later = create("NPS again", survey="nps", subject_en="", body_en="", subject_ja="",
                   body_ja="", first_send_on=DAY + timedelta(days=1))  # fmt: skip
    with smtp_server() as (box, port):
        [first] = send(DAY, port)
        again = send(DAY, port)
        [next_day] = send(DAY + timedelta(days=1), port)
    assert (first.queued, again) == (2, [])
    assert (next_day.campaign_id, next_day.queued, next_day.excluded_quiet) == (later, 0, 2)
    assert box.to() == ["ann@one.example", "suzuki@three.example"]
    with session_scope() as s:
        invitations = s.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id)).all()
        assert [(i.email, i.origin) for i in invitations] == [
            ("ann@one.example", f"campaign:{campaign_id}"),
            ("suzuki@three.example", f"campaign:{campaign_id}")]
    body = box.messages[0].get_body(("plain",)).get_content()
    assert "/s/" in body


def test_a_survey_campaign_names_an_existing_survey() -> None:
    build_world()
    with pytest.raises(service.CampaignRejected) as refused:
        create("Bad survey", survey="nope", subject_en="", body_en="", subject_ja="", body_ja="")
    assert "There is no survey nope" in str(refused.value)
