"""The review download from the account 360: ``GET /accounts/{id}/ebr`` with the period (default
the last complete fiscal quarter), the format (pdf or pptx; html to read it in the browser) and
the language (default the reader's). Whoever may see the 360 may download its review."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.dates import today
from banso.ebr import service
from banso.ebr.render import MEDIA_TYPES
from banso.i18n import current_language
from banso.revenue.fiscal import last_complete_quarter, parse_fiscal_period
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.params import AccountId

ebr_pages = APIRouter(include_in_schema=False)


@ebr_pages.get("/accounts/{account_id}/ebr")
def download_review(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    period: Annotated[str, Query(max_length=20)] = "",
    fmt: Annotated[Literal["pdf", "pptx", "html"], Query(alias="format")] = "pdf",
    lang: Annotated[Literal["ja", "en", ""], Query()] = "",
) -> Response:
    fiscal = parse_fiscal_period(period) if period.strip() else last_complete_quarter(today())
    file = service.review_file(session, account_id, fiscal, fmt, lang or current_language())
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        file.content,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{file.name}"'},
    )
