"""The 360's health section reads right: measure values with their units, a sparkline of the
score, "why it changed" without +0.0-point items, and the CSM pulse just saved shown back."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from banso.account_views.account360 import Sparkline, account_health_view
from banso.dates import today as company_today
from banso.db import session_scope
from banso.health import service as health_service
from banso.health.measures import MEASURES, UNITS, format_measure
from banso.i18n import using_language
from web.world import World


def _score(*days_back: int) -> None:
    today = company_today()
    with session_scope() as s:
        health_service.score_days(s, [today - timedelta(days=d) for d in sorted(days_back)])


def test_measure_values_read_with_their_units_in_both_languages() -> None:
    values = [
        ("days_to_renewal", 365.0),
        ("days_since_last_activity", 1.0),
        ("tickets_30d", 3.0),
        ("wau_mau", 0.4567),
        ("champion_present", 1.0),
        ("recent_downgrade", 0.0),
        ("active_users_28d_trend", 0.125),
        ("ticket_csat_90d", 4.26),
        ("csm_pulse", 4.0),
        ("latest_nps", None),
    ]
    with using_language("en"):
        assert [format_measure(n, v) for n, v in values] == [
            "365 days", "1 day", "3", "45.7%", "Yes", "No", "+12.5%", "4.3", "4", "—",
        ]  # fmt: skip
    with using_language("ja"):
        assert [format_measure(n, v) for n, v in values] == [
            "365日", "1日", "3", "45.7%", "はい", "いいえ", "+12.5%", "4.3", "4", "—",
        ]  # fmt: skip
    assert {m.unit for m in MEASURES.values()} <= set(UNITS)
    assert format_measure("events_28d", 12345.0) == "12,345"


def test_the_360_shows_units_a_sparkline_and_no_zero_changes(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    _score(1, 4, 7, 10, 13)
    view = account_health_view(world.yamada)
    assert view is not None and view.why is not None
    # the explanation has measures that did not move (the contract, the champion); the 360
    # lists only those that moved the score
    everything = health_service.explain(world.yamada, start=view.why.day_from, end=view.why.day_to)
    still = {c.measure for c in everything.changes if abs(c.points) < 0.05}
    assert still and len(everything.changes) > len(view.why.changes) > 0
    assert {c.measure for c in view.why.changes}.isdisjoint(still)
    assert view.trend is not None and len(view.trend.segments) == 1
    assert len(view.trend.segments[0].split()) == 5  # the scored days, every third day
    sign_in("viewer")
    page = client.get(f"/accounts/{world.yamada}").text
    assert 'data-testid="health-sparkline"' in page
    low, high = round(view.trend.low), round(view.trend.high)
    assert f"Health score, last 90 days: {low} to {high}" in page
    assert re.search(r"<polyline points=\"[0-9., ]+\"/>", page)
    why = page[
        page.index('data-testid="health-why"') : page.index("</ul>", page.index("health-why"))
    ]
    assert why.count("<li>") == min(3, len(view.why.changes))
    assert "+0.0" not in why and "-0.0" not in why
    measures = page[page.index("<h3>Measures</h3>") : page.index("<h3>Why it changed</h3>")]
    assert "%.2f" not in measures and ".00<" not in measures  # no 1.00, 365.00 any more
    assert re.search(r">(Yes|No)<", measures)
    ja = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "ja"}).text
    assert f"直近 90 日のヘルススコア: {low}〜{high}" in ja
    assert re.search(r">(はい|いいえ)<", ja)


def test_a_saved_pulse_shows_in_the_form_and_the_measures(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    _score(1)
    token = sign_in("csm")
    saved = client.post(
        f"/accounts/{world.yamada}/pulse",
        data={"rating": "2", "comment": "決裁者が交代", "csrf_token": token},
    )
    assert saved.status_code == 200 and "Pulse saved." in saved.text
    page = saved.text
    assert '<option value="2" selected>2</option>' in page
    assert '<option value="5">5</option>' in page  # no longer the default choice
    assert 'name="comment" value="決裁者が交代"' in page
    row = page[page.index('data-testid="pulse-row"') :]
    row = row[: row.index("</tr>")]
    today = company_today()
    assert f'>2 <small class="muted">(saved {today}; counts from the next scoring)</small>' in row
    # once the day with the pulse is scored, the row shows the snapshot's own value, no note
    _score(0)
    page = client.get(f"/accounts/{world.yamada}").text
    row = page[page.index('data-testid="pulse-row"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="num">2</td>' in row and "saved" not in row


def test_a_sparkline_breaks_where_days_were_not_scored() -> None:
    from datetime import date

    end = date(2026, 11, 30)
    points = [
        (end - timedelta(days=12), 40.0),
        (end - timedelta(days=9), 50.0),
        (end - timedelta(days=3), 60.0),
        (end, 80.0),
    ]
    line = Sparkline.of(points, end, 90)
    assert line is not None
    assert [len(s.split()) for s in line.segments] == [2, 2]  # day -6 was not scored
    assert (line.low, line.high, line.first, line.last) == (40.0, 80.0, points[0], points[-1])
    # the highest score at the top (y 0 after 5 points of padding: 5/50), the lowest at the bottom
    assert line.segments[1].split()[-1] == "300.0,10.0"
    assert line.segments[0].split()[0].endswith(",90.0")
    assert Sparkline.of(points[:1], end, 90) is None
