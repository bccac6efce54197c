"""The CSM page: one team member's book (the largest accounts and the My book figures: MRR,
NRR and churn of the last complete month) and their scorecard of a period
(:mod:`banso.evaluation.scorecard`), with the manager's qualitative score."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from banso import dates
from banso.account_views import accounts_list as accounts
from banso.config import get_settings
from banso.dashboard import book as my_book
from banso.errors import BansoError
from banso.evaluation.access import may_score
from banso.evaluation.models import QualitativeScore
from banso.evaluation.periods import Period, parse_period
from banso.evaluation.qualitative import qualitative_scores
from banso.evaluation.scorecard import Scorecard, scorecards
from banso.revenue.fiscal import fiscal_periods
from banso.revenue.months import month_complete, to_date
from banso.team.models import TeamMember
from banso.users.models import User

LARGEST_ROWS = 20


@dataclass(frozen=True)
class CsmView:
    member: TeamMember
    book: my_book.Book
    largest: accounts.AccountPage
    """The book's accounts, the most MRR first."""
    period: Period
    complete: bool
    choices: list[tuple[str, str]]
    """(value, label) of the period picker: this and last fiscal year's quarters and years."""
    card: Scorecard | None
    currency: str
    problem: str | None
    """Why there is no scorecard (a bad evaluation.yaml, no data), in the user's language."""
    may_score: bool
    qualitative: QualitativeScore | None

    @property
    def period_text(self) -> str:
        """The period as a reader sees it, marked "to date" while it is not over."""
        return self.period.label if self.complete else to_date(self.period.label)


def csm_view(session: Session, user: User, member: TeamMember, period: str | None) -> CsmView:
    """The page of ``member`` for ``period`` (default: the fiscal quarter of the last complete
    month). The caller has checked that ``user`` may see this member's scorecard."""
    chosen = parse_period(period) if period else default_period()
    largest = accounts.list_accounts(
        session,
        accounts.AccountFilter(owner_id=member.id, sort="mrr", descending=True),
        page_size=LARGEST_ROWS,
    )
    card, problem, currency = None, None, get_settings().reporting_currency
    try:
        report = scorecards(session, chosen, member_ids=[member.id])
        card, currency = report.cards[0], report.currency
    except BansoError as exc:
        problem = str(exc)
    return CsmView(
        member,
        my_book.book(session, member),
        largest,
        chosen,
        month_complete(chosen.months.last),
        period_choices(),
        card,
        currency,
        problem,
        may_score(session, user, member.id),
        qualitative_scores(session, [member.id], chosen).get(member.id),
    )


def default_period() -> Period:
    """The fiscal quarter that holds the last complete month."""
    month = dates.last_complete_month()
    start = get_settings().fiscal_year_start
    idx = month.year * 12 + month.month - 1
    year = (idx - (start - 1)) // 12
    quarter = (idx - (year * 12 + start - 1)) // 3 + 1
    return parse_period(f"FY{year}-Q{quarter}")


def period_choices() -> list[tuple[str, str]]:
    start = get_settings().fiscal_year_start
    month = dates.last_complete_month()
    this_year = (month.year * 12 + month.month - 1 - (start - 1)) // 12
    choices = []
    for year in (this_year, this_year - 1):
        for label, months in fiscal_periods(year, None, start):
            value = label.replace(" ", "-")
            shown = label if month_complete(months.last) else to_date(label)
            choices.append((value, shown))
    return choices
