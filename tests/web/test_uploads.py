"""Uploads: refused before they are stored when the caller may not upload, cut off at the size
limit, and stored under a safe name."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncGenerator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers
from tests.servers import app_in_thread

from banso import config
from banso.errors import InvalidValue
from banso.server.app import create_app
from banso.web.auth import CsrfRejected
from banso.web.uploads import _CsrfFirstParser, safe_upload_name
from web.test_data_page import GOOD
from web.world import World

BOUNDARY = "banso-test-boundary"
MB = 1024 * 1024


@pytest.fixture
def live(world: World) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port (a real HTTP server)."""
    with app_in_thread(create_app()) as port:
        yield f"127.0.0.1:{port}"


def _multipart_head(csrf: str = "") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nsubscriptions\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()


def _post_head_only(address: str, length: int, cookie: str = "") -> tuple[bytes, int]:
    """Send a POST /data announcing ``length`` bytes but only its first 64 KB; the server's
    answer and how many body bytes it had been sent when it answered."""
    host, port = address.split(":")
    head = (
        f"POST /data HTTP/1.1\r\nHost: {address}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n{cookie}\r\n"
    ).encode()
    first = _multipart_head() + b"x" * (64 * 1024)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head + first)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer, len(first)


def test_an_anonymous_200_mb_upload_is_refused_before_the_body_is_read(
    live: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    answer, sent = _post_head_only(live, 200 * MB)
    # answered after 64 KB of 200 MB: the server did not wait for (or store) the rest
    assert answer.startswith(b"HTTP/1.1 303"), answer[:200]
    assert b"location: /sign-in?next=%2fdata" in answer.lower()
    assert sent < 200 * MB
    assert list(spool.iterdir()) == []


def test_a_body_over_the_upload_limit_is_413_at_once(live: str) -> None:
    answer, _sent = _post_head_only(live, 200 * MB + 1)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()


def test_an_upload_streamed_past_the_limit_is_cut_off(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSO_MAX_UPLOAD_BYTES", str(MB))
    config.get_settings.cache_clear()
    token = sign_in("ops")

    def body() -> Iterator[bytes]:
        yield _multipart_head(token)
        for _ in range(64):  # 4 MB in 64 KB chunks, without a Content-Length
            yield b"y" * (64 * 1024)

    response = client.post(
        "/data",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 413
    assert "The file is over the 1 MB upload limit" in response.text


def test_the_csrf_token_is_checked_before_the_first_file_byte_is_written() -> None:
    pulled: list[bytes] = []
    file_chunks = [b"z" * 65536 for _ in range(100)]

    async def stream() -> AsyncGenerator[bytes, None]:
        for chunk in [_multipart_head("forged"), *file_chunks]:
            pulled.append(chunk)
            yield chunk

    checked: list[dict[str, str]] = []

    def check(fields: dict[str, str]) -> None:
        checked.append(fields)
        if fields.get("csrf_token") != "right":
            raise CsrfRejected

    headers = Headers({"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    parser = _CsrfFirstParser(headers, stream(), before_file=check)
    with pytest.raises(CsrfRejected), ThreadPoolExecutor(1) as thread:
        # a thread of its own: Playwright's tests may leave an event loop running in this one
        thread.submit(asyncio.run, parser.parse()).result()
    assert checked == [{"csrf_token": "forged", "kind": "subscriptions"}]
    assert len(pulled) == 1  # only the form's head was read; no byte of the file


def test_a_forged_form_is_refused_and_a_good_one_imports(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("ops")
    files = {"file": ("subs.csv", GOOD, "text/csv")}
    forged = client.post("/data", data={"kind": "subscriptions", "csrf_token": "x"}, files=files)
    assert forged.status_code == 403
    no_token = client.post("/data", data={"kind": "subscriptions"}, files=files)
    assert no_token.status_code == 403
    ok = client.post("/data", data={"kind": "subscriptions", "csrf_token": token}, files=files)
    assert ok.status_code == 200 and "subs.csv (Subscriptions): 2 rows" in ok.text


@pytest.mark.parametrize("name", [".", "..", "/", "", "a/..", "\\..\\"])
def test_unusable_upload_names_are_422_not_500(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    name: str,
) -> None:
    token = sign_in("ops")
    response = client.post(
        "/data",
        data={"kind": "subscriptions", "csrf_token": token},
        files={"file": (name, GOOD, "text/csv")},
    )
    # an empty name is sent as no file at all by the browser and by httpx alike
    assert response.status_code == 422, response.text
    assert "<code>file</code>" in response.text


def test_upload_names_are_the_base_name_normalised_and_capped(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    assert safe_upload_name("../../etc/passwd") == "passwd"
    assert safe_upload_name("C:\\Users\\sato\\契約.csv") == "契約.csv"
    assert safe_upload_name("ｶﾞ.csv") == "ｶﾞ.csv"  # NFC keeps half-width kana as typed
    assert safe_upload_name("カ\u3099.csv") == "ガ.csv"  # a combining mark is composed
    assert safe_upload_name("a\x00b\n.csv") == "ab.csv"
    long = "契" * 300 + ".csv"
    assert safe_upload_name(long) == "契" * 196 + ".csv"
    with pytest.raises(InvalidValue):
        safe_upload_name("..")
    token = sign_in("ops")
    response = client.post(
        "/data",
        data={"kind": "subscriptions", "csrf_token": token},
        files={"file": ("x" * 300 + ".csv", GOOD, "text/csv")},
    )
    assert response.status_code == 200
    assert f"{'x' * 196}.csv (Subscriptions): 2 rows" in response.text
