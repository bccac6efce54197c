"""The Data page: upload a file through the same importers as ``banso import`` (all-or-nothing,
every bad cell reported with its row and column) and see the import history."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from banso.errors import ImportRejected, InvalidValue
from banso.i18n import _
from banso.ingest.batches import DEFAULT_SOURCE, MAX_PRINTED_PROBLEMS, MAX_SOURCE_CHARS
from banso.ingest.importer import import_file
from banso.ingest.models import ImportBatch
from banso.ingest.schemas import ImportKind
from banso.revenue import cache as revenue_cache
from banso.users.models import User
from banso.web.auth import EDITOR_ROLES, current_user, db_session, require_role
from banso.web.templating import render
from banso.web.uploads import read_upload_form, safe_upload_name

data_pages = APIRouter(include_in_schema=False)

HISTORY_ROWS = 50


@data_pages.get("/data")
def data_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    return _page(request, session, user)


@data_pages.post("/data")
async def data_upload(
    request: Request,
    user: Annotated[User, Depends(require_role(*EDITOR_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """Import the uploaded file (ops/admin); a rejected file changes nothing and lists why.

    The form is read only after the role was checked, and its file only after the CSRF token
    (:func:`banso.web.uploads.read_upload_form`)."""
    form = await read_upload_form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidValue("file", _("Choose a file to import."))
    kind = form.get("kind")
    if kind not in {k.value for k in ImportKind}:
        choices = ", ".join(k.value for k in ImportKind)
        raise InvalidValue("kind", _("Choose one of: {choices}.", choices=choices))
    source = str(form.get("source") or "").strip() or DEFAULT_SOURCE
    if len(source) > MAX_SOURCE_CHARS:  # refused, never cut: a cut name is another system
        raise InvalidValue(
            "source",
            _("The source system's name must be 1-{limit} characters.", limit=MAX_SOURCE_CHARS),
        )
    dry_run = form.get("dry_run") in ("true", "on", "1")
    name = safe_upload_name(upload.filename or "upload.csv")
    with tempfile.TemporaryDirectory(prefix="banso-upload-") as tmp:
        path = Path(tmp) / name
        await run_in_threadpool(_save, upload, path)
        return await run_in_threadpool(
            _import, request, session, user, str(kind), path, source, dry_run
        )


def _save(upload: UploadFile, path: Path) -> None:
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out)


def _import(
    request: Request,
    session: Session,
    user: User,
    kind: str,
    path: Path,
    source: str,
    dry_run: bool,
) -> Response:
    try:
        result = import_file(session, kind, path, source=source, dry_run=dry_run)
    except ImportRejected as rejected:
        session.rollback()
        problems = rejected.problems[:MAX_PRINTED_PROBLEMS]
        context = {"message": str(rejected), "problems": problems,
                   "more": len(rejected.problems) - len(problems)}  # fmt: skip
        return _page(request, session, user, context, status_code=400)
    if dry_run:
        session.rollback()
    else:
        # commit now (not when the route returns) so the dashboard's report is recomputed on
        # the new data in the background rather than by the next visitor
        session.commit()
        revenue_cache.warm_in_background()
    return _page(request, session, user, {"result": result})


def _page(
    request: Request,
    session: Session,
    user: User,
    extra: dict[str, object] | None = None,
    status_code: int = 200,
) -> Response:
    history = session.scalars(
        select(ImportBatch).order_by(ImportBatch.created_at.desc()).limit(HISTORY_ROWS)
    ).all()
    context: dict[str, object] = {
        "kinds": [k.value for k in ImportKind],
        "can_import": user.role in EDITOR_ROLES,
        "history": history,
        "result": None,
        "problems": None,
        "message": None,
        "more": 0,
    }
    context.update(extra or {})
    return render(request, "data.html", context, status_code=status_code)
