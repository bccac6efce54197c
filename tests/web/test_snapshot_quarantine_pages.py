"""An unreadable health snapshot is skipped by the pages (quarantined), never a 500."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from banso.dates import today as company_today
from banso.db import session_scope
from banso.health import service as health_service
from banso.health import snapshots
from web.world import World


def test_a_corrupt_day_leaves_the_360_health_and_dashboard_working(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    yesterday = company_today() - timedelta(days=1)
    week_ago = yesterday - timedelta(days=7)
    with session_scope() as s:
        assert health_service.score_days(s, [week_ago, yesterday]) == 4
    bad = snapshots.snapshot_dir() / f"date={yesterday.isoformat()}" / "scores.parquet"
    bad.write_bytes(b"PAR1 torn write")
    sign_in("viewer")
    for url in (
        f"/accounts/{world.yamada}",
        "/health",
        "/",
        f"/api/accounts/{world.midori}/health",
    ):
        assert client.get(url).status_code == 200, url
    assert not bad.exists()
    assert [q.day for q in snapshots.take_quarantined()] == [yesterday]
    for page in ("/health", f"/accounts/{world.yamada}"):
        notice = client.get(page).text.split('data-testid="incomplete-days">', 1)[1]
        assert notice.startswith(f"The scores of {yesterday} are incomplete: their snapshot files")
    # the week-old day is now the newest readable one
    api = client.get(f"/api/accounts/{world.midori}/health").json()
    assert api["day"] == str(week_ago)
