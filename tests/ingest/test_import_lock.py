"""One import at a time: a second one is refused with a sentence, a crashed one blocks nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from banso import db
from banso.revenue.models import Subscription

SPEC_HEADER = (
    "account_id,subscription_id,plan,start_date,end_date,amount,currency,billing_period_months"
)
BANSO = Path(sys.executable).parent / "banso"

_HOLDER = """
import sys
from pathlib import Path
from banso.db import session_scope
from banso.ingest.importer import import_file
with session_scope() as session:
    import_file(session, "subscriptions", Path(sys.argv[1]))
    print("importing", flush=True)
    sys.stdin.readline()  # the transaction (and the lock) stays open until told to finish
print("committed", flush=True)
"""


def _count() -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Subscription)) or 0)


def _lines(path: Path, count: int) -> Path:
    rows = "".join(f"K{i % 50},S{i},pro,2024-04-01,,{100 + i},JPY,1\n" for i in range(count))
    path.write_text(f"{SPEC_HEADER}\n{rows}", encoding="utf-8")
    return path


def start_holder(path: Path) -> subprocess.Popen[str]:
    """Another process in the middle of importing ``path`` (written, not yet committed)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ},
    )  # fmt: skip
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line == "importing\n", holder.stderr.read() if holder.stderr else line
    return holder


def test_a_second_import_is_refused_while_another_process_imports(cli, tmp_path: Path) -> None:
    cli("init")
    first = _lines(tmp_path / "first.csv", 30)
    holder = start_holder(first)
    try:
        second = cli("import", "subscriptions", str(_lines(tmp_path / "second.csv", 10)))
        assert second.exit_code == 2
        assert "Error: Another import is running (first.csv, started " in second.stderr
        assert f", process {holder.pid}); try again when it has finished." in second.stderr
        # checking a file writes nothing and does not wait for the lock
        checked = cli("import", "subscriptions", str(tmp_path / "second.csv"), "--dry-run")
        assert checked.exit_code == 0 and "10 new" in checked.stdout
    finally:
        out, _err = holder.communicate("\n", timeout=60)
    assert out == "committed\n" and holder.returncode == 0
    assert _count() == 30
    again = cli("import", "subscriptions", str(tmp_path / "second.csv"))
    assert again.exit_code == 0, again.stderr
    assert "0 new, 0 updated, 10 unchanged" in again.stdout


def test_an_import_that_crashed_holding_the_lock_does_not_block_the_next(
    cli, tmp_path: Path
) -> None:
    cli("init")
    path = _lines(tmp_path / "lines.csv", 30)
    holder = start_holder(path)
    holder.kill()
    holder.wait(timeout=60)
    assert (Path(os.environ["BANSO_HOME"]) / "import.lock").exists()  # left behind, unlocked
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 0, result.stderr
    assert "30 new, 0 updated, 0 unchanged" in result.stdout  # the crashed one wrote nothing
    assert _count() == 30


def test_two_imports_of_one_file_started_together_never_fail_on_the_unique_constraint(
    cli, tmp_path: Path
) -> None:
    cli("init")
    path = _lines(tmp_path / "lines.csv", 20_000)
    runs = [
        subprocess.Popen([str(BANSO), "import", "subscriptions", str(path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _n in range(2)
    ]  # fmt: skip
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    for code, out, err in results:
        assert "Traceback" not in err and "UNIQUE" not in err, err
        assert (code == 0 and "20,000 rows" in out) or (
            code == 2 and "Another import is running (lines.csv, started " in err
        ), (code, out, err)
    assert sorted(code for code, _o, _e in results)[0] == 0
    assert _count() == 20_000


@pytest.mark.postgres
def test_on_postgresql_imports_from_two_data_directories_are_serialised(
    cli, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("init")
    path = _lines(tmp_path / "lines.csv", 30)
    holder = start_holder(path)
    try:
        # another server: its own data directory (so its own lock file), the same database
        monkeypatch.setenv("BANSO_HOME", str(tmp_path / "other-home"))
        second = cli("import", "subscriptions", str(path))
        assert second.exit_code == 2
        assert "Error: Another import is running; try again when it has finished." in second.stderr
    finally:
        holder.communicate("\n", timeout=60)
    assert _count() == 30
