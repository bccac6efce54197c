"""Uploads refused whole with a sentence: while another import runs, or in another encoding."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.ingest.test_import_lock import start_holder

HEADER = (
    "account_id,subscription_id,plan,start_date,end_date,amount,currency,billing_period_months\n"
)
GOOD = HEADER + "K01,S01,pro,2024-04-01,,10000,JPY,1\nK02,S02,pro,2024-04-01,,20000,JPY,1\n"


def test_an_upload_during_another_import_says_so_and_changes_nothing(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    token = sign_in("ops")
    running = tmp_path / "nightly.csv"
    running.write_text(HEADER + "K09,S09,pro,2024-04-01,,5000,JPY,1\n", encoding="utf-8")
    data = {"kind": "subscriptions", "source": "billing", "csrf_token": token}
    holder = start_holder(running)
    try:
        busy = client.post("/data", data=data, files={"file": ("subs.csv", GOOD, "text/csv")})
    finally:
        holder.communicate("\n", timeout=60)
    assert busy.status_code == 400
    assert "Another import is running (nightly.csv, started " in busy.text
    assert "Traceback" not in busy.text
    done = client.post("/data", data=data, files={"file": ("subs.csv", GOOD, "text/csv")})
    assert done.status_code == 200
    assert "subs.csv (Subscriptions): 2 rows: 2 new, 0 updated, 0 unchanged." in done.text


def test_a_latin1_upload_is_refused_naming_the_byte_not_a_server_error(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("ops")
    body = (HEADER + "K01,S01,caf\xe9,2024-04-01,,10000,JPY,1\n").encode("latin-1")
    data = {"kind": "subscriptions", "source": "billing", "csrf_token": token}
    response = client.post("/data", data=data, files={"file": ("export.csv", body, "text/csv")})
    assert response.status_code == 400
    assert "export.csv: not UTF-8 or CP932 (byte 0xE9 at row 2)" in response.text


def test_an_unknown_kind_or_an_overlong_source_is_a_4xx_not_a_server_error(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("ops")
    files = {"file": ("subs.csv", GOOD, "text/csv")}
    odd_kind = client.post("/data", data={"kind": "refunds", "csrf_token": token}, files=files)
    assert odd_kind.status_code == 422  # the form's field is checked before any byte is stored
    assert "Choose one of: accounts, contacts," in odd_kind.text
    long_source = client.post(
        "/data", data={"kind": "subscriptions", "source": "x" * 101, "csrf_token": token},
        files=files,
    )  # fmt: skip
    assert long_source.status_code == 422
    assert "The source system&#39;s name must be 1-100 characters." in long_source.text
