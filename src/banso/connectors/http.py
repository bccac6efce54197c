"""HTTP plumbing every connector shares: a JSON client that waits out 429s (``Retry-After``),
retries 5xx answers and timeouts with exponential back-off, and never logs the secret."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from banso.errors import BansoError
from banso.i18n import _

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 0.5
MAX_WAIT_SECONDS = 60.0


class ConnectorError(BansoError):
    """The service could not be reached or refused the request (after the retries)."""


@dataclass
class ApiClient:
    base_url: str
    headers: dict[str, str]
    timeout: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"), headers=self.headers, timeout=self.timeout
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Any = None) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of ``method path``; 429 waits ``Retry-After``, 5xx and timeouts are
        retried with back-off (0.5 s, 1 s, 2 s, ...), other 4xx fail at once."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.requests += 1
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == MAX_ATTEMPTS:
                    raise ConnectorError(
                        _("{url}: no answer after {n} attempts ({reason})",
                          url=self._where(path), n=attempt, reason=type(exc).__name__)
                    ) from None  # fmt: skip
                self._wait(self._backoff(attempt))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == MAX_ATTEMPTS:
                    raise ConnectorError(
                        _("{url}: HTTP {status} after {n} attempts", url=self._where(path),
                          status=response.status_code, n=attempt)
                    )  # fmt: skip
                wait = self._backoff(attempt)
                if response.status_code == 429:
                    wait = retry_after(response.headers.get("Retry-After"), wait)
                self._wait(wait)
                continue
            if response.status_code >= 400:
                raise ConnectorError(
                    _("{url}: HTTP {status}: {body}", url=self._where(path),
                      status=response.status_code, body=response.text[:300])
                )  # fmt: skip
            try:
                return response.json()
            except ValueError:
                raise ConnectorError(
                    _("{url}: the answer is not JSON", url=self._where(path))
                ) from None
        raise AssertionError("unreachable")

    def _where(self, path: str) -> str:
        return path.split("?", 1)[0]

    def _backoff(self, attempt: int) -> float:
        return min(BACKOFF_SECONDS * 2 ** (attempt - 1), MAX_WAIT_SECONDS)

    def _wait(self, seconds: float) -> None:
        self.retries += 1
        self.waits.append(seconds)
        self.sleep(seconds)


def retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), capped."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_WAIT_SECONDS)
