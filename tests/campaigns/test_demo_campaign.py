"""A campaign to a segment of the demo world through the CLI and a real SMTP server: sent once,
then the unsubscribed and the quiet period are left out of the next one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.campaigns.world import smtp_server

from banso.server.app import create_app

pytestmark = pytest.mark.slow


def template(path: Path, subject: str, body: str) -> str:
    path.write_text(f"Subject: {subject}\n\n{body}", encoding="utf-8")
    return str(path)


def test_a_demo_segment_gets_the_campaign_once(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--accounts", "30", "--months", "4", "--end", "2026-06-01",
               "--event-scale", "0.2")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    monkeypatch.setenv("BANSO_TODAY", "2026-06-01")
    assert cli("segments", "evaluate", "--as-of", "2026-05-31").exit_code == 0
    segments = json.loads(cli("segments", "list", "--format", "json").stdout)["segments"]
    segment = max(segments, key=lambda s: s["accounts"] or 0)["segment"]
    body = "{{ contact.name }}\n\nhttps://help.vendor.example/webinar\n\n{{ unsubscribe_url }}\n"
    ja = template(tmp_path / "ja.txt", "{{ account.name }} 様へ", body)
    en = template(tmp_path / "en.txt", "For {{ account.name }}", body)
    created = cli("campaigns", "create", "--name", "Webinar", "--segment", segment,
                  "--template-ja", ja, "--template-en", en)  # fmt: skip
    assert created.exit_code == 0, created.stderr
    preview = json.loads(cli("campaigns", "preview", "1", "--format", "json").stdout)
    assert preview["contacts"] > 0
    with smtp_server() as (box, port):
        monkeypatch.setenv("BANSO_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("BANSO_SMTP_PORT", str(port))
        first = cli("campaigns", "send")
        second = cli("campaigns", "send")
    assert first.exit_code == 0, first.stderr
    assert f"{preview['contacts']} emails queued" in first.stdout
    assert "No campaign is due on 2026-06-01." in second.stdout
    assert sorted(str(m["To"]) for m in box.messages) == sorted(
        r["email"] for r in preview["recipients"]
    )
    [run] = json.loads(cli("campaigns", "stats", "1", "--format", "json").stdout)
    assert (run["queued"], run["sent"]) == (preview["contacts"], preview["contacts"])

    # one recipient unsubscribes; a second campaign the next day leaves everyone out: the
    # unsubscribed address, and all the others for the 7-day quiet period
    link = str(box.messages[0]["List-Unsubscribe"]).strip("<>")
    with TestClient(create_app()) as client:
        assert client.post("/unsubscribe/" + link.rsplit("/", 1)[1]).status_code == 200
    monkeypatch.setenv("BANSO_TODAY", "2026-06-02")
    assert cli("campaigns", "create", "--name", "Follow-up", "--segment", segment,
               "--template-ja", ja, "--template-en", en).exit_code == 0  # fmt: skip
    again = json.loads(cli("campaigns", "preview", "2", "--format", "json").stdout)
    assert again["contacts"] == 0
    assert again["excluded_suppressed"] == preview["excluded_suppressed"] + 1
    assert again["excluded_quiet"] == preview["contacts"] - 1
