"""The strategic KPIs an evaluation may choose, each from the domain that owns the fact:
``health`` (the book's mean health score on the last scored day of the period, from the health
snapshots), ``nps`` (100 × (promoters − detractors) / answers of the book's NPS answers in the
period), ``renewal_forecast_accuracy`` (of the book's renewals dated in the period that had a
forecast set before their date, the share forecast right, spec §5 outcomes)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.health import snapshots
from banso.renewals.models import RenewalForecast
from banso.renewals.pipeline import outcomes
from banso.surveys.models import SurveyResponse

RENEWED_FORECASTS = ("commit", "likely")
"""Forecast statuses that say the renewal will happen; ``at_risk`` and ``lost`` say it will not."""


def strategic_value(
    session: Session, kpi: str, accounts: Collection[int], first: date, last: date
) -> Fraction | None:
    """The value of ``kpi`` for the book ``accounts`` over the days ``first..last``; None when
    the book has no figure (no scored day, no answer, no forecast renewal)."""
    if kpi == "health":
        return book_health(accounts, first, last)
    if kpi == "nps":
        return book_nps(session, accounts, first, last)
    if kpi == "renewal_forecast_accuracy":
        return forecast_accuracy(session, accounts, first, last)
    raise ValueError(f"unknown strategic KPI {kpi}")


def book_health(accounts: Collection[int], first: date, last: date) -> Fraction | None:
    """Mean health score (0-100) of the book's scored accounts on the last scored day of
    ``first..last``."""
    days = [d for d in snapshots.scored_days() if first <= d <= last]
    if not days or not accounts:
        return None
    table = snapshots.read(columns="account_id, score", only_days=[days[-1]], common_columns=True)
    wanted = set(accounts)
    scores = [
        Fraction(str(row["score"]))
        for row in table.to_pylist()
        if row["account_id"] in wanted and row["score"] is not None
    ]
    return sum(scores, Fraction(0)) / len(scores) if scores else None


def book_nps(
    session: Session, accounts: Collection[int], first: date, last: date
) -> Fraction | None:
    """NPS (-100..100) of the book's NPS answers given in ``first..last`` (company days)."""
    if not accounts:
        return None
    tz = get_settings().tz
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    scores = session.scalars(
        select(SurveyResponse.score).where(
            SurveyResponse.survey_type == "nps",
            SurveyResponse.account_id.in_(list(accounts)),
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < end,
        )
    ).all()
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return Fraction(100 * (promoters - detractors), len(scores))


def forecast_accuracy(
    session: Session, accounts: Collection[int], first: date, last: date
) -> Fraction | None:
    """Of the book's renewals dated in ``first..last`` (spec §5, per account and month) whose
    account had a forecast for that date set before the date, the share forecast right:
    ``commit``/``likely`` and nothing lost, or ``at_risk``/``lost`` and MRR lost."""
    wanted = set(accounts)
    done = [o for o in outcomes(session, first, last) if o.account_id in wanted]
    if not done:
        return None
    tz = get_settings().tz
    rows = session.scalars(
        select(RenewalForecast)
        .where(
            RenewalForecast.account_id.in_(sorted({o.account_id for o in done})),
            RenewalForecast.renewal_date.in_(sorted({o.first_date for o in done})),
        )
        .order_by(RenewalForecast.id)
    )
    before: dict[tuple[int, date], str | None] = {}
    for row in rows:
        set_at = row.set_at if row.set_at.tzinfo else row.set_at.replace(tzinfo=UTC)
        if set_at.astimezone(tz).date() < row.renewal_date:
            before[(row.account_id, row.renewal_date)] = row.status  # the newest wins
    right = judged = 0
    for o in done:
        status = before.get((o.account_id, o.first_date))
        if status is None:
            continue
        judged += 1
        right += (status in RENEWED_FORECASTS) == (o.lost == 0)
    return Fraction(right, judged) if judged else None
