"""The usage panel with an unreadable event file: 200, the other days' figures, and a warning that
names the file and the day left incomplete."""

from __future__ import annotations

from fastapi.testclient import TestClient

from banso.usage.store import event_files
from web.test_usage_fragment import seed_usage
from web.world import World


def test_an_unreadable_day_file_is_named_and_the_rest_is_shown(
    client: TestClient, world: World, sign_in  # type: ignore[no-untyped-def]
) -> None:
    seed_usage(world)
    *_, newest = event_files()  # today's events (u1, u2 of 山田製作所 and m1 of みどり)
    newest.write_bytes(b"garbage")
    sign_in("viewer")
    response = client.get(f"/accounts/{world.yamada}/usage")
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="usage-incomplete"' in html
    assert f"the event file {newest} could not be read" in html
    # what is left: the merged account's login yesterday (v1)
    assert '<dd data-testid="active-users-28d">1</dd>' in html
