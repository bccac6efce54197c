"""Executive business reviews as files: one account's review in a format and language, and the
reviews of every account of a segment written to a directory.

Plain functions over a ``Session``; the caller owns the transaction (they only read).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from banso import dates
from banso.ebr.document import build_document
from banso.ebr.render import FORMATS, render
from banso.ebr.report import build_review
from banso.errors import BansoError, check_format
from banso.i18n import _
from banso.revenue.fiscal import FiscalPeriod
from banso.segments import service as segments

LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class ReviewFile:
    name: str
    """``ebr-<account id>-<period>-<lang>.<format>``."""
    content: bytes


def review_file(
    session: Session,
    account_id: int,
    period: FiscalPeriod,
    fmt: str,
    lang: str,
    *,
    generated_on: date | None = None,
) -> ReviewFile:
    """The review of ``account_id`` over ``period`` as a ``fmt`` file in ``lang``."""
    check_choices(fmt, lang)
    review = build_review(session, account_id, period)
    document = build_document(review, lang, generated_on=generated_on or dates.today())
    period_code = review.period.label.replace(" ", "")
    return ReviewFile(f"ebr-{account_id}-{period_code}-{lang}.{fmt}", render(document, fmt))


def segment_reviews(
    session: Session,
    segment: str,
    period: FiscalPeriod,
    fmt: str,
    lang: str,
    directory: Path,
    *,
    advance: Callable[[int], None] = lambda _n: None,
    started: Callable[[int], None] = lambda _total: None,
) -> list[Path]:
    """The review of every account in ``segment`` (on the newest evaluated day) written to
    ``directory``, one file each, each written whole or not at all; ``started(total)`` once the
    accounts are known, ``advance(1)`` after each file."""
    check_choices(fmt, lang)
    known = segments.rule_set().segments
    if segment not in known:
        raise BansoError(
            _(
                "--segment: no segment {segment}; the segments are {known}.",
                segment=segment,
                known=", ".join(known),
            )
        )
    total, members = segments.members(session, segment, limit=1_000_000)
    if not total:
        raise BansoError(
            _(
                "Segment {segment} has no accounts (run `banso segments evaluate` first?).",
                segment=segment,
            )
        )
    directory.mkdir(parents=True, exist_ok=True)
    started(total)
    written = []
    today = dates.today()
    for member in members:
        file = review_file(session, member.account_id, period, fmt, lang, generated_on=today)
        written.append(_write_whole(directory / file.name, file.content))
        advance(1)
    return written


def check_choices(fmt: str, lang: str) -> None:
    check_format(fmt, FORMATS)
    if lang not in LANGUAGES:
        raise BansoError(
            _("--lang must be one of {choices}; got {value!r}.",
              choices=", ".join(LANGUAGES), value=lang)
        )  # fmt: skip


def _write_whole(path: Path, content: bytes) -> Path:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # an ordinary file, not a private temporary one
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
