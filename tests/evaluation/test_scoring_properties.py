"""Properties of the scoring rule (docs/team.md, Scoring): every attainment lies in 0–150 %, the
total is a weighted mean of the attainments of the axes that have a figure, so it lies between
their least and greatest, and more churn never scores better."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from banso.evaluation.scorecard import ATTAINMENT_CAP, Axis, attainment, weighted_total

rates = st.fractions(min_value=0, max_value=1, max_denominator=10_000)
amounts = st.fractions(min_value=-(10**9), max_value=10**9, max_denominator=100)
targets = st.fractions(min_value=Fraction(1, 100), max_value=10**9, max_denominator=100)


@given(actual=amounts, target=targets, lower=st.booleans())
def test_attainment_is_between_0_and_150_percent(actual, target, lower) -> None:  # type: ignore[no-untyped-def]
    value = attainment(actual, target, lower)
    assert value is not None and 0 <= value <= ATTAINMENT_CAP


@given(less=rates, more=rates, target=rates)
def test_more_churn_never_scores_better(less, more, target) -> None:  # type: ignore[no-untyped-def]
    low, high = sorted((less, more))
    assert attainment(high, target, True) <= attainment(low, target, True)  # type: ignore[operator]


@given(
    axes=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=100),
            st.one_of(st.none(), st.fractions(min_value=0, max_value=ATTAINMENT_CAP)),
        ),
        min_size=4,
        max_size=4,
    )
)
def test_the_total_is_a_weighted_mean_of_the_axes_with_a_figure(axes) -> None:  # type: ignore[no-untyped-def]
    built = [Axis(str(i), Fraction(w), "m", None, Fraction(1), a) for i, (w, a) in enumerate(axes)]
    total = weighted_total(built)
    scored = [(w, a) for w, a in axes if a is not None and w > 0]
    if not scored:
        assert total is None
        return
    assert total is not None
    assert min(a for _w, a in scored) <= total <= max(a for _w, a in scored)
    assert total * sum(w for w, _a in scored) == sum(w * a for w, a in scored)
