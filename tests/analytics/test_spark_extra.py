"""Spark is an optional extra: without PySpark, ``--engine spark`` says how to install it."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import EXAMPLES

from banso.analytics import engines


def test_engine_spark_without_the_extra_says_how_to_install_it(cli, monkeypatch) -> None:
    monkeypatch.setattr(engines, "_spark_session", None)
    for name in [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark -> ImportError
    assert cli("init").exit_code == 0
    path = Path(EXAMPLES / "basic_monthly" / "subscriptions.csv")
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    result = cli("metrics", "revenue", "--engine", "spark", "--format", "json")
    assert result.exit_code == 2
    assert "pip install 'banso[spark]'" in result.stderr and "Traceback" not in result.stderr


def test_the_core_dependencies_need_no_spark() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if "spark" in d.lower()]
    assert {d.split("==")[0] for d in project["optional-dependencies"]["spark"]} == {
        "ibis-framework[pyspark]", "pyspark"}


