"""How the ``banso`` command reports what went wrong: one sentence in the user's language.

- A usage error (unknown command or option, missing or malformed value) or a ``BansoError``:
  one sentence on stderr, exit code 2. Typer's own messages are rebuilt here from the error's
  parts, so they are translated like every other message.
- Anything unexpected: one line naming the log file that holds the traceback, exit code 1.
  The log is ``BANSO_HOME/logs/banso-YYYYMMDD.log``, or the same name in a ``banso-logs``
  folder of the system's temporary directory when the home cannot be written.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from typer._click import exceptions as click_errors
from typer._click.core import Command, Context, Parameter
from typer.core import TyperGroup

from banso.i18n import _

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
"""Whole-number options and arguments (ids, counts) must fit the databases' 64-bit integers."""

_DOES_NOT_EXIST = re.compile(r"^(?:File|Directory|Path) (.*) does not exist\.$", re.S)
_NO_SUCH_COMMAND = re.compile(r"^No such command '(.*)'\.$", re.S)
_EXTRA_ARGUMENTS = re.compile(r"^Got unexpected extra argument\(s\) \((.*)\)$", re.S)


class ValueRejected(click_errors.BadParameter):
    """A value refused by Banso's own checks; its message is already a translated sentence."""


def bound_whole_numbers(command: Command) -> None:
    """Refuse whole numbers outside 64 bits in every parameter of ``command`` and its
    sub-commands (so a new command is covered without doing anything)."""
    for param in command.params:
        param.callback = _within_64_bits(param.callback)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            bound_whole_numbers(sub)


def _within_64_bits(previous: Any) -> Any:
    def check(ctx: Context, param: Parameter, value: Any) -> Any:
        values = value if isinstance(value, list | tuple) else (value,)
        for v in values:
            if isinstance(v, int) and not isinstance(v, bool) and not INT64_MIN <= v <= INT64_MAX:
                raise ValueRejected(
                    _(
                        "{name} must be a whole number from {low} to {high}, not {value}.",
                        name=_hint(param),
                        low=INT64_MIN,
                        high=INT64_MAX,
                        value=v,
                    ),
                    ctx=ctx,
                    param=param,
                )
        return previous(ctx, param, value) if previous is not None else value

    return check


def usage_sentence(exc: click_errors.UsageError) -> str:
    """The one translated sentence that says what was wrong with the command line."""
    if isinstance(exc, click_errors.NoSuchOption):
        if exc.possibilities:
            return _(
                "There is no option {option}; did you mean {choices}?",
                option=exc.option_name,
                choices=", ".join(sorted(exc.possibilities)),
            )
        return _("There is no option {option}.", option=exc.option_name)
    if isinstance(exc, click_errors.BadOptionUsage):
        if "does not take a value" in exc.message:
            return _("Option {option} does not take a value.", option=exc.option_name)
        return _("Option {option} needs a value.", option=exc.option_name)
    if isinstance(exc, click_errors.MissingParameter):
        name = _hint(exc.param)
        if exc.param is not None and exc.param.param_type_name == "argument":
            return _("Missing argument {name}.", name=name)
        return _("Missing option {name}.", name=name)
    if isinstance(exc, click_errors.BadParameter):
        return _bad_value(exc)
    match = _NO_SUCH_COMMAND.match(exc.message)
    if match:
        return _("There is no command {name}.", name=match.group(1))
    match = _EXTRA_ARGUMENTS.match(exc.message)
    if match:
        return _("Unexpected extra arguments: {args}.", args=match.group(1))
    if exc.message == "Missing command.":
        return _("Give a command.")
    return _("Invalid command line: {reason}", reason=exc.message)


def _bad_value(exc: click_errors.BadParameter) -> str:
    """A malformed or out-of-range value; ``exc`` was raised by our checks (message already
    translated) or by Typer's coercion (its cause is then a pydantic ValidationError)."""
    param = exc.param
    name = _hint(param) if param is not None else _join(exc.param_hint)
    cause = exc.__cause__
    errors = cause.errors() if hasattr(cause, "errors") else []
    if isinstance(exc, ValueRejected):
        return exc.message
    if not errors:
        missing = _DOES_NOT_EXIST.match(exc.message)
        if missing:
            return _("{name}: {path} does not exist.", name=name, path=missing.group(1))
        return _("Invalid value for {name}: {reason}", name=name, reason=exc.message)
    first = errors[0]
    kind, value, limits = first.get("type", ""), first.get("input"), first.get("ctx") or {}
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and descriptor.is_choice and descriptor.choices is not None:
        choices = ", ".join(str(getattr(c, "value", c)) for c in descriptor.choices)
        return _(
            "{name} must be one of {choices}, not {value!r}.",
            name=name,
            choices=choices,
            value=value,
        )
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return _("{name} must be a whole number, not {value!r}.", name=name, value=value)
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return _("{name} must be a number, not {value!r}.", name=name, value=value)
    if kind in ("greater_than_equal", "greater_than"):
        limit = limits.get("ge", limits.get("gt"))
        return _(
            "{name} must be at least {limit}, not {value}.", name=name, limit=limit, value=value
        )
    if kind in ("less_than_equal", "less_than"):
        limit = limits.get("le", limits.get("lt"))
        return _(
            "{name} must be at most {limit}, not {value}.", name=name, limit=limit, value=value
        )
    if kind == "bool_parsing":
        return _("{name} must be true or false, not {value!r}.", name=name, value=value)
    return _("Invalid value for {name}: {reason}", name=name, reason=exc.message)


def _hint(param: Parameter | None) -> str:
    """How the user typed the parameter: its longest option name, or the argument's name."""
    if param is None:
        return "?"
    if param.param_type_name == "argument" or not param.opts:
        return str(param.name or "?").upper()
    return max(param.opts, key=len)


def _join(hint: Any) -> str:
    if hint is None:
        return "?"
    return hint if isinstance(hint, str) else " / ".join(hint)


def log_unexpected(exc: BaseException, home: Path | None) -> Path | None:
    """Append ``exc``'s traceback, with the command line, to today's log file; its path, or
    None when neither the home nor the temporary folder can be written."""
    stamp = datetime.now().astimezone()
    entry = (
        f"--- {stamp.isoformat(timespec='seconds')} pid {os.getpid()}: banso "
        f"{' '.join(sys.argv[1:])}\n" + "".join(traceback.format_exception(exc))
    )
    name = f"banso-{stamp:%Y%m%d}.log"
    folders = [home / "logs"] if home is not None else []
    folders.append(Path(tempfile.gettempdir()) / "banso-logs")
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with path.open("a", encoding="utf-8") as fh:
                fh.write(entry)
            return path
        except OSError:
            continue
    return None


def one_line(exc: BaseException) -> str:
    """The exception's type and the first line of its message, at most 200 characters."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
