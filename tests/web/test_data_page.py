"""The Data page imports through the same importers as the CLI, all-or-nothing, with row/column."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from banso.db import session_scope
from banso.revenue.models import Subscription

HEADER = (
    "account_id,subscription_id,plan,start_date,end_date,amount,currency,billing_period_months\n"
)
GOOD = HEADER + "K01,S01,pro,2024-04-01,,10000,JPY,1\nK02,S02,pro,2024-04-01,,20000,JPY,1\n"
BAD = HEADER + "K01,S01,pro,2024-04-01,,10000,JPY,1\nK02,S02,pro,2024-04-01,,lots,JPY,1\n"


def _subscriptions() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Subscription)) or 0


def _upload(client: TestClient, token: str, body: str, **form: str):  # type: ignore[no-untyped-def]
    data = {"kind": "subscriptions", "source": "billing", "csrf_token": token, **form}
    return client.post("/data", data=data, files={"file": ("subs.csv", body, "text/csv")})


def test_ops_imports_a_good_file_and_it_shows_in_the_history(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    before = _subscriptions()
    token = sign_in("ops")
    checked = _upload(client, token, GOOD, dry_run="true")
    assert "Checked only; nothing was written." in checked.text and _subscriptions() == before
    done = _upload(client, token, GOOD)
    assert done.status_code == 200
    assert "subs.csv (Subscriptions): 2 rows: 2 new, 0 updated, 0 unchanged." in done.text
    assert _subscriptions() == before + 2
    history = client.get("/data").text
    assert history.count("<td>subs.csv</td>") == 1 and "<td>billing</td>" in history


def test_a_bad_row_is_shown_with_its_row_and_column_and_nothing_is_written(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    before = _subscriptions()
    token = sign_in("admin")
    response = _upload(client, token, BAD)
    assert response.status_code == 400
    assert "subs.csv: 1 problem found; nothing was imported." in response.text
    assert (
        '<td class="num">3</td><td>amount</td><td>not an amount of money: lots</td>'
        in response.text
    )
    assert _subscriptions() == before


def test_viewers_and_csms_see_the_history_but_cannot_import(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("csm")
    page = client.get("/data").text
    assert "Import history" in page and 'id="import-form"' not in page
    assert _upload(client, token, GOOD).status_code == 403
    assert _subscriptions() == 4
