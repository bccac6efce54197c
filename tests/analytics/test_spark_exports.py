"""Each Spark connection exports the app tables to a folder of its own, which a later report
removes only once nobody holds it: two reports at once no longer delete each other's files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from banso.analytics.engines import SparkExport, remove_abandoned_exports


def test_each_export_has_its_own_folder_kept_while_held(tmp_path: Path) -> None:
    root = tmp_path / "spark"
    first, second = SparkExport.create(root), SparkExport.create(root)
    assert first.path != second.path and first.path.parent == second.path.parent == root
    (first.path / "subscriptions.parquet").write_bytes(b"first")
    third = SparkExport.create(root)
    assert (first.path / "subscriptions.parquet").read_bytes() == b"first"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(
        e.path.name for e in (first, second, third)
    )
    first.release()
    first.release()
    assert not first.path.exists() and not first.path.with_suffix(".lock").exists()
    assert second.path.is_dir() and third.path.is_dir()


def test_folders_nobody_holds_are_removed_by_the_next_export(tmp_path: Path) -> None:
    root = tmp_path / "spark"
    left_by_a_crash = root / "0123abcd"
    (left_by_a_crash).mkdir(parents=True)
    (left_by_a_crash / "accounts.parquet").write_bytes(b"old")
    left_by_a_crash.with_suffix(".lock").write_bytes(b"")
    before_locks = root / "feedface"  # the layout of earlier versions: no lock file
    before_locks.mkdir()
    held = SparkExport.create(root)
    assert not left_by_a_crash.exists() and not before_locks.exists()
    assert not left_by_a_crash.with_suffix(".lock").exists()
    assert remove_abandoned_exports(root) == []
    assert held.path.is_dir()


def test_an_export_held_by_another_process_survives(tmp_path: Path) -> None:
    root = tmp_path / "spark"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys
                from pathlib import Path
                from banso.analytics.engines import SparkExport
                export = SparkExport.create(Path({str(root)!r}))
                print(export.path, flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        theirs = Path(holder.stdout.readline().strip())
        mine = SparkExport.create(root)
        assert theirs.is_dir() and mine.path.is_dir()
        holder.stdin.write("done\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    finally:
        holder.kill()
    # it exited without releasing: its lock went with it, and the next export tidies up
    SparkExport.create(root)
    assert not theirs.exists() and mine.path.is_dir()


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_a_second_spark_connection_leaves_the_first_ones_tables_readable() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "revenue"))
    from revenue_examples import load_example

    from banso.accounts.models import Account
    from banso.analytics.engines import connect
    from banso.db import get_engine
    from banso.revenue.models import Subscription

    load_example("basic_monthly")
    first = connect("spark", get_engine(), {"subscriptions": [Subscription.__table__.c.amount]})
    second = connect("spark", get_engine(), {"accounts": [Account.__table__.c.id]})
    amounts = first.table("subscriptions").to_pyarrow()["amount"].to_pylist()
    assert len(amounts) == 10 and 20000 in amounts
    assert second.table("accounts").count().to_pyarrow().as_py() >= 1
