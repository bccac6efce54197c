"""The event store's file layout: one file per batch and UTC day, sorted by account and time in
row groups whose account statistics let one account's reads skip the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from banso.usage.store import EVENT_SCHEMA, ROW_GROUP_ROWS, append_events, event_files


def _events(n: int) -> pa.Table:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    # accounts interleaved in time, as events arrive
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(n)],
            "account_id": [(i * 7919) % 1000 for i in range(n)],
            "user_id": [f"u{i % 37}" for i in range(n)],
            "event": ["login" if i % 5 == 0 else "report.view" for i in range(n)],
            "ts": [start + timedelta(seconds=i) for i in range(n)],
            "properties": [None] * n,
        },
        schema=EVENT_SCHEMA,
    )


def test_day_files_are_sorted_by_account_then_time_in_small_row_groups() -> None:
    n = 3 * ROW_GROUP_ROWS + 5
    assert append_events(_events(n)) == n
    [path] = event_files()
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == 4
    stored = pq.read_table(path)
    keys = list(zip(stored["account_id"].to_pylist(), stored["ts"].to_pylist(), strict=True))
    assert keys == sorted(keys)
    assert stored.num_rows == n
    # row groups cover disjoint account ranges (but for the account at a boundary)
    column = stored.schema.get_field_index("account_id")
    ranges = [
        (metadata.row_group(g).column(column).statistics.min,
         metadata.row_group(g).column(column).statistics.max)
        for g in range(metadata.num_row_groups)
    ]  # fmt: skip
    assert all(a_max <= b_min for (_a, a_max), (b_min, _b) in zip(ranges, ranges[1:], strict=False))


def test_one_accounts_events_lie_in_one_or_two_row_groups() -> None:
    append_events(_events(4 * ROW_GROUP_ROWS))
    [path] = event_files()
    metadata = pq.ParquetFile(path).metadata
    column = pq.read_schema(path).get_field_index("account_id")
    for account in (0, 500, 999):
        holding = [
            g
            for g in range(metadata.num_row_groups)
            if metadata.row_group(g).column(column).statistics.min
            <= account
            <= metadata.row_group(g).column(column).statistics.max
        ]
        assert 1 <= len(holding) <= 2, (account, holding)
    count = duckdb.connect().sql(  # its own connection: the module's default one is shared
        f"SELECT count(*) FROM read_parquet('{path}') WHERE account_id = 500"
    )
    expected = sum(1 for i in range(4 * ROW_GROUP_ROWS) if i * 7919 % 1000 == 500)
    assert count.fetchall() == [(expected,)]
