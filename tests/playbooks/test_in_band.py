"""The "while in band" trigger: a red account gets a CTA whether it just turned red or has been
red for months, never a second one while the first is open, and again only once the cool-down
after the last one closed has passed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
from sqlalchemy import func, select
from tests.playbooks.world import build_world

from banso.db import session_scope
from banso.playbooks import ctas, service
from banso.playbooks.actions import apply, load_context
from banso.playbooks.config import template_dirs
from banso.playbooks.models import Cta, CtaTask, PlaybookFiring
from banso.playbooks.triggers import FIRING_SCHEMA

FIRST = date(2025, 6, 2)


def _red(day: date) -> pa.Table:
    return pa.Table.from_pylist(
        [{"account_id": 1, "day": day, "detail": json.dumps({"band": "red"}), "mrr": 100000,
          "band": "red", "segment": "enterprise"}], schema=FIRING_SCHEMA,
    )  # fmt: skip


def _run(day: date) -> int:
    with session_scope() as s:
        playbook = service.selected(["health-red"])[0]
        counts = apply(s, playbook, _red(day), load_context(s, [1], template_dirs(None)))
        return counts.ctas_created


def test_cool_down_after_close_then_a_new_cta(banso_home) -> None:  # type: ignore[no-untyped-def]
    build_world()
    assert service.selected(["health-red"])[0].cooldown_days == 30
    assert _run(FIRST) == 1
    assert _run(FIRST) == 0  # the same day again: exactly once
    assert _run(FIRST + timedelta(days=1)) == 0  # still red, CTA open: nothing
    with session_scope() as s:
        cta = s.scalars(select(Cta)).one()
        assert s.scalar(select(func.count()).select_from(PlaybookFiring)) == 1
        # stored in both languages, shown in the reader's
        assert (
            ctas.localized(cta.title, cta.title_texts, "ja") == "ヘルススコアが危険: 原因を確認"
        )
        assert ctas.localized(cta.title, cta.title_texts, "en") == "Health is red: find out why"
        task = s.scalars(select(CtaTask).order_by(CtaTask.position)).first()
        assert task is not None
        assert ctas.localized(task.title, task.title_texts, "ja") == "スコア変動の要因を確認"
        closed = ctas.close(s, cta.id, "resolved", "sato@vendor.example")
        closed.closed_at = datetime(2025, 6, 10, 3, tzinfo=UTC)
    assert _run(date(2025, 7, 9)) == 0  # 29 days after the close
    assert _run(date(2025, 7, 10)) == 1  # 30 days after: red again, a new CTA
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Cta).where(Cta.status == "open")) == 1


def test_rows_from_before_both_languages_were_kept_still_show() -> None:
    assert ctas.localized("更新準備", None, "en") == "更新準備"
    assert ctas.localized("更新準備", "not json", "en") == "更新準備"
    assert ctas.localized("x", json.dumps({"ja": "日本語だけ"}), "en") == "x"
    assert ctas.localized("x", json.dumps({"en": "English"}), "ja") == "English"


def test_replay_counts_one_firing_per_red_account(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    assert cli("health", "score", "--from", "2025-06-01", "--to", "2025-06-30").exit_code == 0
    result = cli("playbooks", "replay", "health-red", "--from", "2025-06-01", "--to",
                 "2025-06-30", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [replay] = json.loads(result.stdout)
    totals = replay["totals"]
    assert totals["firings"] == totals["ctas_created"] and totals["ctas_updated"] == 0


def test_ctas_list_owner_takes_sign_in_email_or_name_and_says_when_none(
    cli,  # type: ignore[no-untyped-def]
    banso_home,  # type: ignore[no-untyped-def]
) -> None:
    build_world()
    made = cli("users", "create", "hanako@signin.example", "--role", "csm", "--name", "Hanako",
               "--password", "correct-horse-1", "--member", "sato@vendor.example")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert _run(FIRST) == 1
    for who in ("hanako@signin.example", "佐藤 花子", "SATO@vendor.example", "Hanako"):
        listed = cli("ctas", "list", "--owner", who, "--format", "json")
        assert listed.exit_code == 0, listed.stderr
        assert [r["owner"] for r in json.loads(listed.stdout)] == ["sato@vendor.example"], who
    table = cli("ctas", "list", "--owner", "hanako@signin.example")
    assert "Health" in table.stdout and "High" in table.stdout  # priority as a word
    none = cli("ctas", "list", "--owner", "Ken Ito")
    assert (none.exit_code, none.stdout.strip()) == (0, "Ken Ito (ito@vendor.example) has no CTAs.")
    unknown = cli("ctas", "list", "--owner", "nobody@x.example")
    assert unknown.exit_code == 2
    assert "No team member or user linked to a team member is called 'nobody@x.example'" in (
        unknown.stderr
    )
