"""NPS, CSAT and CES with their 95 % intervals on fixed answers, worked by hand in the comments."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banso.voc.stats import category, ces, csat, nps

Z = 1.959963984540054


def test_nps_of_four_promoters_two_passives_four_detractors_is_zero_plus_minus_55_4() -> None:
    # p = 4/10, d = 4/10: NPS = 0; variance of +1/0/-1 = p + d - (p - d)^2 = 0.8;
    # half-width = 1.96 * 100 * sqrt(0.8 / 10) = 195.9964 * 0.2828427 = 55.4362
    found = nps([10, 9, 9, 8, 7, 6, 3, 0, 10, 5])
    assert (found.count, found.value) == (10, Fraction(0))
    assert found.low == pytest.approx(-55.4362, abs=1e-4)
    assert found.high == pytest.approx(55.4362, abs=1e-4)


def test_nps_of_twelve_promoters_five_passives_three_detractors_is_45() -> None:
    # p = 0.6, d = 0.15: NPS = 45; variance = 0.75 - 0.45^2 = 0.5475;
    # half-width = 195.9964 * sqrt(0.5475 / 20) = 195.9964 * 0.1654539 = 32.4284
    found = nps([10] * 6 + [9] * 6 + [8] * 3 + [7] * 2 + [6, 2, 0])
    assert found.value == 45
    assert found.low == pytest.approx(45 - 32.4284, abs=1e-4)
    assert found.high == pytest.approx(45 + 32.4284, abs=1e-4)


def test_nps_where_everyone_promotes_has_no_spread() -> None:
    found = nps([9, 10, 10])
    assert (found.value, found.low, found.high) == (100, 100.0, 100.0)


def test_csat_of_eight_satisfied_in_ten_has_the_wilson_interval() -> None:
    # p = 0.8, n = 10, z^2 = 3.841459: centre = 0.8 + 3.841459 / 20 = 0.9920729;
    # spread = 1.959964 * sqrt(0.8 * 0.2 / 10 + 3.841459 / 400) = 1.959964 * 0.1600125 = 0.3136187
    # denominator = 1 + 3.841459 / 10 = 1.3841459 -> (0.490162, 0.943318)
    found = csat([5, 5, 4, 4, 4, 5, 4, 4, 2, 3])
    assert found.value == 80
    assert found.low == pytest.approx(49.0162, abs=1e-3)
    assert found.high == pytest.approx(94.3318, abs=1e-3)


def test_ces_mean_with_a_normal_interval_on_the_sample_deviation() -> None:
    # mean 5; squared deviations 0 + 1 + 4 + 1 + 4 = 10; s^2 = 10 / 4 = 2.5;
    # half-width = 1.959964 * sqrt(2.5 / 5) = 1.959964 * 0.7071068 = 1.3859038
    found = ces([5, 6, 7, 4, 3])
    assert found.value == 5
    assert found.low == pytest.approx(3.6140962, abs=1e-6)
    assert found.high == pytest.approx(6.3859038, abs=1e-6)
    assert ces([4]).low is None  # one answer has no deviation to estimate


def test_categories() -> None:
    assert [category("nps", s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor", "detractor", "passive", "passive", "promoter", "promoter",
    ]  # fmt: skip
    assert [category("csat", s) for s in (3, 4)] == ["unsatisfied", "satisfied"]
    assert [category("ces", s) for s in (3, 4, 5)] == ["hard", "neutral", "easy"]


@given(st.lists(st.integers(0, 10), min_size=1, max_size=200))
def test_nps_lies_in_its_interval_and_both_in_minus_100_to_100(scores: list[int]) -> None:
    found = nps(scores)
    assert found.low is not None and found.high is not None
    assert -100 <= found.value <= 100
    assert found.low <= float(found.value) + 1e-9 and float(found.value) - 1e-9 <= found.high
    assert found.value == nps(list(reversed(scores))).value


@given(st.lists(st.integers(1, 5), min_size=1, max_size=200))
def test_wilson_interval_stays_within_0_and_100_and_holds_the_share(scores: list[int]) -> None:
    found = csat(scores)
    assert found.low is not None and found.high is not None
    assert -1e-9 <= found.low <= float(found.value) + 1e-9 <= found.high + 2e-9 <= 100 + 1e-6
