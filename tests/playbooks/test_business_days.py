"""CTA due dates count business days: weekends and Japanese public holidays are skipped."""

from datetime import date

import pytest

from banso.business_days import add_business_days, is_business_day

NEW_YEAR_CLOSURE = frozenset({(12, 29), (12, 30), (12, 31), (1, 2), (1, 3)})


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Fri 25 Apr 2025 + 3: Mon 28 (1), Tue 29 昭和の日 skipped, Wed 30 (2), Thu 1 May (3)
        (date(2025, 4, 25), 3, date(2025, 5, 1)),
        # Fri 2 May 2025 + 1: 3-6 May are 憲法記念日, みどりの日, こどもの日, 振替休日
        (date(2025, 5, 2), 1, date(2025, 5, 7)),
        # Tue 28 Apr 2026 + 4: 29 Apr 昭和の日, Thu 30 (1), Fri 1 May (2), weekend, 4-6 May
        # みどりの日, こどもの日, 振替休日 (for Sunday 3 May), Thu 7 (3), Fri 8 (4)
        (date(2026, 4, 28), 4, date(2026, 5, 8)),
        # New Year without company closure: only 1 Jan is a public holiday
        (date(2025, 12, 26), 3, date(2025, 12, 31)),
        (date(2025, 12, 31), 1, date(2026, 1, 2)),
        # 0 days: the day itself if it is a business day, else the next one
        (date(2025, 5, 3), 0, date(2025, 5, 7)),
        (date(2025, 5, 7), 0, date(2025, 5, 7)),
        # Coming of Age Day, 2nd Monday of January 2026 (12 Jan)
        (date(2026, 1, 9), 1, date(2026, 1, 13)),
    ],
)
def test_due_dates_around_golden_week_and_new_year(start: date, days: int, due: date) -> None:
    assert add_business_days(start, days, frozenset()) == due


def test_company_new_year_closure_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_COMPANY_HOLIDAYS", "12-29,12-30,12-31,01-02,01-03")
    # Fri 26 Dec 2025 + 3: closed 29 Dec - 3 Jan, 1 Jan holiday, 4 Jan Sunday -> 5, 6, 7 Jan
    assert add_business_days(date(2025, 12, 26), 3) == date(2026, 1, 7)
    assert add_business_days(date(2025, 12, 26), 3, NEW_YEAR_CLOSURE) == date(2026, 1, 7)
    assert not is_business_day(date(2025, 12, 30))
    assert is_business_day(date(2026, 1, 5))
