"""An upload while another import runs is refused with a sentence, and then goes through."""

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
    assert "subs.csv: 2 rows of subscriptions: 2 new, 0 updated, 0 unchanged." in done.text
