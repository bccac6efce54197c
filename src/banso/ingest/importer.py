"""``import_file``: the one entry point of ``banso import``, the Data page and ``banso run``.

It matches the file's headers to the kind's fields, then hands the file to the events importer
(``events.py``, the Parquet event store) or to the records importer (``records.py``, the app
database). Both build on ``batches.py``'s batches, problems and results, so the choice is made
here, above them both.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
from sqlalchemy.orm import Session

from banso.errors import BansoError, ImportProblem
from banso.i18n import _
from banso.ingest.batches import (
    DEFAULT_SOURCE,
    MAX_SOURCE_CHARS,
    ImportResult,
    Progress,
    rejected,
)
from banso.ingest.events import import_events
from banso.ingest.lock import hold_import_lock
from banso.ingest.readers import Batch, SourceFile, open_source
from banso.ingest.records import import_records
from banso.ingest.schemas import ImportKind, load_mapping, match_headers


def import_file(
    session: Session,
    kind: str,
    path: Path,
    *,
    source: str = DEFAULT_SOURCE,
    mapping_path: Path | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import ``path`` as ``kind`` from ``source`` (all-or-nothing; the caller commits)."""
    if kind not in {k.value for k in ImportKind}:
        allowed = ", ".join(k.value for k in ImportKind)
        raise BansoError(_("Unknown kind of import {kind} (one of: {allowed})", kind=kind,
                           allowed=allowed))  # fmt: skip
    if not source.strip() or len(source) > MAX_SOURCE_CHARS:
        raise BansoError(_("The source system's name must be 1-{limit} characters.",
                           limit=MAX_SOURCE_CHARS))  # fmt: skip
    import_kind = ImportKind(kind)
    if not dry_run:  # a dry run writes nothing, so it may check a file while another imports
        hold_import_lock(session, path.name)
    mapping = load_mapping(mapping_path, import_kind) if mapping_path else None
    source_file = open_source(path)
    fields, header_problems = match_headers(import_kind, source_file.headers, mapping)
    if header_problems:
        raise rejected([ImportProblem(path.name, 1, c, r) for c, r in header_problems])
    if import_kind is ImportKind.EVENTS:
        return import_events(session, source_file, fields, source, dry_run, progress)
    return import_records(session, import_kind, source_file, fields, source, dry_run, progress)


def import_rows(
    session: Session,
    kind: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str | None]],
    *,
    source: str,
    label: str,
    dry_run: bool = False,
) -> ImportResult:
    """Import records that did not come in a file (a connector's page of records) exactly as a
    file of ``kind`` would be: the same header matching, value parsing, row checks, identity
    resolution and all-or-nothing rule. Problems name ``label`` where a file's name would be and
    row ``i + 1`` for ``rows[i]``; the caller maps rows back to its own record ids."""
    if kind not in {k.value for k in ImportKind}:
        raise BansoError(_("Unknown kind of import {kind} (one of: {allowed})", kind=kind,
                           allowed=", ".join(k.value for k in ImportKind)))  # fmt: skip
    import_kind = ImportKind(kind)
    path = Path(label)
    if not dry_run:
        hold_import_lock(session, label)
    fields, header_problems = match_headers(import_kind, list(headers), None)
    if header_problems:
        raise rejected([ImportProblem(label, 0, c, r) for c, r in header_problems])
    columns = {
        name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(headers)
    }
    batch = Batch(columns=columns, rows=pa.array(range(1, len(rows) + 1), pa.int64()), bytes_read=0)
    source_file = SourceFile(path=path, headers=list(headers), size=0, batches=iter([batch]))
    if import_kind is ImportKind.EVENTS:
        return import_events(session, source_file, fields, source, dry_run, None)
    return import_records(session, import_kind, source_file, fields, source, dry_run, None)
