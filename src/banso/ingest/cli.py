"""``banso import KIND FILE``: parse options, call ``ingest.importer.import_file``, print."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from banso.db import session_scope
from banso.errors import ImportRejected
from banso.i18n import _, ngettext, number
from banso.ingest.batches import DEFAULT_SOURCE, MAX_PRINTED_PROBLEMS, ImportResult
from banso.ingest.importer import import_file
from banso.labels import label
from banso.progress import progress

import_app = typer.Typer(
    help=(
        "Import a CSV (UTF-8 or Shift_JIS/CP932), Excel .xlsx or Parquet file. All-or-nothing:"
        " if any row is bad nothing is written and every problem is listed as"
        " FILE:ROW:COLUMN: reason."
    ),
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(help="The file: .csv/.tsv/.txt, .xlsx or .parquet.", show_default=False)
]
SourceOpt = Annotated[
    str,
    typer.Option(
        "--source",
        help="Name of the system the file comes from (crm, billing, zendesk ...); records are"
        " updated by (source, id) on re-import.",
    ),
]
MappingOpt = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        help="YAML file mapping the file's headers to fields, e.g. 'columns: {取引先コード:"
        " account_id}'.",
        show_default=False,
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Validate the file and report; write nothing.")
]


def _run(kind: str, file: Path, source: str, mapping: Path | None, dry_run: bool) -> None:
    console = Console(stderr=True)
    try:
        with _progress(file) as advance, session_scope() as session:
            result = import_file(
                session, kind, file, source=source, mapping_path=mapping, dry_run=dry_run,
                progress=advance,
            )  # fmt: skip
            if dry_run:
                session.rollback()
    except ImportRejected as exc:
        for problem in exc.problems[:MAX_PRINTED_PROBLEMS]:
            console.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        if len(exc.problems) > MAX_PRINTED_PROBLEMS:
            console.print(
                ngettext(
                    "... and {n} more problem",
                    "... and {n} more problems",
                    len(exc.problems) - MAX_PRINTED_PROBLEMS,
                ),
                markup=False,
            )
        raise
    typer.echo(_summary(result))


def _summary(result: ImportResult) -> str:
    text = ngettext(
        "{file} ({kind} from {source}): {n} row: {inserted} new, {updated} updated,"
        " {unchanged} unchanged;",
        "{file} ({kind} from {source}): {n} rows: {inserted} new, {updated} updated,"
        " {unchanged} unchanged;",
        result.rows,
        file=result.file, kind=label(result.kind, "import_kind"), source=result.source,
        inserted=number(result.inserted), updated=number(result.updated),
        unchanged=number(result.unchanged),
    )  # fmt: skip
    text += " " + ngettext("{n} account created.", "{n} accounts created.", result.accounts_created)
    if result.dry_run:
        text += " " + _("Dry run: nothing was written.")
    return text


@contextmanager
def _progress(file: Path) -> Iterator[Callable[[int, int], None] | None]:
    """Progress of files big enough to take a while (over 32 MB): a bar on a terminal, a line
    now and then in a log; silent for smaller files."""
    size = file.stat().st_size if file.is_file() else 0
    if size < 32 << 20:
        yield None
        return
    label = _("Importing {file}", file=file.name)
    with progress() as shown:

        def advance(done: int, total: int) -> None:
            shown.update(label, min(done, total), total, size=True)

        yield advance
        shown.finish(label)


def _command(kind: str, help_text: str) -> None:
    def command(
        file: FileArg,
        source: SourceOpt = DEFAULT_SOURCE,
        mapping: MappingOpt = None,
        dry_run: DryRunOpt = False,
    ) -> None:
        _run(kind, file, source, mapping, dry_run)

    command.__doc__ = help_text
    import_app.command(name=kind)(command)


_command(
    "accounts",
    "Accounts (customers): id, name, domain/website, owner CSM (e-mail or name), industry ...;"
    " resolved to existing accounts by id, then domain, then normalised company name.",
)
_command(
    "contacts",
    "Contacts: id or e-mail, account id, name, role (champion, decision maker, admin, user).",
)
_command(
    "subscriptions",
    "Subscriptions (contract lines): account_id, subscription_id, plan, start_date, end_date,"
    " amount (minor units), currency, billing_period_months.",
)
_command(
    "events",
    "Product usage events into the Parquet event store: event_id (optional), account id, user id,"
    " event name, timestamp, properties (JSON).",
)
_command(
    "tickets",
    "Support tickets: ticket id, account id, subject, opened/closed at, priority, status, CSAT.",
)
_command("surveys", "Survey responses: account id, type (nps, csat, ces), score, answered at.")
_command(
    "activities",
    "CSM activities: account id, kind (meeting, call, email, note, onboarding), member, when.",
)
_command(
    "team",
    "CS team members: name, e-mail, job title (trainee, associate, manager, senior manager), team.",
)
_command(
    "attendance",
    "Programme attendance: programme key, session date, contact e-mail or account id, status "
    "(attended, no_show, enrolled). Sessions, contacts and accounts must exist.",
)
_command(
    "deals",
    "CRM pipeline deals (opportunities): deal id, account id, name, stage, status (open, won,"
    " lost), amount (minor units), currency, close date, type, owner (e-mail or name).",
)
_command(
    "invoices",
    "Billing invoices: invoice id, account id, number, status (open, paid, void, uncollectible),"
    " amount due and paid (minor units), currency, issued on, due date, paid at, attempts.",
)
