"""``banso segments`` end to end on the spec's basic_monthly example, and revenue by touch model
and tier following the evaluated segments (one grouping path: the parts add up to the whole)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "revenue"))
from revenue_examples import load_example  # noqa: E402

from banso.config import get_settings  # noqa: E402

# basic_monthly at the end of 2024-02: A 10,000, B 20,000, C 30,000 (JPY a month), ...
RULES = """\
segments:
  top: {label: {en: Top, ja: トップ}, touch_model: high, tier: tier1}
  rest: {touch_model: tech, tier: tier3}
rules:
  - segment: top
    priority: 10
    when:
      mrr: {at_least: 20000}
default: rest
"""


def _rules(text: str = RULES) -> None:
    config = get_settings().config_path
    config.mkdir(parents=True, exist_ok=True)
    (config / "segments.yaml").write_text(text, encoding="utf-8")


def test_evaluate_list_show_and_revenue_by_touch(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("basic_monthly")
    _rules()
    checked = cli("segments", "check-config")
    assert checked.exit_code == 0 and "2 segments, 1 rules, default rest" in checked.stdout
    done = cli("segments", "evaluate", "--as-of", "2024-02-29", "--format", "json")
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["written"] is True
    top, rest = result["segments"]["top"], result["segments"]["rest"]
    assert top["accounts"] + rest["accounts"] == result["changed"]
    assert top["mrr"] >= 20000 * top["accounts"]
    listed = json.loads(cli("segments", "list", "--format", "json").stdout)
    assert listed["day"] == "2024-02-29"
    assert [(s["segment"], s["label"], s["rules"]) for s in listed["segments"]] == [
        ("top", "Top", [{"priority": 10, "when": {"mrr": {"at_least": 20000}}}]),
        ("rest", "rest", []),
    ]
    shown = json.loads(cli("segments", "show", "top", "--format", "json").stdout)
    assert shown["members"] == top["accounts"] == len(shown["shown"])
    assert {m["touch_model"] for m in shown["shown"]} == {"high"}

    total = json.loads(cli("metrics", "revenue", "--from", "2024-01", "--to", "2024-06").stdout)
    for by, key, values in (
        ("touch", "touch", {"high", "tech"}),
        ("tier", "tier", {"tier1", "tier3"}),
    ):
        split = json.loads(
            cli("metrics", "revenue", "--from", "2024-01", "--to", "2024-06", "--by", by).stdout
        )
        assert {r[key] for r in split} == values
        for whole in total:
            parts = [r for r in split if r["month"] == whole["month"]]
            for kpi in ("mrr_end", "new_mrr", "churned_mrr", "customers_end"):
                assert sum(p[kpi] for p in parts) == pytest.approx(whole[kpi])


def test_bad_rules_and_bad_input_exit_2_with_file_line_and_reason(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("basic_monthly")
    _rules(RULES.replace("priority: 10", "priority: 10\n    colour: blue"))
    bad = cli("segments", "check-config")
    path = get_settings().config_path / "segments.yaml"
    assert bad.exit_code == 2
    assert f"{path}:7: rules.0.colour: Extra inputs are not permitted" in bad.stderr
    _rules()
    assert cli("segments", "show", "nope").exit_code == 2
    assert cli("segments", "evaluate", "--format", "xml").exit_code == 2
    assert cli("segments", "override", "A", "--touch", "high", "--reason", "x",
               "--until", "2020-01-01").exit_code == 2  # fmt: skip
    assert cli("segments", "rate", "A", "--it-literacy", "6").exit_code == 2
    rated = cli("segments", "rate", "A", "--it-literacy", "4")
    assert rated.exit_code == 0 and "IT literacy 4, motivation -" in rated.stdout


def test_a_playbook_condition_on_a_segment_the_rules_never_assign_is_rejected(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("basic_monthly")
    _rules()
    folder = get_settings().config_path / "playbooks"
    folder.mkdir(parents=True)
    (folder / "top.yaml").write_text(
        "name: top-renewal\ntrigger: {type: renewal_in, days: 60}\n"
        "conditions: {segment: [top, enterprise], touch_model: [high]}\n"
        "actions:\n  - cta: {type: lifecycle, title: {en: Renewal call}}\n",
        encoding="utf-8",
    )
    bad = cli("playbooks", "check-config")
    assert bad.exit_code == 2
    assert f"{folder / 'top.yaml'}:3: conditions.segment: unknown segment 'enterprise'" in (
        bad.stderr
    )


def test_a_merge_drops_the_merged_accounts_history_and_keeps_its_override(cli) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from banso.db import session_scope
    from banso.segments.models import SegmentMembership, TouchOverride

    load_example("basic_monthly")
    _rules()
    assert cli("segments", "evaluate", "--as-of", "2024-02-29").exit_code == 0
    until = "2030-01-01"
    done = cli("segments", "override", "B", "--touch", "low", "--reason", "merger", "--until",
               until)  # fmt: skip
    assert done.exit_code == 0, done.stderr
    from banso.accounts.models import Account

    with session_scope() as s:
        ids = dict(s.execute(select(Account.name, Account.id)).all())
    merged = cli("accounts", "merge", str(ids["A"]), str(ids["B"]))
    assert merged.exit_code == 0, merged.stderr + merged.stdout
    with session_scope() as s:
        members = set(s.scalars(select(SegmentMembership.account_id)))
        overrides = s.scalars(select(TouchOverride.account_id)).all()
    assert members == set(ids.values()) - {ids["B"]}
    assert overrides == [ids["A"]]


def test_a_bad_segments_file_skips_the_step_but_not_the_rest_of_the_run(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("basic_monthly")
    _rules(RULES.replace("default: rest", "default: nowhere"))
    path = get_settings().config_path / "segments.yaml"
    run = cli("run", "--as-of", "2024-02-29", "--no-send")
    assert run.exit_code == 2
    assert f"{path}:9: default: unknown segment 'nowhere'" in run.stderr
    assert "Segments were not evaluated" in run.stderr
    assert "Run for 2024-02-29." in run.stdout
    # the playbooks still load (their segment names are not checked against a bad file)
    assert cli("playbooks", "check-config").exit_code == 0
