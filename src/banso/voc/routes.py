"""The public answer page ``/s/{token}`` (no sign-in: the signed, single-use token is the
credential; posts are rate-limited per address) and the Surveys page ``/surveys``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.i18n import _, current_language, translate_to, using_language
from banso.surveys.models import SURVEY_TYPES
from banso.users.models import User
from banso.voc import report, service
from banso.web.auth import current_user, db_session
from banso.web.limits import RateLimit
from banso.web.templating import render

survey_pages = APIRouter(include_in_schema=False)
answer_posts = RateLimit()
ANSWERS_PER_MINUTE = 20
"""Posts to answer pages per address and minute; a guesser gets a few dozen tries an hour."""

_STATUS = {"open": 200, "answered": 200, "thanks": 200, "expired": 410, "invalid": 404, "busy": 429}
_ENDS = {
    "nps": ("Not at all likely", "Extremely likely"),
    "csat": ("Very unsatisfied", "Very satisfied"),
    "ces": ("Very difficult", "Very easy"),
}


@survey_pages.get("/s/{token}")
def answer_page(
    request: Request, token: str, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Response:
    """The survey's question in the contact's language, or why it cannot be answered."""
    opened = service.open_invitation(session, token, fallback_language=current_language())
    return _page(request, token, opened, opened.state)


@survey_pages.post("/s/{token}")
async def answer_post(
    request: Request, token: str, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Response:
    """Save the answer once; a second post finds it answered and saves nothing."""
    address = request.client.host if request.client else "-"
    if answer_posts.retry_after(f"survey:{address}", ANSWERS_PER_MINUTE):
        fallback = service.OpenInvitation("busy", current_language())
        return _page(request, token, fallback, "busy")
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    raw_score = fields.get("score", "").strip()
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses
    score = (
        int(raw_score)
        if raw_score.isascii() and raw_score.isdigit() and len(raw_score) <= 3
        else None
    )
    custom = {k.removeprefix("q_"): v for k, v in fields.items() if k.startswith("q_")}
    lang = service.open_invitation(session, token, fallback_language=current_language()).language
    try:
        with using_language(lang):  # the reasons of a rejected answer in the page's language
            opened = service.answer(
                session, token, score=score, comment=fields.get("comment"), answers=custom
            )
    except service.AnswerRejected as exc:
        opened = service.open_invitation(session, token)
        extra = {"error": _field_error(lang, exc), "score": score,
                 "comment": fields.get("comment")}  # fmt: skip
        return _page(request, token, opened, "open", extra, status=422)
    return _page(request, token, opened, "thanks" if opened.state == "open" else opened.state)


@survey_pages.get("/surveys")
def surveys_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    survey_type: Annotated[str, Query(alias="type", pattern=r"^(nps|csat|ces)$")] = "nps",
    by: Annotated[str, Query(pattern=r"^(segment|touch|owner|plan)$")] = "segment",
) -> Response:
    """NPS, CSAT or CES by month and by one breakdown, with the verbatims."""
    context = {
        "types": list(SURVEY_TYPES), "breakdowns": report.BREAKDOWNS, "survey_type": survey_type,
        "by": by, "monthly": report.survey_report(session, survey_type, "month"),
        "breakdown": report.survey_report(session, survey_type, by),
        "verbatims": report.verbatims(session, survey_type),
        "method": report.method_note(survey_type),
    }  # fmt: skip
    return render(request, "surveys.html", context)


def _page(
    request: Request,
    token: str,
    opened: service.OpenInvitation,
    state: str,
    extra: dict[str, Any] | None = None,
    status: int | None = None,
) -> Response:
    lang = opened.language
    with using_language(lang):
        context: dict[str, Any] = {"state": state, "token": token, "custom": []}
        definition = opened.definition
        if definition is not None:
            values = {"account": opened.account_name, "product": opened.product, "name": ""}
            low, high = definition.scale
            low_label, high_label = _ENDS[definition.type]
            context.update(
                account_name=opened.account_name,
                question=definition.question.text(lang).format(**values),
                low=low, high=high, low_label=translate_to(lang, low_label),
                high_label=translate_to(lang, high_label),
                custom=[
                    {"key": q.key, "kind": q.kind, "required": q.required,
                     "text": q.text.text(lang)}
                    for q in definition.questions
                ],
            )  # fmt: skip
        context.update(extra or {})
        response = render(request, "survey_answer.html", context, status or _STATUS[state])
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _field_error(lang: str, exc: service.AnswerRejected) -> str:
    with using_language(lang):
        if exc.field == "score":
            return exc.reason
        return _("Question {key}: {reason}", key=exc.field, reason=exc.reason)
