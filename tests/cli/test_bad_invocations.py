"""Every command, given a bad command line, says what is wrong in one sentence of the user's
language and exits with code 2 — never a traceback.

The commands are found by walking the command tree, so a command added later is checked
without touching this file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from banso.cli import command
from banso.dates import DayOption, MonthOption

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    names: tuple[str, ...]
    """What the message must name (the option or argument), if anything."""

    def __str__(self) -> str:
        return " ".join(self.args)


def _leaves(cmd, path=()):  # type: ignore[no-untyped-def]
    subs = getattr(cmd, "commands", None)
    if subs:
        for name, sub in sorted(subs.items()):
            yield from _leaves(sub, (*path, name))
    else:
        yield path, cmd


def _parser(param):  # type: ignore[no-untyped-def]
    return param.type_descriptor.parameter_info.parser


def _good_value(param) -> str:  # type: ignore[no-untyped-def]
    """A value the parser accepts: fills the other required parameters of a case."""
    parser = _parser(param)
    if isinstance(parser, DayOption):
        return "2024-01-02"
    if isinstance(parser, MonthOption):
        return "2024-01"
    desc = param.type_descriptor
    if desc.is_choice:
        return str(getattr(desc.choices[0], "value", desc.choices[0]))
    if desc.annotation in (int, float):
        return "1"
    if desc.is_path:
        return __file__  # a file that exists
    return "x"


def _name(param) -> str:  # type: ignore[no-untyped-def]
    if param.param_type_name == "argument":
        return str(param.name).upper()
    return max(param.opts, key=len)


def _bad_values(param) -> list[str]:  # type: ignore[no-untyped-def]
    parser, desc = _parser(param), param.type_descriptor
    if isinstance(parser, DayOption):
        return ["31/12/2024", "1900-01-01", "9999-12-31"]
    if isinstance(parser, MonthOption):
        return ["2024-13", "1900-01"]
    if desc.is_choice:
        return ["no-such-choice"]
    if desc.annotation is int:
        values = ["abc", "99999999999999999999999"]
        info = desc.parameter_info
        if info.min is not None:
            values.append(str(int(info.min) - 1))
        if info.max is not None:
            values.append(str(int(info.max) + 1))
        return values
    if desc.annotation is float:
        return ["abc"]
    return []


def _with(path, params, bad, value) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """The command line of ``path`` with ``bad`` given ``value`` and every other required
    parameter a good value. A bad option comes first: parameters are checked in the order they
    are typed, so nothing else can fail before it."""
    args: list[str] = [*path]
    if bad.param_type_name != "argument":
        args.extend([max(bad.opts, key=len), value])
    for p in params:
        if p is bad and p.param_type_name == "argument":
            args.append(value)
        elif p is not bad and p.required:
            text = _good_value(p)
            args.extend([text] if p.param_type_name == "argument" else [max(p.opts, key=len), text])
    return tuple(args)


def cases() -> list[Case]:
    found: list[Case] = []
    for path, cmd in _leaves(command()):
        params = [p for p in cmd.params if p.name != "help" and p.expose_value]
        found.append(Case((*path, "--no-such-option"), ("--no-such-option",)))
        required = [p for p in params if p.required]
        if required:
            found.append(Case(tuple(path), (_name(required[0]),)))
        for p in params:
            if p.is_flag if hasattr(p, "is_flag") else False:
                continue
            for value in _bad_values(p):
                found.append(Case(_with(path, params, p, value), (_name(p),)))
    found.append(Case(("no-such-command",), ("no-such-command",)))
    found.append(Case(("accounts", "merge", "1", "2", "3"), ("3",)))
    found.append(Case(("--home", "/etc/hostname", "accounts", "list"), ("/etc/hostname",)))
    return found


CASES = cases()


def test_the_walk_covers_every_command_and_the_reported_mistakes() -> None:
    lines = {str(c) for c in CASES}
    assert len({c.args[:2] for c in CASES}) >= 30
    for reported in (
        "accounts list --limit 0",
        "metrics summary --fiscal-year abc",
        "run --as-of 9999-12-31",
        "health score --as-of 1900-01-01",
        "serve --port 65536",
        "accounts merge 1 99999999999999999999999",
    ):
        assert reported in lines


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_bad_command_line_is_one_sentence_and_exit_2(
    lang: str, cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_LANG", lang)
    failures = []
    for case in CASES:
        result = cli(*case.args)
        lines = result.stderr.strip().splitlines()
        problems = []
        if result.exit_code != 2:
            problems.append(f"exit {result.exit_code}")
        if "Traceback" in result.stdout + result.stderr:
            problems.append("traceback")
        if len(lines) != 1:
            problems.append(f"{len(lines)} lines")
        elif not lines[0].startswith("Error: " if lang == "en" else "エラー: "):
            problems.append("no Error: prefix")
        if lang == "ja" and not JAPANESE.search(result.stderr.replace("エラー: ", "", 1)):
            problems.append("not in Japanese")
        if lang == "en" and JAPANESE.search(result.stderr):
            problems.append("not in English")
        problems += [f"does not name {n}" for n in case.names if n not in result.stderr]
        if problems:
            failures.append(f"banso {case}: {', '.join(problems)}: {result.stderr.strip()!r}")
    assert failures == []


def test_a_usage_error_reads_as_a_sentence(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("accounts", "list", "--limit", "0").stderr == (
        "Error: --limit must be at least 1, not 0.\n"
    )
    assert cli("accounts", "list", "--lmit", "3").stderr == (
        "Error: There is no option --lmit; did you mean --limit?\n"
    )
    assert cli("run", "--as-of", "9999-12-31").stderr.startswith(
        "Error: --as-of must be a day from 1990-01-01 to "
    )


def test_an_unexpected_error_is_one_line_pointing_at_the_log(
    cli, banso_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from banso.accounts import service

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(service, "list_accounts", broken)
    result = cli("accounts", "list")
    assert result.exit_code == 1
    logs = list((banso_home / "logs").glob("banso-*.log"))
    assert len(logs) == 1
    assert result.stderr == (
        f"Unexpected error (RuntimeError: disk on fire); the details are in {logs[0]}.\n"
    )
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "banso accounts list" in text
    assert 'raise RuntimeError("disk on fire' in text


def test_the_log_goes_to_the_temporary_folder_when_the_home_is_unusable(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from banso import db

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BANSO_HOME", str(blocker / "home"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(db, "get_engine", lambda *a, **k: 1 / 0)
    result = cli("accounts", "list")
    assert result.exit_code == 1
    (log,) = (tmp_path / "tmp" / "banso-logs").glob("banso-*.log")
    assert f"the details are in {log}." in result.stderr
    assert "ZeroDivisionError" in log.read_text(encoding="utf-8")


def test_a_home_under_a_file_is_one_sentence(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BANSO_HOME", str(blocker / "home"))
    result = cli("accounts", "list")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: The database {blocker / 'home' / 'banso.db'} cannot")
    assert "Traceback" not in result.stderr


def test_a_home_that_does_not_exist_yet_asks_for_init(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("--home", str(tmp_path / "new" / "home"), "accounts", "list")
    assert result.exit_code == 2
    assert result.stderr == "Error: The database is not initialised; run `banso init` first.\n"


def test_the_console_script_speaks_japanese_without_a_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "banso"
    env = {**os.environ, "BANSO_HOME": str(tmp_path / "home"), "BANSO_LANG": "ja"}
    result = subprocess.run(
        [str(script), "accounts", "list", "--limit", "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == "エラー: --limit は 1 以上で指定してください（0 は指定できません）。\n"
    assert result.stdout == ""
