"""Limits on what one request may cost the server: body size and event-posting rate.

Bodies are bounded before they are read: a ``Content-Length`` over the limit is answered 413
at once, and a body sent without one (chunked) is counted as it streams and cut off at the
limit. Uploads to the Data page may be larger (``BANSO_MAX_UPLOAD_BYTES``) than any other body
(``BANSO_MAX_BODY_BYTES``). ``POST /api/events`` is limited per API token (else per session or
client address) to ``BANSO_EVENTS_RATE_PER_MINUTE`` requests a minute, within each server
process.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from html import escape
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banso.config import get_settings
from banso.i18n import _

UPLOAD_PATHS = frozenset({"/data"})
"""Paths that take file uploads, bounded by ``max_upload_bytes`` rather than ``max_body_bytes``."""
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


class RequestSizeLimit:
    """ASGI middleware answering 413 to a body over the limit, before or while it is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS:
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, send, limit)
            return
        received = 0
        exceeded = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded and not response_started:
                return  # the app's answer to the cut-off body (often 400) is replaced by 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
            # the cut-off body surfaced as the app's own error (a form or JSON parse failure)
        if exceeded and not response_started:
            await _too_large(scope, send, limit)


class BodyTooLarge(Exception):
    """The streamed body went past the limit; raised into the app reading it."""


def body_limit(path: str) -> int:
    """Largest body accepted on ``path``, in bytes."""
    settings = get_settings()
    return settings.max_upload_bytes if path in UPLOAD_PATHS else settings.max_body_bytes


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    megabytes = format(limit / (1024 * 1024), ".3g")
    if scope["path"] in UPLOAD_PATHS:
        message = _(
            "The file is over the {mb} MB upload limit; split it, or use `banso import` instead.",
            mb=megabytes,
        )
    else:
        message = _("The request is larger than the limit of {mb} MB.", mb=megabytes)
    if scope["path"].startswith("/api/"):
        from banso.web.problems import PROBLEM_MEDIA_TYPE, Problem, status_title

        body = Problem(title=status_title(413), status=413, detail=message).model_dump_json()
        content_type = PROBLEM_MEDIA_TYPE
    else:
        body = (
            f'<!doctype html><meta charset="utf-8"><title>{escape(_("Too large"))}</title>'
            f'<link rel="stylesheet" href="/static/banso.css"><main><section class="card narrow">'
            f'<h1>{escape(_("Too large"))}</h1><p class="error" role="alert">{escape(message)}'
            f'</p><p><a href="/data">{escape(_("Back to the start page"))}</a></p></section></main>'
        )
        content_type = "text/html; charset=utf-8"
    payload = body.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RateLimit:
    """At most ``per_minute`` requests in any 60 seconds per caller (a sliding window)."""

    WINDOW = 60.0

    def __init__(self) -> None:
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str, per_minute: int, now: float | None = None) -> int:
        """Seconds to wait before the caller ``key`` may call again; 0 lets this call through
        (and counts it)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.WINDOW:
                calls.popleft()
            if len(calls) >= per_minute:
                return max(1, math.ceil(calls[0] + self.WINDOW - now))
            calls.append(now)
            if len(self._calls) > 10_000:  # forget idle callers so the table stays small
                for stale in [k for k, v in self._calls.items() if not v or v[-1] <= now - 60]:
                    del self._calls[stale]
            return 0


event_posts = RateLimit()


def limit_event_posts(request: Request) -> None:
    """The ``POST /api/events`` rate limit: 429 with ``Retry-After`` past it."""
    per_minute = get_settings().events_rate_per_minute
    if per_minute <= 0:
        return
    wait = event_posts.retry_after(caller_key(request), per_minute)
    if wait:
        raise HTTPException(
            status_code=429,
            detail=_(
                "At most {n} event batches a minute; send again in {s} seconds.",
                n=per_minute,
                s=wait,
            ),
            headers={"Retry-After": str(wait)},
        )


def caller_key(request: Request) -> str:
    """Who is calling: a digest of the API token, else the session's user, else the address."""
    header = request.headers.get("authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()
    session: dict[str, Any] = request.scope.get("session") or {}
    if "uid" in session:
        return f"user:{session['uid']}"
    return f"addr:{request.client.host if request.client else '-'}"
