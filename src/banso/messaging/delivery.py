"""How messages leave Banso: SMTP email, Slack incoming webhooks and signed generic webhooks.

Every message carries an identifier derived from its outbox idempotency key — the email's
``Message-ID`` and the ``Idempotency-Key`` header of HTTP calls — so a receiver can recognise a
resend after a crash between sending and recording it. Generic webhooks are signed with
HMAC-SHA256 over ``"<timestamp>.<body>"`` (``X-Banso-Signature: sha256=<hex>``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic_settings import BaseSettings, SettingsConfigDict

from banso.config import get_settings


class DeliverySettings(BaseSettings):
    """``BANSO_*`` settings of outgoing messages."""

    model_config = SettingsConfigDict(env_prefix="BANSO_", env_file=".env", extra="ignore")

    smtp_host: str | None = None
    """SMTP server; without it emails wait in the outbox."""
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "banso@localhost"
    public_url: str = "http://localhost:8000"
    """Base URL of the web app, for unsubscribe links."""
    mail_domain_limit: int = 100
    """Emails per recipient domain per ``mail_domain_window_seconds``."""
    mail_domain_window_seconds: int = 60
    outbox_max_attempts: int = 5
    outbox_backoff_seconds: float = 60.0
    """Wait before the 2nd attempt; doubled for each further one."""
    outbox_lease_seconds: int = 300
    """How long a claim holds a message; a worker that died frees it when the lease expires."""
    http_timeout_seconds: float = 10.0


def delivery_settings() -> DeliverySettings:
    return DeliverySettings()


class PermanentFailure(Exception):
    """The receiver refused the message for good (SMTP 5xx, HTTP 4xx): do not retry."""


class TemporaryFailure(Exception):
    """The receiver could not take the message now (connection error, SMTP 4xx, HTTP 5xx)."""


@dataclass(frozen=True)
class Sent:
    detail: str
    """The receiver's answer (SMTP reply or HTTP status)."""


def message_id(idempotency_key: str, mail_from: str) -> str:
    """RFC 5322 Message-ID derived from the outbox key: the same for every resend."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = mail_from.rpartition("@")[2] or "banso.invalid"
    return f"<{digest}@{domain}>"


def idempotency_header(idempotency_key: str) -> str:
    """Value of the ``Idempotency-Key`` header: the SHA-256 of the outbox key."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


# ---------------------------------------------------------------- email


def send_email(
    settings: DeliverySettings,
    to: str,
    subject: str,
    body: str,
    idempotency_key: str,
    unsubscribe_url: str | None,
    html: str | None = None,
) -> Sent:
    """Send one email: ``body`` as plain text, with ``html`` as its alternative when given."""
    if not settings.smtp_host:
        raise TemporaryFailure("BANSO_SMTP_HOST is not set")
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(idempotency_key, settings.mail_from)
    if unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.http_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _smtp_failure(code, reply) from exc
    except smtplib.SMTPResponseException as exc:
        raise _smtp_failure(exc.smtp_code, exc.smtp_error) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise TemporaryFailure(f"SMTP: {exc}") from exc
    if refused:
        code, reply = next(iter(refused.values()))
        raise _smtp_failure(code, reply)
    return Sent(f"250 accepted {msg['Message-ID']}")


def _smtp_failure(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 500 <= code < 600:
        return PermanentFailure(f"SMTP {code} {text}")
    return TemporaryFailure(f"SMTP {code} {text}")


# ---------------------------------------------------------------- HTTP


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` HMAC-SHA256 of ``"<timestamp>.<body>"`` with ``secret``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def post_json(
    settings: DeliverySettings,
    url: str,
    payload: object,
    idempotency_key: str,
    secret: str | None = None,
) -> Sent:
    """POST ``payload`` as JSON; 2xx is delivered, 4xx (but 408/429) permanent, else retried."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": idempotency_header(idempotency_key),
        "User-Agent": "banso-playbooks",
    }
    if secret:
        timestamp = str(int(time.time()))
        headers["X-Banso-Timestamp"] = timestamp
        headers["X-Banso-Signature"] = sign(secret, timestamp, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.http_timeout_seconds) as response:
            return Sent(f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        excerpt = exc.read(200).decode(errors="replace")
        text = f"HTTP {exc.code} {excerpt}".strip()
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise PermanentFailure(text) from exc
        raise TemporaryFailure(text) from exc
    except (OSError, ValueError) as exc:
        raise TemporaryFailure(f"HTTP: {exc}") from exc


# ---------------------------------------------------------------- unsubscribe tokens


def signing_key() -> str:
    """The installation's secret: ``BANSO_SECRET_KEY``, else the key file in ``BANSO_HOME``
    (the same one the web app signs sessions with, so its unsubscribe route can verify)."""
    configured = os.environ.get("BANSO_SECRET_KEY")
    if configured:
        return configured
    path = get_settings().home / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(signing_key(), salt="banso-unsubscribe")


def unsubscribe_token(email: str, contact_id: int | None) -> str:
    return _serializer().dumps({"e": email.lower(), "c": contact_id})


def read_unsubscribe_token(token: str) -> tuple[str, int | None] | None:
    """``(email, contact id)`` of a valid token; None when it was not signed by Banso."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), str):
        return None
    contact = data.get("c")
    return data["e"], contact if isinstance(contact, int) else None


def unsubscribe_url(settings: DeliverySettings, email: str, contact_id: int | None) -> str:
    return f"{settings.public_url.rstrip('/')}/unsubscribe/{unsubscribe_token(email, contact_id)}"
