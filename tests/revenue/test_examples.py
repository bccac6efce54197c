"""The spec's worked examples, through the acceptance commands, on every engine.

For each example: ``banso init``, ``banso import subscriptions subscriptions.csv``, then
``banso metrics revenue --from <first> --to <last> --format json`` and
``banso metrics cohorts --to <last> --format json`` must print the expected JSON (money within
0.01, rates within 1e-6, nulls in the same places) on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

import json

import pytest
from revenue_examples import EXAMPLE_NAMES, EXAMPLES, assert_matches, expected

ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The analytics engine; postgres runs on a real PostgreSQL app database."""
    if request.param == "postgres":
        request.getfixturevalue("pg_url")
    return request.param


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_outputs_match_the_spec(cli, engine: str, name: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    imported = cli("import", "subscriptions", str(EXAMPLES / name / "subscriptions.csv"))
    assert imported.exit_code == 0, imported.stderr
    want = expected(name, "revenue")
    first, last = want[0]["month"], want[-1]["month"]
    revenue = cli(
        "metrics", "revenue", "--from", first, "--to", last, "--format", "json", "--engine", engine
    )
    assert revenue.exit_code == 0, revenue.stderr
    assert_matches(json.loads(revenue.stdout), want)
    cohorts = cli("metrics", "cohorts", "--to", last, "--format", "json", "--engine", engine)
    assert cohorts.exit_code == 0, cohorts.stderr
    assert_matches(json.loads(cohorts.stdout), expected(name, "cohorts"))
