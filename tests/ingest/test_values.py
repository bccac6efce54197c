"""Cell values as people send them: dates, amounts, timestamps, choices."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from banso.ingest.columns import ValueType, blank_to_null, parse_column
from banso.ingest.values import parse_amount, parse_date, parse_datetime, web_domain

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    "text",
    [
        "2024-04-01",
        "2024/4/1",
        "2024.4.1",
        "20240401",
        "2024年4月1日",
        "２０２４年４月１日",
        "令和6年4月1日",
        "R6.4.1",
        "2024-04-01 00:00:00",
    ],
)
def test_every_common_spelling_of_1_april_2024_is_that_date(text: str) -> None:
    assert parse_date(text) == date(2024, 4, 1)


def test_era_first_years_and_the_heisei_reiwa_boundary() -> None:
    assert parse_date("平成31年4月30日") == date(2019, 4, 30)
    assert parse_date("令和元年5月1日") == date(2019, 5, 1)
    assert parse_date("H1.1.8") == date(1989, 1, 8)


@pytest.mark.parametrize("text", ["2024-02-30", "2023/2/29", "April 1", "2024-04-01 10:00"])
def test_impossible_or_unreadable_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,200,000", 1_200_000),
        ("¥1,200,000", 1_200_000),
        ("1,200,000円", 1_200_000),
        ("１２０００", 12_000),
        ("￥29,800", 29_800),
        ("0", 0),
    ],
)
def test_amounts_with_separators_marks_and_full_width_digits(text: str, value: int) -> None:
    assert parse_amount(text) == value


def test_decimal_amounts_are_refused_because_amounts_are_in_minor_units() -> None:
    with pytest.raises(ValueError, match="minor unit"):
        parse_amount("49.99")


def test_naive_timestamps_are_company_time_and_offsets_are_kept() -> None:
    assert parse_datetime("2024-04-01 09:00", TOKYO) == datetime(2024, 4, 1, 0, 0, tzinfo=UTC)
    assert parse_datetime("2024-04-01T09:00:00Z", TOKYO) == datetime(2024, 4, 1, 9, tzinfo=UTC)
    assert parse_datetime("2024/4/1 9:00:00 +0200", TOKYO) == datetime(2024, 4, 1, 7, tzinfo=UTC)


def test_column_parse_reports_each_bad_cell_by_index_and_keeps_blanks_null() -> None:
    column = blank_to_null(pa.array(["2024-04-01", " ", "2024/4/1", "2024-13-01", None]))
    parsed, problems = parse_column(column, ValueType.DATE, tz=TOKYO)
    assert parsed.to_pylist() == [date(2024, 4, 1), None, date(2024, 4, 1), None, None]
    assert [index for index, _reason in problems] == [3]


def test_web_domain_from_urls_and_emails() -> None:
    assert web_domain("https://www.example.co.jp/about") == "example.co.jp"
    assert web_domain("taro@Example.COM") == "example.com"
    assert web_domain("not a domain") is None
