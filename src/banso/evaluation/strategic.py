"""The strategic KPIs an evaluation may choose, each from the domain that owns the fact:
``health`` (the book's mean health score on the last scored day of the period, from the health
snapshots), ``nps`` (100 × (promoters − detractors) / answers of the book's NPS answers in the
period), ``renewal_forecast_accuracy`` (of the book's renewals dated in the period that had a
forecast set before their date, the share forecast right, spec §5 outcomes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
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


def strategic_values(
    session: Session, kpi: str, books: Mapping[int, Collection[int]], first: date, last: date
) -> dict[int, Fraction | None]:
    """The value of ``kpi`` for each book (key → its account ids) over the days
    ``first..last``; None for a book with no figure (no scored day, no answer, no forecast
    renewal)."""
    if kpi == "health":
        return book_health(books, first, last)
    if kpi == "nps":
        return book_nps(session, books, first, last)
    if kpi == "renewal_forecast_accuracy":
        return forecast_accuracy(session, books, first, last)
    raise ValueError(f"unknown strategic KPI {kpi}")


def book_health(
    books: Mapping[int, Collection[int]], first: date, last: date
) -> dict[int, Fraction | None]:
    """Mean health score (0-100) of each book's scored accounts on the last scored day of
    ``first..last`` (one read of that day's snapshot)."""
    days = [d for d in snapshots.scored_days() if first <= d <= last]
    scores: dict[int, Fraction] = {}
    if days:
        table = snapshots.read(
            columns="account_id, score", only_days=[days[-1]], common_columns=True
        )
        scores = {
            row["account_id"]: Fraction(str(row["score"]))
            for row in table.to_pylist()
            if row["score"] is not None
        }
    out: dict[int, Fraction | None] = {}
    for key, accounts in books.items():
        found = [scores[a] for a in accounts if a in scores]
        out[key] = sum(found, Fraction(0)) / len(found) if found else None
    return out


def book_nps(
    session: Session, books: Mapping[int, Collection[int]], first: date, last: date
) -> dict[int, Fraction | None]:
    """NPS (-100..100) of each book's NPS answers given in ``first..last`` (company days)."""
    tz = get_settings().tz
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    answers: dict[int, list[int]] = defaultdict(list)
    rows = session.execute(
        select(SurveyResponse.account_id, SurveyResponse.score).where(
            SurveyResponse.survey_type == "nps",
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < end,
        )
    )
    for account_id, score in rows:
        answers[account_id].append(score)
    out: dict[int, Fraction | None] = {}
    for key, accounts in books.items():
        scores = [s for a in accounts for s in answers.get(a, [])]
        promoters = sum(1 for s in scores if s >= 9)
        detractors = sum(1 for s in scores if s <= 6)
        out[key] = Fraction(100 * (promoters - detractors), len(scores)) if scores else None
    return out


def forecast_accuracy(
    session: Session, books: Mapping[int, Collection[int]], first: date, last: date
) -> dict[int, Fraction | None]:
    """Of each book's renewals dated in ``first..last`` (spec §5, per account and month) whose
    account had a forecast for that date set before the date, the share forecast right:
    ``commit``/``likely`` and nothing lost, or ``at_risk``/``lost`` and MRR lost."""
    done = outcomes(session, first, last)
    tz = get_settings().tz
    before: dict[tuple[int, date], str | None] = {}
    if done:
        rows = session.scalars(
            select(RenewalForecast)
            .where(
                RenewalForecast.renewal_date >= first,
                RenewalForecast.renewal_date <= last,
            )
            .order_by(RenewalForecast.id)
        )
        for row in rows:
            set_at = row.set_at if row.set_at.tzinfo else row.set_at.replace(tzinfo=UTC)
            if set_at.astimezone(tz).date() < row.renewal_date:
                before[(row.account_id, row.renewal_date)] = row.status  # the newest wins
    judged: dict[int, list[bool]] = defaultdict(list)
    for o in done:
        status = before.get((o.account_id, o.first_date))
        if status is not None:
            judged[o.account_id].append((status in RENEWED_FORECASTS) == (o.lost == 0))
    out: dict[int, Fraction | None] = {}
    for key, accounts in books.items():
        marks = [m for a in accounts for m in judged.get(a, [])]
        out[key] = Fraction(sum(marks), len(marks)) if marks else None
    return out
