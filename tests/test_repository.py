"""The repository stands on its own: nothing it runs reads a path beside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIBLING = "sha" + "red"
"""The folder beside the repository that the project was made from (spelt in two pieces so that
this guard does not name it as a path itself)."""
# the sibling as a path: a parent step into it, a path part joined with "/", or an absolute path
OUTSIDE = re.compile(
    rf"""\.\./{SIBLING}\b|/\s*["']{SIBLING}["']|["']{SIBLING}["']\s*/|/work/{SIBLING}\b"""
)


def test_no_code_test_or_script_reads_a_path_outside_the_repository() -> None:
    runnable = [
        path
        for folder in ("src", "tests", "scripts", "benchmarks", ".ci")
        for path in (ROOT / folder).rglob("*")
        if path.is_file()
        and (path.suffix in {".py", ".sh", ".toml", ".yaml", ".yml", ""})
        and "__pycache__" not in path.parts
        and path != Path(__file__).resolve()
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in runnable
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert len(runnable) > 100
    assert offenders == []


def test_no_two_test_files_share_a_name() -> None:
    """Test folders are not packages, so pytest imports each file by its bare name: a second
    ``test_book.py`` in another folder stops the whole run with "import file mismatch"."""
    names: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert len(names) > 50
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
