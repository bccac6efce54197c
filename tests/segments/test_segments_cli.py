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
