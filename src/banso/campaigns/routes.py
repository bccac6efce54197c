"""Campaign pages: ``/campaigns`` (list, create form, audience preview, figures per run) for ops
and admin, and the public tracking endpoints of campaign emails — the open pixel
``/t/o/<token>.gif`` and the redirect links ``/t/c/<token>`` (signed tokens; no sign-in)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.campaigns import service, usage_report
from banso.campaigns.tracking import PIXEL_GIF
from banso.dates import last_complete_month, today
from banso.i18n import _
from banso.segments import service as segments
from banso.users.models import User
from banso.web.auth import db_session, require_role
from banso.web.templating import render

campaigns_pages = APIRouter(include_in_schema=False)

CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Editor = Annotated[User, Depends(require_role("admin", "ops"))]
NO_STORE = {"Cache-Control": "no-store, private"}
PIXEL_HEADERS = {**NO_STORE, "Cross-Origin-Resource-Policy": "cross-origin"}
"""The pixel is an image of another site for the mail client showing it (the app's default
``same-origin`` would make the browser drop it)."""


@campaigns_pages.get("/t/o/{token}.gif")
def open_pixel(
    token: str, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Response:
    """The 1×1 image of a campaign email: counts an open; any token gets the image."""
    service.record_open(session, token)
    return Response(PIXEL_GIF, media_type="image/gif", headers=PIXEL_HEADERS)


@campaigns_pages.get("/t/c/{token}")
def click(
    request: Request, token: str, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Response:
    """A tracked link: counts the click and redirects to the URL the signed token names; a token
    Banso did not sign gets a 404 page, never a redirect."""
    url = service.record_click(session, token)
    if url is None:
        return render(request, "campaign_link_gone.html", {}, status_code=404)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


@campaigns_pages.get("/campaigns")
def campaigns_page(
    request: Request,
    user: Editor,
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    context = {
        "campaigns": service.campaigns(session),
        "form": {},
        "errors": {},
        "segment_names": _segment_names(),
        "today": today(),
    }
    return render(request, "campaigns.html", context)


@campaigns_pages.post("/campaigns")
def create_campaign(
    request: Request,
    user: Editor,
    session: Annotated[Session, Depends(db_session, scope="function")],
    name: Annotated[str, Form(max_length=200)],
    segment: Annotated[str, Form(max_length=100)],
    subject_en: Annotated[str, Form(max_length=300)],
    body_en: Annotated[str, Form(max_length=20_000)],
    subject_ja: Annotated[str, Form(max_length=300)],
    body_ja: Annotated[str, Form(max_length=20_000)],
    schedule: Annotated[str, Form(max_length=16)] = "once",
    first_send_on: Annotated[date | None, Form()] = None,
    language: Annotated[str, Form(max_length=8)] = "",
    tracking: Annotated[bool, Form()] = False,
) -> Response:
    spec = service.CampaignInput(
        name=name,
        segment=segment,
        subject_en=subject_en,
        body_en=body_en,
        subject_ja=subject_ja,
        body_ja=body_ja,
        schedule=schedule,
        first_send_on=first_send_on,
        language=language or None,
        tracking=tracking,
    )
    try:
        campaign = service.create(session, spec, today(), user.email)
    except service.CampaignRejected as problem:
        session.rollback()
        context = {
            "campaigns": service.campaigns(session),
            "form": spec.__dict__,
            "errors": {problem.field: problem.reason},
            "segment_names": _segment_names(),
            "today": today(),
        }
        return render(request, "campaigns.html", context, status_code=422)
    return RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)


@campaigns_pages.get("/campaigns/usage-report")
def usage_report_page(
    request: Request,
    user: Editor,
    session: Annotated[Session, Depends(db_session, scope="function")],
    account: Annotated[int, Query(ge=1, le=2**31 - 1)],
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = "",
) -> Response:
    """The usage report an account's contacts get for ``month`` (default: the last month
    over), in both languages, and who gets it."""
    first = date.fromisoformat(f"{month}-01") if month else last_complete_month()
    found = usage_report.reports(session, first, account)
    emails = {}
    if found:
        for lang in ("ja", "en"):
            emails[lang] = usage_report.render(found[0], lang, None, "https://…/unsubscribe/…")
    people = usage_report.recipients(session, account, today())
    context = {
        "account_id": account,
        "month": first,
        "report": found[0] if found else None,
        "emails": emails,
        "recipients": people,
    }
    return render(request, "usage_report.html", context)


@campaigns_pages.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: CampaignId,
    user: Editor,
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """One campaign: its audience if it ran today, an email as each language reads it, and
    the figures of each run."""
    campaign = service.get(session, campaign_id)
    day = today()
    people = service.audience(session, campaign, day)
    samples = {
        lang: service.preview_email(
            campaign, lang, next((r for r in people.recipients if r.language == lang), None)
        )
        for lang in ("ja", "en")
    }
    context = {
        "campaign": campaign,
        "audience": people,
        "samples": samples,
        "runs": service.stats(session, campaign_id),
        "title": _("Campaign"),
    }
    return render(request, "campaign.html", context)


def _segment_names() -> list[str]:
    return sorted(segments.rule_set().segments)
