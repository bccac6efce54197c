"""Domain errors. Edges (CLI, web) turn them into a clear message and exit code 2 / a 4xx."""

from __future__ import annotations

from collections.abc import Sequence

from banso.i18n import _


class BansoError(Exception):
    """An error the user can act on; its message is already translated."""


def check_format(output: str, choices: Sequence[str]) -> None:
    """A command's ``--format`` value, one of ``choices``; a BansoError naming them otherwise."""
    if output not in choices:
        raise BansoError(
            _(
                "Unknown format {format}; choose one of {choices}.",
                format=output,
                choices=", ".join(choices),
            )
        )


class ImportProblem:
    """One bad cell or row of an input file."""

    __slots__ = ("file", "row", "column", "reason")

    def __init__(self, file: str, row: int, column: str, reason: str) -> None:
        self.file, self.row, self.column, self.reason = file, row, column, reason

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.column}: {self.reason}"

    def __repr__(self) -> str:
        return f"ImportProblem({self})"


class ImportRejected(BansoError):
    """The file had bad rows; nothing was written."""

    def __init__(self, problems: list[ImportProblem], message: str) -> None:
        super().__init__(message)
        self.problems = problems


class ConfigRejected(BansoError):
    """A YAML config file (scorecard, playbook) is invalid; ``problems`` are
    ``file:line: field: reason`` lines, all printed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class NotFound(BansoError):
    """The record asked for does not exist (the web answers 404)."""


class InvalidValue(BansoError):
    """One input value is malformed or out of bounds; ``field`` names it as the caller wrote
    it (a query parameter, a form or body field), ``reason`` says what is allowed."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason
