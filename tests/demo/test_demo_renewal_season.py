"""The default demo world renews at Japanese year ends: many annual contracts start (and so, by
spec §5, renew) in March, the end of most fiscal years, or December (``demo/story.py``,
``YEAR_END_MONTHS``), so ``banso renewals calendar`` shows March and December peaks."""

from __future__ import annotations

import json
import statistics

import pytest


@pytest.fixture
def demo(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    # the default world (2,000 accounts, 36 months, seed 7) without usage events
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--end", "2026-11-01", "--event-scale", "0")
    assert made.exit_code == 0, made.stderr


def _due(cli, start: str, end: str, *options: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    result = cli("renewals", "calendar", "--from", start, "--to", end, *options, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {row["month"]: row["mrr_due"] for row in json.loads(result.stdout)}


def test_march_and_december_are_the_renewal_peaks_of_the_demo(cli, demo: None) -> None:  # type: ignore[no-untyped-def]
    # term contracts (annual): March and December are the two largest months of every year,
    # the two past ones and the one ahead (open-ended contracts renewing)
    for start, end, march, december in (
        ("2024-12", "2025-11", "2025-03", "2024-12"),
        ("2025-12", "2026-11", "2026-03", "2025-12"),
        ("2026-12", "2027-11", "2027-03", "2026-12"),
    ):
        annual = _due(cli, start, end, "--min-term-months", "12")
        ranked = sorted(annual, key=annual.__getitem__, reverse=True)
        assert ranked[:2] == [march, december], annual
        assert annual[december] > 1.3 * statistics.median(annual.values()), annual
        assert annual[march] > 2.5 * statistics.median(annual.values()), annual
    # every contract: monthly ones are due every month and the base grows, yet March and
    # December stand above both their neighbours, and are the top two of the year ahead
    every = _due(cli, "2024-11", "2027-11")
    for month, before, after in (
        ("2025-03", "2025-02", "2025-04"),
        ("2025-12", "2025-11", "2026-01"),
        ("2026-03", "2026-02", "2026-04"),
        ("2026-12", "2026-11", "2027-01"),
        ("2027-03", "2027-02", "2027-04"),
    ):
        assert every[month] > max(every[before], every[after]), (month, every)
    ahead = {m: v for m, v in every.items() if "2026-12" <= m <= "2027-11"}
    assert sorted(ahead, key=ahead.__getitem__, reverse=True)[:2] == ["2027-03", "2026-12"]
