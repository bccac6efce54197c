"""``import_file``: the one entry point of ``banso import``, the Data page and ``banso run``.

It matches the file's headers to the kind's fields, then hands the file to the events importer
(``events.py``, the Parquet event store) or to the records importer (``service.py``, the app
database). Both build on ``service.py``'s batches, problems and results, so the choice is made
here, above them both.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from banso.errors import ImportProblem
from banso.ingest.events import import_events
from banso.ingest.readers import open_source
from banso.ingest.schemas import ImportKind, load_mapping, match_headers
from banso.ingest.service import (
    DEFAULT_SOURCE,
    ImportResult,
    Progress,
    import_records,
    rejected,
)


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
    import_kind = ImportKind(kind)
    mapping = load_mapping(mapping_path, import_kind) if mapping_path else None
    source_file = open_source(path)
    fields, header_problems = match_headers(import_kind, source_file.headers, mapping)
    if header_problems:
        raise rejected([ImportProblem(path.name, 1, c, r) for c, r in header_problems])
    if import_kind is ImportKind.EVENTS:
        return import_events(session, source_file, fields, source, dry_run, progress)
    return import_records(session, import_kind, source_file, fields, source, dry_run, progress)
