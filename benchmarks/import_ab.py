"""A/B import benchmark: the subscriptions import of two or more commits, interleaved.

Usage: ``.venv/bin/python benchmarks/import_ab.py [--subscriptions N] [--rounds R] REV [REV ...]``

On a machine shared with other jobs a single wall-clock figure says as much about the load as
about the code. This runs the same import (``import_bench.py``'s file and child process) for
each commit in turn, R rounds, each on a fresh SQLite data directory set up by that commit's own
``banso init``, and prints wall and CPU seconds, so commits are compared minutes apart under the
same load. Each commit's ``src`` is taken with ``git archive`` into a temporary directory and put
first on ``PYTHONPATH``; the installed dependencies are this checkout's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from import_bench import _CHILD, subscriptions_csv

ROOT = Path(__file__).resolve().parent.parent


def checkout_src(rev: str, into: Path) -> Path:
    """``rev``'s ``src`` directory, unpacked under ``into``."""
    target = into / rev.replace("/", "_")
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def run(src: Path, path: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="banso-ab-") as home:
        env = {**os.environ, "BANSO_HOME": home, "BANSO_LANG": "en", "PYTHONPATH": str(src)}
        env.pop("BANSO_DATABASE_URL", None)
        subprocess.run([sys.executable, "-m", "banso", "init"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, "subscriptions", str(path)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(f"import with {src} failed:\n{done.stderr}")
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs="+", help="commits to compare, e.g. 152a9b2 HEAD")
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    path = subscriptions_csv(options.subscriptions)
    with tempfile.TemporaryDirectory(prefix="banso-ab-src-") as tmp:
        sources = {rev: checkout_src(rev, Path(tmp)) for rev in options.revs}
        for round_number in range(1, options.rounds + 1):
            for rev, src in sources.items():
                before = os.getloadavg()[0]
                f = run(src, path)
                print(
                    f"round {round_number} {rev}: import {f['import_s']:.1f} s,"
                    f" CPU {f['cpu_s']:.1f} s, peak RSS {f['peak_mib']:.0f} MiB;"
                    f" load average {before:.1f} -> {os.getloadavg()[0]:.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
