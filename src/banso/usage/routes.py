"""The account 360's usage chart, a fragment the 360 page loads with htmx after it has shown,
so the page itself never waits for the event store. Figures from ``banso.usage.daily``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.accounts.service import merged_account_map
from banso.i18n import _
from banso.usage.daily import AccountUsage, account_daily_usage
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.params import AccountId
from banso.web.templating import render

usage_pages = APIRouter(include_in_schema=False)


@usage_pages.get("/accounts/{account_id}/usage")
def account_usage_fragment(
    request: Request,
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """Active users and events per company day over the last 90 days, as chart and text."""
    if session.get(Account, account_id) is None:
        message = _("There is no account with id {id}.", id=account_id)
        return render(request, "_usage_chart.html", {"missing": message}, status_code=404)
    usage = account_daily_usage(account_id, merges=merged_account_map(session))
    return render(request, "_usage_chart.html", {"usage": usage, "chart": usage_chart(usage)})


def usage_chart(usage: AccountUsage) -> dict[str, Any]:
    """The ECharts data of the fragment, with its words in the request's language."""
    return {
        "title": _("Usage per day, last {n} days", n=len(usage.days)),
        "day": _("Day"),
        "active_users": _("Active users"),
        "events": _("Events"),
        "days": [d.day.isoformat() for d in usage.days],
        "series": {
            "active_users": [d.active_users for d in usage.days],
            "events": [d.events for d in usage.days],
        },
    }
