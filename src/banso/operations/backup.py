"""Back up and restore an installation: the app database and the files of BANSO_HOME.

A backup is a folder (mode 0700, files 0600):

- ``manifest.json``: format, Banso version, time, database kind and Alembic revision, the rows of
  every table, and every file with its size and SHA-256;
- ``database/banso.db`` (SQLite: the online backup API, a consistent copy while the server runs),
  or ``database/<table>.jsonl.gz`` (PostgreSQL: every table read in one REPEATABLE READ
  transaction through SQLAlchemy, one JSON array per row);
- ``home/``: every file of BANSO_HOME (event store, health snapshots, YAML config, the secret key
  that signs sessions and e-mail links, reports) except the live database files, lock and
  temporary files and ``analytics/`` (an export cache Banso rebuilds);
- ``config/``: the YAML config directory, when BANSO_CONFIG_DIR puts it outside BANSO_HOME.

PostgreSQL is dumped through SQLAlchemy rather than ``pg_dump``: ``pg_dump`` must be installed
beside Banso and be at least the server's major version, which a pip-installed Banso cannot
promise; the portable dump needs nothing but the connection Banso already has, restores into the
schema Banso's own migrations create, and counts rows for the manifest and the progress bar.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import JSON, Date, DateTime, LargeBinary, MetaData, Numeric, Table, text
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import Engine, make_url

from banso import schema
from banso.config import get_settings
from banso.db import dispose_engines, get_engine
from banso.errors import BansoError
from banso.i18n import _

FORMAT = 1
"""Version of the backup layout; a restore refuses a layout it does not know."""

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as a long step advances (``total`` 0 = unknown)."""

_SKIPPED_DIRS = {"analytics"}
_SKIPPED_SUFFIXES = (".lock", ".tmp", "-wal", "-shm", "-journal")
_INSERT_BATCH = 5_000


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    dialect: str
    revision: str
    rows: dict[str, int]
    files: int
    bytes: int


def backup(destination: Path, progress: Progress | None = None) -> BackupSummary:
    """Write a backup of the app database and BANSO_HOME into the new folder ``destination``."""
    settings = get_settings()
    if destination.exists() and any(destination.iterdir()):
        raise BansoError(
            _("{path} is not empty; back up into a new folder.", path=str(destination))
        )
    revision = schema.current_revision()
    if revision is None:
        raise BansoError(_("The database is not initialised; run `banso init` first."))
    report = progress or _no_progress
    _private_dir(destination)
    destination.chmod(0o700)  # also when it existed, empty
    _private_dir(destination / "database")
    app_db = get_engine()
    if app_db.dialect.name == "sqlite" and app_db.url.database:
        _copy_sqlite(Path(app_db.url.database), destination / "database" / "banso.db", report)
        rows = _count_sqlite_rows(destination / "database" / "banso.db")
    else:
        rows = _dump_tables(app_db, destination / "database", report)
    home = settings.home.resolve()
    sources = [("home", home)]
    config = settings.config_path.resolve()
    if config.exists() and not config.is_relative_to(home):
        sources.append(("config", config))
    live = {_database_file()} if app_db.dialect.name == "sqlite" else set()
    listed = [
        (prefix, root, path)
        for prefix, root in sources
        for path in _files_to_keep(root, skip=live | {destination.resolve()})
    ]
    for done, (prefix, root, path) in enumerate(listed, 1):
        target = destination / prefix / path.relative_to(root)
        _private_dir(target.parent)
        _copy_private(path, target)
        report(_("Copying files"), done, len(listed))
    files = _describe_files(destination)
    manifest = {
        "format": FORMAT,
        "banso_version": package_version("banso"),
        "created_at": datetime.now(UTC).isoformat(),
        "database": {"dialect": app_db.dialect.name, "revision": revision, "rows": rows},
        "files": files,
    }
    descriptor = os.open(destination / "manifest.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return BackupSummary(
        destination,
        app_db.dialect.name,
        revision,
        rows,
        len(files),
        sum(f["bytes"] for f in files),
    )


def restore(source: Path, *, force: bool = False, progress: Progress | None = None) -> str:
    """Put the backup in ``source`` into BANSO_HOME and the app database; returns the revision
    the database is at afterwards. Refuses a non-empty home or database unless ``force``."""
    report = progress or _no_progress
    manifest = _read_manifest(source)
    database = manifest["database"]
    revision = str(database["revision"])
    if revision not in _known_revisions():
        raise BansoError(
            _(
                "The backup is at database revision {revision}, which this Banso does not "
                "know; restore it with the Banso version that made it ({version}).",
                revision=revision,
                version=manifest.get("banso_version", "?"),
            )
        )
    for done, entry in enumerate(manifest["files"], 1):
        if _sha256(source / entry["path"]) != entry["sha256"]:
            raise BansoError(
                _("The backup file {path} is damaged (its checksum differs).", path=entry["path"])
            )
        report(_("Checking the backup"), done, len(manifest["files"]))
    settings = get_settings()
    home = settings.home
    app_url = make_url(settings.db_url)
    dialect = app_url.get_backend_name()
    if dialect != database["dialect"]:
        raise BansoError(
            _(
                "The backup holds a {backup} database but this installation uses {target}; "
                "restore into the same kind of database.",
                backup=database["dialect"],
                target=dialect,
            )
        )
    occupied = home.exists() and any(home.iterdir())
    if occupied and not force:
        raise BansoError(
            _(
                "{path} is not empty; restore into a new home, or add --force to replace it.",
                path=str(home),
            )
        )
    dispose_engines()
    if dialect == "sqlite":
        # a database file outside the home (BANSO_DATABASE_URL) is not replaced unasked either
        database_file = Path(str(app_url.database))
        in_use = database_file.exists() and database_file.stat().st_size > 0
    else:
        in_use = _has_tables(settings.db_url)
    if in_use and not force:
        raise BansoError(_("The app database already has tables; add --force to replace them."))
    if occupied:
        for entry in home.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    _private_dir(home)
    for done, entry in enumerate(manifest["files"], 1):
        relative = Path(entry["path"])
        if relative.parts[0] == "home":
            target = home / Path(*relative.parts[1:])
        elif relative.parts[0] == "config":
            target = settings.config_path / Path(*relative.parts[1:])
        else:
            continue
        _private_dir(target.parent)
        _copy_private(source / relative, target)
        report(_("Restoring files"), done, len(manifest["files"]))
    if dialect == "sqlite":
        _restore_sqlite(source / "database" / "banso.db", Path(str(app_url.database)), report)
    else:
        _load_tables(settings.db_url, source / "database", revision, database["rows"], report)
    dispose_engines()
    return schema.upgrade()


def _no_progress(_step: str, _done: int, _total: int) -> None:
    return None


def _database_file() -> Path:
    return Path(str(get_engine().url.database)).resolve()


def _private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) readable by the owner only."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700)
        directory.chmod(0o700)


def _copy_private(source: Path, target: Path) -> None:
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out, source.open("rb") as data:
        shutil.copyfileobj(data, out, 1 << 20)
    shutil.copystat(source, target)  # keeps the modification time; the mode is set again below
    os.chmod(target, 0o600)


def _files_to_keep(root: Path, skip: set[Path]) -> list[Path]:
    kept = []
    for directory, dirs, names in os.walk(root):
        here = Path(directory)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and (here / d).resolve() not in skip
            and not (here == root and d in _SKIPPED_DIRS)
        )
        for name in sorted(names):
            path = here / name
            if name.startswith(".") or name.endswith(_SKIPPED_SUFFIXES):
                continue
            if path.resolve() in skip or path.is_symlink():
                continue
            kept.append(path)
    return kept


def _describe_files(destination: Path) -> list[dict[str, Any]]:
    return [
        {
            "path": path.relative_to(destination).as_posix(),
            "bytes": path.stat().st_size,
            "sha256": _sha256(path),
        }
        for path in sorted(p for p in destination.rglob("*") if p.is_file())
        if path.name != "manifest.json" or path.parent != destination
    ]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(source: Path) -> dict[str, Any]:
    path = source / "manifest.json"
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise BansoError(
            _("{path} is not a Banso backup (no manifest.json).", path=str(source))
        ) from None
    except json.JSONDecodeError as exc:
        raise BansoError(
            _("{path}: the manifest is not valid JSON ({reason}).", path=str(path), reason=exc.msg)
        ) from exc
    if manifest.get("format") != FORMAT:
        raise BansoError(
            _(
                "{path}: backup format {found} is not one this Banso reads ({expected}).",
                path=str(path),
                found=manifest.get("format"),
                expected=FORMAT,
            )
        )
    return manifest


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(schema.alembic_config())
    return {s.revision for s in scripts.walk_revisions()}


# SQLite: the online backup API of the app's own sqlite3 module (one SQLite library per process)


def _copy_sqlite(database: Path, target: Path, report: Progress) -> None:
    """A consistent copy of a live database, 1024 pages a step. The source holds one read
    transaction throughout, so the copy is of one moment and writers (WAL) are not held up, and
    another process's commit does not make SQLite start the copy over."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    source = sqlite3.connect(database, timeout=30, isolation_level=None)
    copy = sqlite3.connect(target)
    try:
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        source.backup(
            copy,
            pages=1024,
            progress=lambda _status, remaining, total: report(
                _("Copying the database"), total - remaining, total
            ),
        )
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
        source.close()


def _restore_sqlite(backup_file: Path, database: Path, report: Progress) -> None:
    _private_dir(database.parent)
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    descriptor = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    target = sqlite3.connect(database)
    try:
        source.backup(
            target,
            pages=1024,
            progress=lambda _status, remaining, total: report(
                _("Restoring the database"), total - remaining, total
            ),
        )
        target.execute("PRAGMA journal_mode=WAL")
    finally:
        target.close()
        source.close()


def _count_sqlite_rows(database: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


# PostgreSQL (and any other server database): a portable dump through SQLAlchemy


def _dump_tables(app_db: Engine, directory: Path, report: Progress) -> dict[str, int]:
    """Every table but ``alembic_version``, as of one moment (REPEATABLE READ, read only)."""
    rows: dict[str, int] = {}
    with app_db.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        if app_db.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION READ ONLY"))
        metadata = MetaData()
        metadata.reflect(conn)
        tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
        totals = {
            t.name: conn.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar_one()
            for t in tables
        }
        for table in tables:
            step = _("Copying table {table}", table=table.name)
            order = list(table.primary_key.columns) or list(table.columns)
            result = conn.execution_options(stream_results=True, yield_per=_INSERT_BATCH).execute(
                table.select().order_by(*order)
            )
            count = 0
            target = directory / f"{table.name}.jsonl.gz"
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8") as out:
                out.write(json.dumps([c.name for c in table.columns]) + "\n")
                for row in result:
                    out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n")
                    count += 1
                    if count % _INSERT_BATCH == 0:
                        report(step, count, totals[table.name])
            report(step, count, totals[table.name])
            rows[table.name] = count
        conn.rollback()
    return rows


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _has_tables(url: str) -> bool:
    engine = sa_create_engine(url)
    try:
        with engine.connect() as conn:
            metadata = MetaData()
            metadata.reflect(conn)
            return bool(metadata.tables)
    finally:
        engine.dispose()


def _load_tables(
    url: str, directory: Path, revision: str, expected: dict[str, int], report: Progress
) -> None:
    """Empty the database, create the schema at the backup's revision, load every table in
    foreign-key order, and move the id sequences past the loaded ids."""
    # an engine of its own: the app engine's data-version hooks would write while loading
    engine = sa_create_engine(url)
    try:
        with engine.begin() as conn:
            existing = MetaData()
            existing.reflect(conn)
            existing.drop_all(conn)
        config = schema.alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        with engine.begin() as conn:
            metadata = MetaData()
            metadata.reflect(conn)
            for table in metadata.sorted_tables:
                path = directory / f"{table.name}.jsonl.gz"
                if table.name == "alembic_version" or not path.exists():
                    continue
                step = _("Restoring table {table}", table=table.name)
                loaded = 0
                for batch in _read_rows(path, table):
                    conn.execute(table.insert(), batch)
                    loaded += len(batch)
                    report(step, loaded, expected.get(table.name, 0))
                report(step, loaded, expected.get(table.name, 0))
                if engine.dialect.name == "postgresql":
                    _advance_sequences(conn, table)
    finally:
        engine.dispose()


def _read_rows(path: Path, table: Table) -> Iterator[list[dict[str, Any]]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        names = json.loads(next(lines))
        decoders = [_decoder(table.columns[n].type) for n in names]
        batch: list[dict[str, Any]] = []
        for line in lines:
            values = json.loads(line)
            batch.append({n: d(v) for n, d, v in zip(names, decoders, values, strict=True)})
            if len(batch) == _INSERT_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def _decoder(sa_type: Any) -> Callable[[Any], Any]:
    def keep(value: Any) -> Any:
        return value

    if isinstance(sa_type, JSON):
        return keep
    if isinstance(sa_type, DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(sa_type, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if isinstance(sa_type, Numeric) and sa_type.asdecimal:
        return lambda v: None if v is None else Decimal(v)
    if isinstance(sa_type, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    return keep


def _advance_sequences(conn: Any, table: Table) -> None:
    for column in table.primary_key.columns:
        if not column.autoincrement or column.type.python_type is not int:
            continue
        conn.execute(
            text(
                "SELECT setval(seq, (SELECT coalesce(max({col}), 0) + 1 FROM {tbl}), false) "
                "FROM pg_get_serial_sequence(:tbl, :col) AS seq WHERE seq IS NOT NULL".format(
                    col=f'"{column.name}"', tbl=f'"{table.name}"'
                )
            ),
            {"tbl": f'"{table.name}"', "col": column.name},
        )
