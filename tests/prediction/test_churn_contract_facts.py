"""The contract features and labels computed set-based (DuckDB over revenue.contracts' Ibis
facts) equal the row-by-row statement of them, on a hand-worked example."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from banso.prediction.features import (
    CONTRACT_FEATURES,
    contract_facts,
    row_contract_features,
    row_labels,
)
from banso.revenue.contracts import FxTable, Line, MissingFxRate

DAY = date(2026, 2, 1)
HORIZON = 90  # t + horizon = 2026-05-02; 90 days before t = 2025-11-03
LINES = [
    # 1: yearly, open: renews 2027-01-15
    Line(1, date(2025, 1, 15), None, 12000, "JPY", 12),
    # 2: monthly, ends 2026-03-01 (unknown on t) and nothing after: churns in the horizon
    Line(2, date(2025, 6, 1), date(2026, 3, 1), 5000, "JPY", 1),
    # 3: downgrades on 2026-03-01 from 10,000 to 6,000 a month: contracted, not churned
    Line(3, date(2025, 1, 1), date(2026, 3, 1), 10000, "JPY", 1),
    Line(3, date(2026, 3, 1), None, 6000, "JPY", 1),
    # 4: 10 dollars a month, at 140 yen in November and 150 in February: MRR up 1/14
    Line(4, date(2025, 10, 1), None, 1000, "USD", 1),
    # 5: a yearly line ending on its renewal day t; a free line started later
    Line(5, date(2025, 2, 1), date(2026, 2, 1), 24000, "JPY", 12),
    Line(5, date(2025, 3, 1), None, 0, "JPY", 1),
    # 6: three-monthly and yearly lines: term 12, tenure from the first paid start
    Line(6, date(2024, 12, 31), None, 3000, "JPY", 3),
    Line(6, date(2025, 8, 31), None, 36000, "JPY", 12),
]
USD = {"2025-11": Fraction(140, 100), "2026-02": Fraction(150, 100)}
FX = FxTable(
    "JPY",
    {("USD", f"{y}-{m:02d}"): USD.get(f"{y}-{m:02d}", Fraction(145, 100))
     for y, m in [(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5)]},
)  # fmt: skip


def _con(lines: list[Line]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register(
        "subscriptions",
        pa.table(
            {
                "account_id": pa.array([x.account_id for x in lines], pa.int64()),
                "start_date": pa.array([x.start_date for x in lines], pa.date32()),
                "end_date": pa.array([x.end_date for x in lines], pa.date32()),
                "amount": pa.array([x.amount for x in lines], pa.int64()),
                "currency": pa.array([x.currency for x in lines], pa.string()),
                "billing_period_months": pa.array(
                    [x.billing_period_months for x in lines], pa.int64()
                ),
            }
        ),
    )
    return con


def test_contract_features_and_labels_by_hand_and_as_row_by_row() -> None:
    accounts = np.array([1, 2, 3, 4, 5, 6, 7], dtype=np.int64)
    days = np.array([DAY] * 7, dtype=object)
    features, labels = contract_facts(_con(LINES), accounts, days, HORIZON, FX)
    got = {int(a): dict(zip(CONTRACT_FEATURES, features[i], strict=True)) for i, a in
           enumerate(accounts)}  # fmt: skip
    assert got[1] == {
        "mrr_change_90d": 0.0,
        "days_to_renewal": 348.0,  # 2026-02-01 -> 2027-01-15
        "term_months": 12.0,
        "tenure_days": 382.0,  # 2025-01-15 -> 2026-02-01
    }
    assert np.isnan(got[2]["days_to_renewal"])  # monthly lines make no renewal date
    assert got[2]["term_months"] == 1.0 and got[2]["tenure_days"] == 245.0
    assert got[3]["mrr_change_90d"] == 0.0  # the downgrade is after t
    assert got[4]["mrr_change_90d"] == pytest.approx(1 / 14)  # 1,500 yen against 1,400
    assert got[5]["days_to_renewal"] == 0.0 and np.isnan(got[5]["term_months"])
    assert got[6]["term_months"] == 12.0 and got[6]["tenure_days"] == 397.0
    assert got[6]["days_to_renewal"] == 211.0  # 2026-08-31
    assert all(np.isnan(v) for v in got[7].values())  # no lines at all
    assert labels[:, 0].tolist() == [False, True, False, False, True, False, True]
    assert labels[:, 1].tolist() == [False, False, True, False, False, False, False]

    by_account: dict[int, list[Line]] = {}
    for x in LINES:
        by_account.setdefault(x.account_id, []).append(x)
    for i, a in enumerate(accounts):
        mine = by_account.get(int(a), [])
        expected = np.array(row_contract_features(mine, DAY, FX), dtype=float)
        assert np.array_equal(features[i], expected, equal_nan=True), a
        assert tuple(labels[i]) == row_labels(mine, DAY, HORIZON, FX), a


def test_several_days_of_one_account_keep_their_row_order() -> None:
    days = np.array([date(2026, 4, 1), date(2025, 12, 1), DAY], dtype=object)
    features, labels = contract_facts(_con(LINES), np.array([3, 3, 3]), days, HORIZON, FX)
    assert features[:, 3].tolist() == [455.0, 334.0, 396.0]  # tenure from 2025-01-01
    # on 2026-04-01 the downgrade is in the past: 6,000 against 10,000 90 days before
    assert features[0, 0] == pytest.approx(-0.4)
    assert labels[:, 1].tolist() == [False, True, True]


def test_a_missing_rate_is_named_not_a_traceback_of_nulls() -> None:
    fx = FxTable("JPY", {k: v for k, v in FX.factors.items() if k[1] != "2026-02"})
    with pytest.raises(MissingFxRate) as raised:
        contract_facts(_con(LINES), np.array([4]), np.array([DAY], dtype=object), HORIZON, fx)
    assert raised.value.currency == "USD" and raised.value.month == "2026-02"
