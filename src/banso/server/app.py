"""The web app: FastAPI with server-rendered pages, the JSON API under /api, static assets."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from banso.i18n import _, accept_language_match, using_language
from banso.web.auth import AuditActor, secret_key, verify_csrf
from banso.web.headers import SecurityHeaders
from banso.web.limits import RequestSizeLimit
from banso.web.openapi import install_openapi
from banso.web.problems import install_error_handlers

SESSION_COOKIE = "banso_session"
SESSION_MAX_AGE = 12 * 60 * 60
"""A browser session lasts a working day (seconds)."""
_STATIC = Path(__file__).parents[1] / "web" / "static"
VENDOR_FILES = {
    "echarts.min.js": ("echarts", "dist", "echarts.min.js"),
    "htmx.min.js": ("htmx.org", "dist", "htmx.min.js"),
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
}
"""Browser libraries served from the npm-installed node_modules (pinned in package-lock.json)."""


def app_from_environment() -> FastAPI:
    """The app of a ``banso serve --workers N`` worker process (settings from BANSO_*)."""
    return create_app(https_only=os.environ.get("BANSO_WEB_HTTPS_ONLY") == "1")


def create_app(*, https_only: bool = False) -> FastAPI:
    """The Banso web app; ``https_only`` marks the session cookie Secure (behind TLS)."""
    from banso.account_views.routes import accounts_api, accounts_pages
    from banso.admin.routes import audit_pages, users_pages
    from banso.books.api import team_api
    from banso.books.routes import team_pages
    from banso.campaigns.api import campaigns_api
    from banso.campaigns.routes import campaigns_pages
    from banso.connectors.routes import connections_pages
    from banso.dashboard.routes import dashboard_pages
    from banso.ebr.routes import ebr_pages
    from banso.evaluation.api import team_api as scorecard_api
    from banso.expansion.api import opportunities_api
    from banso.expansion.routes import expansion_pages
    from banso.feedback.api import feedback_api
    from banso.feedback.routes import feedback_pages
    from banso.health.routes import health_pages
    from banso.inapp.api import inapp_api, snippet_route
    from banso.inapp.routes import inapp_pages
    from banso.ingest.api import events_api
    from banso.ingest.routes import data_pages
    from banso.onboarding.api import onboarding_api
    from banso.onboarding.routes import onboarding_pages
    from banso.playbooks.api import ctas_api
    from banso.playbooks.routes import tasks_pages
    from banso.prediction.routes import churn_pages
    from banso.programs.api import programs_api
    from banso.programs.routes import program_pages
    from banso.renewals.api import renewals_api
    from banso.renewals.routes import renewals_pages
    from banso.retention.api import retention_api
    from banso.retention.routes import retention_pages
    from banso.revenue.api import metrics_api
    from banso.revenue.routes import metrics_pages
    from banso.segments.api import segments_api
    from banso.segments.routes import segments_pages
    from banso.success.api import success_plans_api
    from banso.success.routes import success_pages
    from banso.targets.api import targets_api
    from banso.targets.routes import targets_pages
    from banso.usage.routes import usage_pages
    from banso.voc.api import surveys_api
    from banso.voc.routes import survey_pages
    from banso.web.routes import pages

    app = FastAPI(
        title="Banso API",
        version="1",
        description=_("Customer success platform: accounts, revenue, health, activities."),
        dependencies=[Depends(verify_csrf)],
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.include_router(pages)
    app.include_router(dashboard_pages)
    app.include_router(data_pages)
    app.include_router(health_pages)
    app.include_router(churn_pages)
    app.include_router(tasks_pages)
    app.include_router(renewals_pages)
    app.include_router(expansion_pages)
    app.include_router(feedback_pages)
    app.include_router(metrics_pages)
    app.include_router(targets_pages)
    app.include_router(segments_pages)
    app.include_router(connections_pages)
    app.include_router(campaigns_pages)
    app.include_router(accounts_pages)
    app.include_router(usage_pages)
    app.include_router(users_pages)
    app.include_router(audit_pages)
    app.include_router(retention_pages)
    app.include_router(success_pages)
    app.include_router(onboarding_pages)
    app.include_router(program_pages)
    app.include_router(team_pages)
    app.include_router(survey_pages)
    app.include_router(ebr_pages)
    app.include_router(inapp_pages)
    app.include_router(snippet_route)
    app.include_router(accounts_api)
    app.include_router(events_api)
    app.include_router(metrics_api)
    app.include_router(ctas_api)
    app.include_router(renewals_api)
    app.include_router(retention_api)
    app.include_router(targets_api)
    app.include_router(opportunities_api)
    app.include_router(feedback_api)
    app.include_router(team_api)
    app.include_router(scorecard_api)
    app.include_router(success_plans_api)
    app.include_router(onboarding_api)
    app.include_router(programs_api)
    app.include_router(segments_api)
    app.include_router(campaigns_api)
    app.include_router(surveys_api)
    app.include_router(inapp_api)
    app.add_api_route("/static/vendor/{name}", _vendor_file, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")
    app.add_api_route("/api/docs", _api_docs, include_in_schema=False)
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(RequestSizeLimit)
    app.add_middleware(RequestLanguage)
    app.add_middleware(AuditActor)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=https_only,
    )
    app.add_middleware(SecurityHeaders, https_only=https_only)
    return app


class RequestLanguage:
    """Messages of a request in the session's language (the user's choice), else the browser's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = scope.get("session", {}).get("lang")
        headers = dict(scope.get("headers") or [])
        browser = accept_language_match(headers.get(b"accept-language", b"").decode("latin-1"))
        with using_language(chosen or browser or "en"):
            await self.app(scope, receive, send)


def node_modules() -> Path:
    """Where ``npm ci`` put the browser libraries: BANSO_NODE_MODULES, else the checkout's."""
    configured = os.environ.get("BANSO_NODE_MODULES")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "node_modules"


def _vendor_file(name: str) -> Response:
    parts = VENDOR_FILES.get(name)
    path = node_modules().joinpath(*parts) if parts else None
    if path is None or not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


def _api_docs() -> HTMLResponse:
    """Swagger UI, started by ``static/api_docs.js``: the page has no inline script."""
    return HTMLResponse(
        """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Banso API</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/vendor/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/openapi.json"></div>
<script src="/static/vendor/swagger-ui-bundle.js"></script>
<script src="/static/api_docs.js"></script>
</body>
</html>
"""
    )
