"""Progress of long command-line steps, shown the same way by every command.

On a terminal: a Rich bar per step on stderr, cleared when the command ends. Anywhere else (a log
file, a pipe, cron, systemd): one plain line on stderr when a step starts, then at most one line
every ``BANSO_PROGRESS_SECONDS`` (default 10) while it runs, and one when it ends, so a log shows
that the work moves and how far it got. Standard output stays the command's own result.

Services take a plain callback (``report(step, done, total)``, or ``advance(n)``) and know
nothing of this module; a command opens :func:`progress` and hands them its methods::

    with progress() as shown:
        service.score_days(session, days, shown.counter(_("Scoring days"), len(days)))
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from banso.config import get_settings
from banso.i18n import _, number, percent

MEGABYTE = 1 << 20


@dataclass
class _Step:
    label: str
    total: int | None
    size: bool
    started: float
    done: int = 0
    said_at: float | None = None
    """When the last log line of this step was written (None: not yet)."""
    finished: bool = False
    task: TaskID | None = field(default=None)


class _Amount(ProgressColumn):
    """``3/90`` for counts, ``12.5/40.0 MB`` for bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.count = MofNCompleteColumn()
        self.bytes = DownloadColumn()

    def render(self, task: Task) -> object:  # type: ignore[override]
        return (self.bytes if task.fields.get("size") else self.count).render(task)


class ProgressDisplay:
    """The progress of the steps of one command; use through :func:`progress`."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        terminal: bool | None = None,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        quiet: bool = False,
    ) -> None:
        self.console = Console(file=stream or sys.stderr)
        self.terminal = self.console.is_terminal if terminal is None else terminal
        self.quiet = quiet
        """Show nothing (a caller that wants no progress, such as the scheduler)."""
        self.interval = get_settings().progress_seconds if interval is None else interval
        self.clock = clock
        self.steps: dict[str, _Step] = {}
        self.bars: Progress | None = None
        self.stream = stream

    # --- what commands call ---------------------------------------------------------------

    def update(
        self, label: str, done: int, total: int | None = None, *, size: bool = False
    ) -> None:
        """Step ``label`` has done ``done`` of ``total`` (None: unknown) units; ``size``: the
        units are bytes. The first call starts the step; reaching ``total`` ends it."""
        step = self.steps.get(label)
        if step is None:
            step = self.steps[label] = _Step(label, total, size, self.clock())
        if total is not None:
            step.total = total
        step.done = done
        if self.bars is not None:
            if step.task is None:
                step.task = self.bars.add_task(label, total=step.total, size=step.size)
            self.bars.update(step.task, completed=done, total=step.total)
        complete = step.total is not None and done >= step.total
        if complete:
            self._finish(step)
        else:
            self._say(step)

    def advance(self, label: str, n: int = 1, total: int | None = None) -> None:
        """Step ``label`` did ``n`` more units."""
        step = self.steps.get(label)
        self.update(label, (step.done if step else 0) + n, total)

    def start(self, label: str, total: int | None = None) -> None:
        """Step ``label`` begins (a line in a log at once)."""
        self.update(label, 0, total)

    def finish(self, label: str) -> None:
        """Step ``label`` is over, whether or not it reached its total."""
        step = self.steps.get(label)
        if step is not None:
            self._finish(step)

    @contextmanager
    def step(self, label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """Step ``label`` for the duration of the block: started at once (a line in a log),
        ``advance(n)`` as it goes, finished when the block ends without an error."""
        advance = self.counter(label, total)
        yield advance
        self.finish(label)

    def counter(self, label: str, total: int | None) -> Callable[[int], None]:
        """``advance(n)`` for a service that counts what it did (``score_days``)."""
        self.start(label, total)
        return lambda n=1: self.advance(label, n)

    def reporter(self, labels: dict[str, str] | None = None, *, size: bool = False):  # type: ignore[no-untyped-def]
        """``report(step, done, total)`` for a service that names its steps by code (the demo,
        backup): ``labels`` translates the codes; a total of 0 means unknown."""

        def report(step: str, done: int, total: int | None) -> None:
            label = (labels or {}).get(step, step)
            self.update(label, done, total or None, size=size)

        return report

    # --- how it is shown --------------------------------------------------------------------

    def _finish(self, step: _Step) -> None:
        if step.finished:
            return
        step.finished = True
        if not (self.terminal or self.quiet):
            self._line(step, self.clock())

    def _say(self, step: _Step) -> None:
        if self.terminal or self.quiet:
            return
        now = self.clock()
        if step.said_at is None or now - step.said_at >= self.interval:
            self._line(step, now)

    def _line(self, step: _Step, now: float) -> None:
        step.said_at = now
        seconds = number(round(now - step.started))
        if step.finished and not step.done and step.total is None:
            text = _("{step}: done in {seconds} s", step=step.label, seconds=seconds)
        elif step.finished:
            text = _(
                "{step}: done, {amount} in {seconds} s",
                step=step.label,
                amount=self._amount(step.done, step.size),
                seconds=seconds,
            )
        elif step.done == 0 and step.total is None:
            text = _("{step}…", step=step.label)
        elif step.total:
            text = _(
                "{step}: {done} of {total} ({percent}), {seconds} s",
                step=step.label,
                done=self._amount(step.done, step.size),
                total=self._amount(step.total, step.size),
                percent=percent(step.done / step.total, 0),
                seconds=seconds,
            )
        else:
            text = _(
                "{step}: {done}, {seconds} s",
                step=step.label,
                done=self._amount(step.done, step.size),
                seconds=seconds,
            )
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    @staticmethod
    def _amount(value: int, size: bool) -> str:
        return _("{size} MB", size=number(value / MEGABYTE, 1)) if size else number(value)


@contextmanager
def progress(
    stream: TextIO | None = None, *, terminal: bool | None = None, interval: float | None = None
) -> Iterator[ProgressDisplay]:
    """A :class:`ProgressDisplay` on stderr (or ``stream``) for the duration of a command:
    bars on a terminal, periodic lines otherwise (see the module's docstring)."""
    shown = ProgressDisplay(stream, terminal=terminal, interval=interval)
    if not shown.terminal:
        yield shown
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _Amount(),
        TimeElapsedColumn(),
        console=shown.console,
        transient=True,
    ) as bars:
        shown.bars = bars
        yield shown
        shown.bars = None
