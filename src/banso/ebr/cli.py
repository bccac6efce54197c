"""``banso ebr``: one account's executive business review, or every account's of a segment:
parse, call one service function, write the file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from banso.db import session_scope
from banso.ebr import service
from banso.errors import BansoError
from banso.i18n import _, current_language, ngettext
from banso.progress import progress
from banso.revenue.fiscal import parse_fiscal_period


def ebr(
    account: Annotated[
        int | None, typer.Argument(help="Account id (or --segment for every account of one).")
    ] = None,
    period: Annotated[
        str, typer.Option("--period", help="Fiscal quarter or year: FY2025Q3, FY2025.")
    ] = "",
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or pptx.")] = "pdf",
    lang: Annotated[
        str | None, typer.Option("--lang", help="ja or en (default: the command's language).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: its name, here).")
    ] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help="Every account of this segment.")
    ] = None,
    to: Annotated[
        Path | None, typer.Option("--to", help="Directory for --segment's files.")
    ] = None,
) -> None:
    """Executive business review (EBR/QBR) of an account over a fiscal period, as HTML, PDF or
    PPTX: objectives, usage, value, support, NPS/CSAT, renewal and expansion, next steps."""
    if not period:
        raise BansoError(_("Give --period, a fiscal quarter or year such as FY2025Q3."))
    fiscal = parse_fiscal_period(period)
    lang = lang or current_language()
    if (account is None) == (segment is None):
        raise BansoError(_("Give either an account id or --segment, not both."))
    if segment is not None:
        if to is None:
            raise BansoError(_("--segment needs --to, the directory to write the files to."))
        with session_scope() as session, progress() as shown:
            label = _("Writing reviews")
            files = service.segment_reviews(
                session, segment, fiscal, fmt, lang, to,
                started=lambda total: shown.start(label, total),
                advance=lambda n: shown.advance(label, n),
            )  # fmt: skip
            shown.finish(label)
        typer.echo(
            _("Wrote {files} to {directory}.",
              files=ngettext("{n} review", "{n} reviews", len(files)), directory=to)
        )  # fmt: skip
        return
    assert account is not None
    with session_scope() as session:
        file = service.review_file(session, account, fiscal, fmt, lang)
    path = out or Path(file.name)
    path.write_bytes(file.content)
    typer.echo(_("Wrote {path}.", path=path))
