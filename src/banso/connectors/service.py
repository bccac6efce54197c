"""Connections: add, test, sync, status, remove; the sync of each object all-or-nothing.

A sync pulls one object's records changed since its stored cursor, turns them into the rows of
an import kind and hands them to ``ingest.importer.import_rows``: the same header matching,
value parsing, row checks and identity resolution as a file. The rows, the new cursor and the
sync log entry commit together; a rejected batch (a malformed record, a bad value) commits only
the log entry, with every problem as ``SOURCE:OBJECT:ID: FIELD: reason``, and the cursor stays
where it was, so the next sync fetches the same records again."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, AccountIdentity
from banso.audit import service as audit
from banso.connectors import hubspot, salesforce, stripe, zendesk
from banso.connectors.base import ObjectSync, Pulled
from banso.connectors.http import ApiClient, ConnectorError
from banso.connectors.models import KINDS, Connection, SyncCursor, SyncRun, WriteBack
from banso.db import session_scope, utcnow
from banso.errors import BansoError, ImportRejected, NotFound
from banso.health.models import HealthCurrent
from banso.i18n import _, number
from banso.ingest.importer import import_rows
from banso.ingest.lock import ImportBusy
from banso.ingest.schemas import FIELDS, ImportKind
from banso.team.models import TeamMember

SERVICES: dict[str, ModuleType] = {
    "hubspot": hubspot, "salesforce": salesforce, "stripe": stripe, "zendesk": zendesk,
}  # fmt: skip
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_PROBLEMS_KEPT = 200


def objects(kind: str) -> tuple[ObjectSync, ...]:
    return SERVICES[kind].OBJECTS  # type: ignore[no-any-return]


# ---------------------------------------------------------------- connections


def add(
    session: Session,
    name: str,
    kind: str,
    base_url: str,
    *,
    secret_env: str | None = None,
    secret_file: str | None = None,
    mapping: dict[str, dict[str, str]] | None = None,
    write_back: bool = False,
) -> Connection:
    """Register a connection; every mistake is one clear sentence, nothing half-stored."""
    if kind not in KINDS:
        raise BansoError(_("Unknown service {kind} (one of: {allowed})", kind=kind,
                           allowed=", ".join(KINDS)))  # fmt: skip
    if not _NAME.match(name):
        raise BansoError(_("A connection name is 1-50 lower-case letters, digits, - or _ "
                           "(got {name!r}).", name=name))  # fmt: skip
    if session.scalar(select(Connection.id).where(Connection.name == name)) is not None:
        raise BansoError(_("A connection named {name} already exists.", name=name))
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise BansoError(_("The base URL must start with http:// or https:// (got {url}).",
                           url=base_url))  # fmt: skip
    if (secret_env is None) == (secret_file is None):
        raise BansoError(_("Give the secret as exactly one of --secret-env or --secret-file."))
    if secret_file is not None:
        _check_secret_file(Path(secret_file))
    if write_back and kind not in ("hubspot", "salesforce"):
        raise BansoError(_("Write-back is available for HubSpot and Salesforce only."))
    checked = check_mapping(kind, mapping or {})
    connection = Connection(
        name=name, kind=kind, base_url=base_url.rstrip("/"), secret_env=secret_env,
        secret_file=str(Path(secret_file).resolve()) if secret_file else None,
        mapping=json.dumps(checked, ensure_ascii=False) if checked else None,
        write_back=int(write_back),
    )  # fmt: skip
    session.add(connection)
    session.flush()
    audit.record(session, "connection.add", name, kind=kind)
    return connection


def check_mapping(kind: str, mapping: dict[str, Any]) -> dict[str, dict[str, str]]:
    """A mapping file's ``{object: {import field: service field}}``, checked against the
    objects of ``kind`` and the fields of each object's import kind."""
    if not isinstance(mapping, dict):
        raise BansoError(_("A mapping is a table of objects, each a table of fields."))
    known = {o.name: o for o in objects(kind)}
    out: dict[str, dict[str, str]] = {}
    for obj_name, fields in mapping.items():
        if obj_name not in known:
            raise BansoError(_("{kind} has no object {object} (one of: {allowed})", kind=kind,
                               object=obj_name, allowed=", ".join(known)))  # fmt: skip
        if not isinstance(fields, dict):
            raise BansoError(_("{object}: give a table of import field: service field.",
                               object=obj_name))  # fmt: skip
        allowed = {f.name for f in FIELDS[ImportKind(known[obj_name].kind)]}
        for target, path in fields.items():
            if target not in allowed:
                raise BansoError(_("{object}: {field} is not a field of {kind} imports "
                                   "(one of: {allowed})", object=obj_name, field=target,
                                   kind=known[obj_name].kind,
                                   allowed=", ".join(sorted(allowed))))  # fmt: skip
            if not isinstance(path, str) or not path.strip():
                raise BansoError(_("{object}: {field} needs the service's field name.",
                                   object=obj_name, field=target))  # fmt: skip
        out[obj_name] = {str(k): str(v).strip() for k, v in fields.items()}
    return out


def get(session: Session, name: str) -> Connection:
    connection = session.scalar(select(Connection).where(Connection.name == name))
    if connection is None:
        raise NotFound(_("No connection named {name} (see banso connect status).", name=name))
    return connection


def remove(session: Session, name: str) -> None:
    connection = get(session, name)
    for table in (SyncCursor, SyncRun, WriteBack):
        session.execute(delete(table).where(table.connection_id == connection.id))
    session.delete(connection)
    session.flush()
    audit.record(session, "connection.remove", name, kind=connection.kind)


def _check_secret_file(path: Path) -> None:
    if not path.is_file():
        raise BansoError(_("Secret file not found: {path}", path=str(path)))
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise BansoError(_("{path} may be read by others: make it 0600 (chmod 600 {path}).",
                           path=str(path)))  # fmt: skip


def secret(connection: Connection) -> str:
    """The connection's secret, from its environment variable or file; never printed."""
    if connection.secret_env:
        value = os.environ.get(connection.secret_env, "").strip()
        if not value:
            raise BansoError(_("{name}: the environment variable {var} is not set.",
                               name=connection.name, var=connection.secret_env))  # fmt: skip
        return value
    path = Path(connection.secret_file or "")
    _check_secret_file(path)
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise BansoError(_("{name}: the secret file {path} is empty.", name=connection.name,
                           path=str(path)))  # fmt: skip
    return value


def client_for(connection: Connection, sleep: Callable[[float], None] | None = None) -> ApiClient:
    headers = SERVICES[connection.kind].headers(secret(connection))
    client = ApiClient(connection.base_url, headers)
    if sleep is not None:
        client.sleep = sleep
    return client


def test(connection: Connection) -> str:
    """One cheap authenticated request; the service's answer in a sentence."""
    client = client_for(connection)
    try:
        return str(SERVICES[connection.kind].check(client))
    finally:
        client.close()


# ---------------------------------------------------------------- sync


@dataclass
class ObjectResult:
    object: str
    status: str
    records_in: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    skipped: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    problems: list[str] = field(default_factory=list)


def sync(
    name: str,
    *,
    only: list[str] | None = None,
    sleep: Callable[[float], None] | None = None,
    on_object: Callable[[ObjectResult], None] | None = None,
) -> list[ObjectResult]:
    """Sync every object of connection ``name`` (or ``only`` those), each all-or-nothing, in the
    order that resolves references (accounts before their contacts, subscriptions, tickets)."""
    with session_scope() as session:
        connection = get(session, name)
        conn_id, kind, source = connection.id, connection.kind, connection.name
        mapping = json.loads(connection.mapping) if connection.mapping else {}
        client = client_for(connection, sleep)
    chosen = [o for o in objects(kind) if not only or o.name in only]
    if only and len(chosen) != len(set(only)):
        unknown = sorted(set(only) - {o.name for o in chosen})
        raise BansoError(_("{kind} has no object {object} (one of: {allowed})", kind=kind,
                           object=", ".join(unknown),
                           allowed=", ".join(o.name for o in objects(kind))))  # fmt: skip
    results = []
    try:
        for obj in chosen:
            result = _sync_object(client, conn_id, source, obj, {**obj.fields,
                                                                  **mapping.get(obj.name, {})})
            results.append(result)
            if on_object:
                on_object(result)
    finally:
        client.close()
    return results


def _sync_object(
    client: ApiClient, conn_id: int, source: str, obj: ObjectSync, mapping: dict[str, str]
) -> ObjectResult:
    with session_scope() as session:
        cursor_row = session.scalar(
            select(SyncCursor).where(SyncCursor.connection_id == conn_id,
                                     SyncCursor.object == obj.name)
        )  # fmt: skip
        before = cursor_row.cursor if cursor_row else None
        run = SyncRun(connection_id=conn_id, object=obj.name, cursor_before=before)
        session.add(run)
        session.flush()
        run_id = run.id
    result = ObjectResult(obj.name, "running", cursor_before=before)
    label = f"{source}:{obj.name}"
    try:
        pulled = obj.pull(client, before, mapping)
        result.records_in, result.skipped = pulled.records_in, pulled.skipped
        if pulled.problems:
            result.problems = [f"{label}:{p.record_id}: {p.field}: {p.reason}"
                               for p in pulled.problems]  # fmt: skip
            result.status, result.rejected = "rejected", len(pulled.problems)
        else:
            with session_scope() as session:
                _import(session, obj, pulled, source, label, result)
                _store_cursor(session, conn_id, obj.name, pulled.cursor)
                result.cursor_after = pulled.cursor
                result.status = "ok"
                _finish(session, run_id, result)
            return result
    except ImportRejected as exc:
        result.status = "rejected"
        result.problems = [_translate(p, pulled, label) for p in exc.problems]
        result.rejected = len({p.row for p in exc.problems})
    except (ConnectorError, ImportBusy) as exc:
        result.status, result.problems = "failed", [str(exc)]
    except BansoError as exc:
        result.status, result.problems = "failed", [f"{label}: {exc}"]
    with session_scope() as session:
        result.cursor_after = before
        _finish(session, run_id, result)
    return result


def _import(session: Session, obj: ObjectSync, pulled: Pulled, source: str, label: str,
            result: ObjectResult) -> None:  # fmt: skip
    if not pulled.rows:
        return
    headers = sorted({k for row in pulled.rows for k in row})
    rows = [[row.get(h) for h in headers] for row in pulled.rows]
    imported = import_rows(session, obj.kind, headers, rows, source=source, label=label)
    result.inserted, result.updated = imported.inserted, imported.updated


def _translate(problem: Any, pulled: Pulled, label: str) -> str:
    """``SOURCE:OBJECT:ID: FIELD: reason`` for the importer's ``label:ROW:FIELD: reason``."""
    row = int(problem.row)
    record_id = pulled.ids[row - 1] if 1 <= row <= len(pulled.ids) else "?"
    return f"{label}:{record_id}: {problem.column}: {problem.reason}"


def _store_cursor(session: Session, conn_id: int, obj: str, cursor: str | None) -> None:
    if cursor is None:
        return
    row = session.scalar(
        select(SyncCursor).where(SyncCursor.connection_id == conn_id, SyncCursor.object == obj)
    )
    if row is None:
        session.add(SyncCursor(connection_id=conn_id, object=obj, cursor=cursor))
    else:
        row.cursor, row.updated_at = cursor, utcnow()


def _finish(session: Session, run_id: int, result: ObjectResult) -> None:
    run = session.get(SyncRun, run_id)
    assert run is not None
    run.status, run.finished_at = result.status, utcnow()
    run.records_in, run.inserted, run.updated = result.records_in, result.inserted, result.updated
    run.rejected, run.skipped = result.rejected, result.skipped
    run.cursor_after = result.cursor_after
    run.error = "\n".join(result.problems[:MAX_PROBLEMS_KEPT]) or None


def configured(*, write_back: bool = False) -> bool:
    """Whether any connection exists (with write-back switched on, when asked)."""
    query = select(Connection.id).limit(1)
    if write_back:
        query = query.where(Connection.write_back == 1)
    with session_scope() as session:
        return session.scalar(query) is not None


def sync_all(report: Callable[[str], None]) -> int:
    """Sync every connection (the daily run): a failing one is reported in a line and the others
    go on. Returns how many connections had a failed or rejected object."""
    with session_scope() as session:
        names = list(session.scalars(select(Connection.name).order_by(Connection.name)))
    failures = 0
    for name in names:
        try:
            results = sync(name)
        except BansoError as exc:
            failures += 1
            report(_("{name}: not synced: {reason}", name=name, reason=str(exc)))
            continue
        bad = [r for r in results if r.status != "ok"]
        failures += bool(bad)
        report(_("{name}: {n} records in, {new} new, {updated} updated, {bad} objects failed",
                 name=name, n=number(sum(r.records_in for r in results)),
                 new=number(sum(r.inserted for r in results)),
                 updated=number(sum(r.updated for r in results)), bad=number(len(bad))))
        for result in bad:
            for problem in result.problems[:5]:
                report("  " + problem)
    return failures


def write_back_all(report: Callable[[str], None]) -> tuple[int, int]:
    """Write back every connection that asks for it; (records written, connections failed)."""
    with session_scope() as session:
        names = list(session.scalars(
            select(Connection.name).where(Connection.write_back == 1).order_by(Connection.name)
        ))  # fmt: skip
    written = failures = 0
    for name in names:
        try:
            n = write_back(name)
        except BansoError as exc:
            failures += 1
            report(_("{name}: write-back failed: {reason}", name=name, reason=str(exc)))
            continue
        written += n
        report(_("{name}: {n} records written back", name=name, n=number(n)))
    return written, failures


# ---------------------------------------------------------------- status


@dataclass(frozen=True)
class ObjectStatus:
    object: str
    cursor: str | None
    last_status: str | None
    last_finished_at: str | None
    records_in: int
    inserted: int
    updated: int
    rejected: int
    error: str | None


@dataclass(frozen=True)
class ConnectionStatus:
    name: str
    kind: str
    base_url: str
    secret_from: str
    write_back: bool
    objects: list[ObjectStatus]


def status(session: Session) -> list[ConnectionStatus]:
    out = []
    for connection in session.scalars(select(Connection).order_by(Connection.name)):
        cursors = {o: c for o, c in session.execute(
            select(SyncCursor.object, SyncCursor.cursor)
            .where(SyncCursor.connection_id == connection.id)
        )}  # fmt: skip
        rows = []
        for obj in objects(connection.kind):
            last = session.scalar(
                select(SyncRun)
                .where(SyncRun.connection_id == connection.id, SyncRun.object == obj.name)
                .order_by(SyncRun.id.desc()).limit(1)
            )  # fmt: skip
            rows.append(ObjectStatus(
                obj.name, cursors.get(obj.name), last.status if last else None,
                last.finished_at.isoformat() if last and last.finished_at else None,
                last.records_in if last else 0, last.inserted if last else 0,
                last.updated if last else 0, last.rejected if last else 0,
                last.error if last else None,
            ))  # fmt: skip
        secret_from = (f"env:{connection.secret_env}" if connection.secret_env
                       else f"file:{connection.secret_file}")  # fmt: skip
        out.append(ConnectionStatus(connection.name, connection.kind, connection.base_url,
                                    secret_from, bool(connection.write_back), rows))  # fmt: skip
    return out


def sync_log(session: Session, name: str, limit: int = 50) -> list[SyncRun]:
    connection = get(session, name)
    return list(session.scalars(
        select(SyncRun).where(SyncRun.connection_id == connection.id)
        .order_by(SyncRun.id.desc()).limit(limit)
    ))  # fmt: skip


# ---------------------------------------------------------------- write-back


WRITE_BACK_FIELDS = {
    "hubspot": {"score": "banso_health_score", "band": "banso_health_band",
                "owner": "banso_csm_email"},
    "salesforce": {"score": "Banso_Health_Score__c", "band": "Banso_Health_Band__c",
                   "owner": "Banso_CSM_Email__c"},
}  # fmt: skip


def write_back(name: str) -> int:
    """Opt-in: push each account's health score, band and CSM owner to the record it came from
    (HubSpot company property / Salesforce Account field), only when they changed since the last
    write; each write is logged. Returns how many records were written."""
    with session_scope() as session:
        connection = get(session, name)
        if not connection.write_back:
            return 0
        conn_id, kind, source = connection.id, connection.kind, connection.name
        rows = session.execute(
            select(AccountIdentity.external_id, HealthCurrent.score, HealthCurrent.band,
                   TeamMember.email)
            .join(Account, Account.id == AccountIdentity.account_id)
            .join(HealthCurrent, HealthCurrent.account_id == Account.id, isouter=True)
            .join(TeamMember, TeamMember.id == Account.owner_id, isouter=True)
            .where(AccountIdentity.source == source)
        ).all()  # fmt: skip
        written = {w.external_id: w for w in session.scalars(
            select(WriteBack).where(WriteBack.connection_id == conn_id))}  # fmt: skip
        client = client_for(connection)
    names = WRITE_BACK_FIELDS[kind]
    count = 0
    try:
        for external_id, score, band, owner in rows:
            values = {names["score"]: "" if score is None else str(round(float(score), 1)),
                      names["band"]: band or "", names["owner"]: owner or ""}  # fmt: skip
            text = json.dumps(values, sort_keys=True)
            previous = written.get(external_id)
            if previous is not None and previous.values_json == text:
                continue
            SERVICES[kind].write_back(client, external_id, values)
            with session_scope() as session:
                if previous is None:
                    session.add(WriteBack(connection_id=conn_id, external_id=external_id,
                                          values_json=text))  # fmt: skip
                else:
                    row = session.get(WriteBack, previous.id)
                    assert row is not None
                    row.values_json, row.written_at = text, utcnow()
                audit.record(session, "connection.write_back", f"{source}:{external_id}",
                             **values)  # fmt: skip
            count += 1
    finally:
        client.close()
    return count
