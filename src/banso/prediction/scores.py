"""Stored churn scores: written by the daily run, read by the account 360 (light: no
scikit-learn import, so pages do not load the model code)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from banso.prediction.models import ChurnScore
from banso.prediction.reasons import Reason


class AccountScore(Protocol):
    account_id: int
    day: date
    probability: float
    reasons: list[Reason]


def store_scores(
    session: Session, scores: list[AccountScore], horizon: int, model_version: int
) -> int:
    """Replace the stored scores of the scores' day and the model's horizon (the daily run may
    run a day again); in the caller's transaction. Returns the rows written."""
    for day in {s.day for s in scores}:
        session.execute(
            delete(ChurnScore).where(ChurnScore.day == day, ChurnScore.horizon_days == horizon)
        )
    session.add_all(
        ChurnScore(
            account_id=s.account_id,
            day=s.day,
            horizon_days=horizon,
            probability=s.probability,
            model_version=model_version,
            reasons=json.dumps(
                [
                    {
                        "feature": r.feature,
                        "value": r.value,
                        "typical": r.typical,
                        "contribution": r.contribution,
                    }
                    for r in s.reasons
                ]
            ),
        )
        for s in scores
    )
    return len(scores)


@dataclass(frozen=True)
class StoredScore:
    day: date
    probability: float
    horizon_days: int
    model_version: int
    reasons: list[str]
    """Sentences in the current language."""


def latest_score(session: Session, account_id: int) -> StoredScore | None:
    """The account's newest stored churn score, its reasons worded for the reader."""
    row = session.scalars(
        select(ChurnScore)
        .where(ChurnScore.account_id == account_id)
        .order_by(ChurnScore.day.desc(), ChurnScore.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    reasons = [
        Reason(r["feature"], r["value"], r["typical"], r["contribution"]).sentence()
        for r in json.loads(row.reasons)
    ]
    return StoredScore(row.day, row.probability, row.horizon_days, row.model_version, reasons)
