"""No fact from after the scoring day reaches a training row.

A demo world is built, then everything after a cutoff ``t`` is rewritten: every customer's
lines end the day after ``t`` (a mass churn no one knew of on ``t``), lines starting after ``t``
vanish, tickets open on ``t`` close much later with a CSAT, surveys and activities after ``t``
are deleted and a flood of product events is appended after ``t``. The rows of every scoring
day up to ``t`` (features) and the training rows of a fold cut at ``t`` (features and labels of
rows whose horizon ended by ``t``) must be byte-identical; and the labels of ``t`` itself must
change, which shows the label window starts after ``t``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import delete, select, update

from banso.activities.models import Activity
from banso.db import get_engine, session_scope
from banso.health.service import scorecards
from banso.prediction.features import build_rows, first_data_day, scoring_days
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.usage.store import EVENT_SCHEMA, append_events

HORIZON = 56
AS_OF = date(2026, 5, 31)


def _rows(days: list[date], known_until: date) -> pa.Table:
    return build_rows(get_engine(), days, HORIZON, known_until, scorecards()).to_arrow()


def _perturb_after(t: date) -> None:
    after = datetime.combine(t + timedelta(days=1), time(0), UTC)
    with session_scope() as session:
        session.execute(delete(Subscription).where(Subscription.start_date > t))
        session.execute(
            update(Subscription)
            .where((Subscription.end_date.is_(None)) | (Subscription.end_date > t))
            .values(end_date=t + timedelta(days=1))
        )
        session.execute(
            update(Ticket)
            .where(Ticket.opened_at < after)
            .where((Ticket.closed_at.is_(None)) | (Ticket.closed_at >= after))
            .values(closed_at=after + timedelta(days=200), csat=1)
        )
        session.execute(delete(Ticket).where(Ticket.opened_at >= after))
        session.execute(delete(SurveyResponse).where(SurveyResponse.answered_at >= after))
        session.execute(delete(Activity).where(Activity.occurred_at >= after))
        accounts = session.scalars(select(Subscription.account_id).distinct()).all()
    n = len(accounts) * 3
    stamps = [after + timedelta(hours=(i % 40) * 12) for i in range(n)]
    append_events(
        pa.table(
            {
                "event_id": [f"leak-{i}" for i in range(n)],
                "account_id": [accounts[i % len(accounts)] for i in range(n)],
                "user_id": [f"u{i % 7}" for i in range(n)],
                "event": ["login" if i % 2 else "workflow.run" for i in range(n)],
                "ts": stamps,
                "properties": [None] * n,
            },
            schema=EVENT_SCHEMA,
        )
    )


@pytest.mark.slow
def test_rows_up_to_t_are_identical_after_rewriting_everything_after_t(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    generated = cli(
        "demo", "generate", "--accounts", "120", "--months", "14", "--end", "2026-06-01",
    )  # fmt: skip
    assert generated.exit_code == 0, generated.stderr
    days = scoring_days(first_data_day(get_engine()), AS_OF)
    t = days[len(days) // 2]
    upto = [d for d in days if d <= t]
    before = _rows(upto, t)
    labels_of_t = _rows([t - timedelta(days=28), t], t + timedelta(days=HORIZON))
    _perturb_after(t)
    after = _rows(upto, t)

    assert before.num_rows > 300
    # every feature of every row up to t unchanged (labels whose horizon is not over on t are
    # incomplete, never trained on, and may change)
    features = [c for c in before.column_names if c not in ("churned", "contracted")]
    changed = [c for c in features if not before[c].equals(after[c])]
    assert changed == []
    # the labels of every row whose horizon ended by t, unchanged
    assert before["complete"].equals(after["complete"])
    known = before.filter(before["complete"])
    assert known.num_rows > 100
    labels = ["churned", "contracted"]
    assert known.select(labels).equals(after.filter(after["complete"]).select(labels))

    # the labels of t itself read the days after t: everyone churns in the rewritten world
    relabelled = _rows([t - timedelta(days=28), t], t + timedelta(days=HORIZON))
    on_t = np.array(relabelled["day"].to_pylist()) == t
    assert np.array(relabelled["churned"].to_pylist())[on_t].all()
    was = np.array(labels_of_t["churned"].to_pylist())[
        np.array(labels_of_t["day"].to_pylist()) == t
    ]
    assert not was.all()
