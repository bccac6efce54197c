"""Whatever file arrives, every importer either imports it or refuses it whole, with reasons.

For each kind ``banso import`` accepts, Hypothesis builds files from the things real exports
contain (any text, quotes and line breaks in values, dates in many spellings, huge and negative
numbers, JSON, blank cells) in UTF-8 with and without BOM, CP932 and Latin-1, as CSV or as an
.xlsx whose ``<dimension>`` is stale, plus plain random bytes. Properties: the import never fails
with anything but a ``BansoError`` (``ImportRejected`` lists the problems; a file that cannot be
read at all says why), and a refused file changes nothing: every table's row count and the
event store's files are as before.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, inspect, select, table
from tests.ingest.test_readers import stale_xlsx

from banso import db, schema
from banso.errors import BansoError
from banso.ingest.importer import import_file
from banso.ingest.schemas import FIELDS, ImportKind
from banso.usage.store import store_dir

EXAMPLES_PER_KIND = 150

_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=-5, max_value=10**7).map(lambda n: f"{n:,}"),
    st.sampled_from(["¥1,200,000", "\\120,000", "1,200,000円", "１２０", "12.50", "-0", "1e9",
                     "9223372036854775807", "9223372036854775808", "-9223372036854775809"]),
)  # fmt: skip
_dates = st.one_of(
    st.dates().map(str),
    st.dates().map(lambda d: f"{d.year}/{d.month}/{d.day}"),
    st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.sampled_from(["令和6年4月1日", "R6.4.1", "2024-02-30", "0000-01-01", "9999-12-31",
                     "2024-04-01T10:00:00+09:00", "2024-04-01 25:00", "20240401", "yesterday",
                     "2024-04-01T10:00:00+99:99", "1900-01-01T00:00:00Z"]),
)  # fmt: skip
_json = st.sampled_from(['{"plan": "pro"}', "[1, 2]", "{", '{"a": {"b": null}}', "null"])
_cell = st.one_of(
    st.just(""),
    _words,
    _numbers,
    _dates,
    _json,
    _words.map(lambda w: f'"{w}"\n{w}'),  # quotes and a line break inside a value
    st.sampled_from(["pro", "standard", "nps", "csat", "meeting", "champion", "ja", "open",
                     "high", "a@example.com", "K1", "S1"]),
)  # fmt: skip
_encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp932", "latin-1"])


@st.composite
def import_files(draw: st.DrawFn, kind: ImportKind, folder: Path) -> Path:
    """A file a customer might send for ``kind``: CSV in some encoding, stale .xlsx, or bytes."""
    names = [spec.name for spec in FIELDS[kind]]
    headers = draw(st.lists(st.sampled_from(names), min_size=1, unique=True)) if draw(
        st.booleans()) else names  # fmt: skip
    width = len(headers) + (1 if draw(st.integers(0, 9)) == 0 else 0)  # sometimes one too many
    rows = draw(st.lists(st.lists(_cell, min_size=width, max_size=width), max_size=6))
    form = draw(st.sampled_from(["csv", "csv", "xlsx", "bytes"]))
    if form == "xlsx":
        ragged = [headers, *[[c if c else None for c in row] for row in rows]]
        cleaned = [[_excel_safe(c) for c in row] for row in ragged]
        dimension = draw(st.sampled_from(["A1", "A1:B2", "A1:Z1000"]))
        return stale_xlsx(folder / f"{kind.value}.xlsx", cleaned, dimension)
    path = folder / f"{kind.value}.csv"
    if form == "bytes":
        prefix = (",".join(headers) + "\n").encode() if draw(st.booleans()) else b""
        path.write_bytes(prefix + draw(st.binary(max_size=200)))
        return path
    out = io.StringIO()
    writer = csv.writer(out, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    writer.writerows([headers, *rows])
    path.write_bytes(out.getvalue().encode(draw(_encodings), errors="replace"))
    return path


def _excel_safe(value: str | None) -> str | None:
    """Excel cells cannot hold control characters other than tab and line breaks."""
    if value is None:
        return None
    return "".join(c for c in value if c >= " " or c in "\t\n\r")


def _state() -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Row counts of every table, and the event store's files with their sizes."""
    with db.session_scope() as session:
        names = inspect(session.connection()).get_table_names()
        counts = {
            name: int(session.scalar(select(func.count()).select_from(table(name))) or 0)
            for name in names
            if name != "alembic_version"
        }
    root = store_dir()
    files = sorted(
        (str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file()
    ) if root.exists() else []  # fmt: skip
    return counts, files


@pytest.mark.parametrize("kind", list(ImportKind), ids=lambda k: k.value)
def test_any_file_is_imported_whole_or_refused_whole(kind: ImportKind, tmp_path: Path) -> None:
    check_any_file(kind, tmp_path, EXAMPLES_PER_KIND)


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(ImportKind), ids=lambda k: k.value)
def test_on_postgresql_any_file_is_imported_whole_or_refused_whole(
    kind: ImportKind, tmp_path: Path, pg_url: str
) -> None:
    """PostgreSQL checks what SQLite lets through (text lengths, NUL characters)."""
    check_any_file(kind, tmp_path, EXAMPLES_PER_KIND // 4)


def check_any_file(kind: ImportKind, tmp_path: Path, examples: int) -> None:
    schema.upgrade()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        path = data.draw(import_files(kind, tmp_path))
        before = _state()
        try:
            with db.session_scope() as session:
                import_file(session, kind.value, path, source="prop")
            event("imported")
        except BansoError as refused:
            event(f"refused: {type(refused).__name__}")
            assert str(refused)
            assert _state() == before, f"{path.name} was refused but changed data"
        finally:
            path.unlink()

    check()
