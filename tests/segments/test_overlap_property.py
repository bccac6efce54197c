"""The same-priority overlap check is exact: two rules are rejected as overlapping if and only if
some account meets both, found by searching every account that could tell (Hypothesis)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from banso.segments.config import Bounds, Conditions, SegmentsError, load_rule_set

PLANS = ("a", "b", "c")


def _range(draw: Any, top: int) -> dict[str, int] | None:
    if not draw(st.booleans()):
        return None
    low = draw(st.none() | st.integers(0, top))
    high = draw(st.none() | st.integers(1, top + 1))
    if low is None and high is None:
        high = top
    if low is not None and high is not None and low >= high:
        low, high = high - 1, low + 1
        low = max(low, 0)
    out = {}
    if low is not None:
        out["at_least"] = low
    if high is not None:
        out["below"] = high
    return out


@st.composite
def conditions(draw: Any) -> dict[str, Any]:
    when: dict[str, Any] = {}
    for name, top in (("mrr", 40), ("arr", 480), ("employees", 20)):
        bounds = _range(draw, top)
        if bounds is not None:
            when[name] = bounds
    if draw(st.booleans()):
        when["plan"] = sorted(draw(st.sets(st.sampled_from(PLANS), min_size=1)))
    if draw(st.booleans()):
        when["it_literacy"] = sorted(draw(st.sets(st.integers(1, 5), min_size=1)))
    return when


def _holds(when: dict[str, Any], account: dict[str, Any]) -> bool:
    """The rule's meaning as docs/segments.md states it, on one account (money JPY)."""
    for name, cond in when.items():
        if name in ("plan", "it_literacy"):
            if account[name] not in cond:
                return False
            continue
        value = account["mrr"] * 12 if name == "arr" else account[name]
        if value is None:
            return False
        if "at_least" in cond and value < cond["at_least"]:
            return False
        if "below" in cond and value >= cond["below"]:
            return False
    return True


def _candidates(*rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Every account that can tell: the integer conditions are half-open ranges, so where two
    meet, their meeting range holds its lowest value, which is 0, a bound, or an ARR bound
    divided by 12 and rounded up."""
    mrr = {0}
    employees: set[int | None] = {0, None}
    for when in rules:
        for name, cond in when.items():
            for bound in cond.values() if isinstance(cond, dict) else []:
                if name == "mrr":
                    mrr.add(bound)
                elif name == "arr":
                    mrr.add(math.ceil(bound / 12))
                elif name == "employees":
                    employees.add(bound)
    return [
        {"mrr": m, "employees": e, "plan": p, "it_literacy": r}
        for m, e, p, r in itertools.product(
            sorted(mrr), employees, (*PLANS, None), (1, 2, 3, 4, 5, None)
        )
    ]


@settings(max_examples=300, deadline=None)
@given(first=conditions(), second=conditions())
def test_rules_are_rejected_exactly_when_an_account_meets_both(
    first: dict[str, Any], second: dict[str, Any], tmp_path_factory: Any
) -> None:
    for when in (first, second):
        Conditions.model_validate(when)  # the strategy writes only valid conditions
    document = {
        "segments": {"x": {"touch_model": "high"}, "y": {"touch_model": "low"},
                     "z": {"touch_model": "tech"}},
        "rules": [
            {"segment": "x", "priority": 5, "when": first},
            {"segment": "y", "priority": 5, "when": second},
        ],
        "default": "z",
    }  # fmt: skip
    path: Path = tmp_path_factory.mktemp("rules") / "segments.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    alone = [any(_holds(w, a) for a in _candidates(w)) for w in (first, second)]
    both = any(_holds(first, a) and _holds(second, a) for a in _candidates(first, second))
    try:
        load_rule_set(path)
        problems: list[str] = []
    except SegmentsError as exc:
        problems = exc.problems
    overlap = [p for p in problems if "overlaps rule 1" in p]
    never = [p for p in problems if "never true" in p]
    assert bool(never) == (not all(alone))
    if all(alone):
        assert bool(overlap) == both, (first, second, problems)


def test_decimal_money_bounds_round_up_to_whole_minor_units(tmp_path: Path) -> None:
    """USD cents: mrr at least 10.005 dollars is at least 1,001 cents; arr below 120.01 dollars
    is mrr below 1,001 cents (12 x 1,000 = 12,000 < 12,001)."""
    path = tmp_path / "segments.yaml"
    path.write_text(
        "segments: {x: {touch_model: high}, y: {touch_model: low}}\n"
        "rules:\n"
        "  - {segment: x, priority: 1, when: {mrr: {at_least: 10.005}}}\n"
        "  - {segment: y, priority: 1, when: {arr: {below: 120.01}}}\n"
        "default: y\n",
        encoding="utf-8",
    )
    rules = load_rule_set(path, minor_exponent=2)
    assert [r.fields["mrr"] for r in sorted(rules.rules, key=lambda r: r.index)] == [
        Bounds(1001, None),
        Bounds(None, 1001),
    ]
