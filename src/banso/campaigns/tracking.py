"""Open and click tracking of campaign emails: signed tokens and the HTML body that carries them.

The open pixel is ``/t/o/<token>.gif`` and a tracked link ``/t/c/<token>``; both tokens are signed
with the installation's key (``messaging.delivery.signing_key``), so a click token names only a
URL that was in the email Banso sent — the redirect cannot be pointed anywhere else. Without
tracking (the campaign's switch or ``BANSO_CAMPAIGN_TRACKING=false``) the HTML has the plain
links and no pixel.
"""

from __future__ import annotations

import html
import re

from itsdangerous import BadSignature, URLSafeSerializer

from banso.messaging.delivery import signing_key

OPEN_PREFIX = "/t/o/"
CLICK_PREFIX = "/t/c/"
URL_PATTERN = re.compile(r"https?://[^\s<>\"')]+")
PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
"""A transparent 1×1 GIF."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(signing_key(), salt="banso-campaign-tracking")


def open_token(message_id: int) -> str:
    return _serializer().dumps({"o": message_id})


def click_token(message_id: int, url: str) -> str:
    return _serializer().dumps({"c": message_id, "u": url})


def read_open_token(token: str) -> int | None:
    data = _loads(token)
    value = data.get("o") if data else None
    return value if isinstance(value, int) else None


def read_click_token(token: str) -> tuple[int, str] | None:
    data = _loads(token)
    if not data or not isinstance(data.get("c"), int) or not isinstance(data.get("u"), str):
        return None
    url = data["u"]
    if not URL_PATTERN.fullmatch(url):
        return None
    return data["c"], url


def _loads(token: str) -> dict | None:  # type: ignore[type-arg]
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def html_body(text: str, public_url: str, message_id: int | None, unsubscribe_url: str) -> str:
    """The plain-text body as HTML: paragraphs, links clickable (through ``/t/c/`` when
    ``message_id`` is given, except the unsubscribe link) and the open pixel at the end."""
    base = public_url.rstrip("/")

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        href = url
        if message_id is not None and url != unsubscribe_url:
            href = f"{base}{CLICK_PREFIX}{click_token(message_id, url)}"
        return f'<a href="{html.escape(href)}">{html.escape(url)}</a>'

    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for match in URL_PATTERN.finditer(block):
            pieces.append(html.escape(block[last : match.start()]))
            pieces.append(link(match))
            last = match.end()
        pieces.append(html.escape(block[last:]))
        paragraphs.append("<p>" + "".join(pieces).replace("\n", "<br>\n") + "</p>")
    pixel = ""
    if message_id is not None:
        src = html.escape(f"{base}{OPEN_PREFIX}{open_token(message_id)}.gif")
        pixel = f'\n<img src="{src}" width="1" height="1" alt="">'
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(paragraphs)
        + pixel
        + "\n</body></html>\n"
    )
