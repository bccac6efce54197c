"""Programme effect on a tiny world computed by hand (docs/programs.md, "Effect")."""

from datetime import date

import pytest

from banso.programs.effect import AccountDays, matched_effect, mean_difference, nearest_control

D = date(2026, 3, 2)


def acct(i, segment, band, usage, health):
    """usage and health: (before, after)."""
    return AccountDays(i, segment, band, usage[0], usage[1], health[0], health[1])


# Attendees: A (smb, green, 10 users) and B (smb, green, 19 users).
A = acct(1, "smb", "green", (10, 14), (60, 70))
B = acct(2, "smb", "green", (19, 18), (50, 55))
# Pool: C1 and C2 share the stratum; C3 (other segment) and C4 (other band) sit nearer A's
# usage but must never be chosen.
C1 = acct(11, "smb", "green", (9, 10), (62, 64))
C2 = acct(12, "smb", "green", (20, 22), (58, 60))
C3 = acct(13, "mid", "green", (10, 30), (60, 90))
C4 = acct(14, "smb", "red", (10, 0), (60, 10))
POOL = [C1, C2, C3, C4]


def test_matching_is_exact_on_segment_and_band_then_nearest_usage():
    assert nearest_control(A, POOL) == C1  # |10-9| = 1 < |10-20| = 10
    assert nearest_control(B, POOL) == C2  # |19-20| = 1 < |19-9| = 10
    assert nearest_control(acct(3, "enterprise", "green", (5, 5), (1, 1)), POOL) is None


def test_ties_go_to_the_lower_account_id():
    twin = acct(10, "smb", "green", (11, 0), (0, 0))  # |10-11| = 1, as C1
    assert nearest_control(A, [C1, twin]) == twin


def test_matched_differences_and_normal_interval_by_hand():
    result = matched_effect([(D, A), (D, B)], {D: POOL})
    # health: A +10 vs C1 +2 -> 8; B +5 vs C2 +2 -> 3. Mean 5.5; s = sqrt(2.5^2 + 2.5^2) =
    # sqrt(12.5); s/sqrt(2) = 2.5; half = 1.96 * 2.5 = 4.9 -> [0.6, 10.4]
    assert result["health"] == {
        "pairs": 2, "difference": 5.5, "ci95": [0.6, 10.4],
        "treated_change": 7.5, "control_change": 2.0,
    }  # fmt: skip
    # usage: A +4 vs C1 +1 -> 3; B -1 vs C2 +2 -> -3. Mean 0; s = sqrt(18); s/sqrt(2) = 3;
    # half = 5.88 -> [-5.88, 5.88]
    assert result["usage"] == {
        "pairs": 2, "difference": 0.0, "ci95": [-5.88, 5.88],
        "treated_change": 1.5, "control_change": 1.5,
    }  # fmt: skip
    assert result["treated"] == 2 and result["unmatched"] == 0


def test_an_attendee_without_a_stratum_is_counted_as_unmatched():
    lonely = acct(3, "enterprise", "green", (5, 5), (1, 1))
    result = matched_effect([(D, A), (D, lonely)], {D: POOL})
    assert result["unmatched"] == 1
    assert result["health"] == {
        "pairs": 1,
        "difference": 8.0,
        "ci95": None,
        "treated_change": 10.0,
        "control_change": 2.0,
    }


def test_pools_are_per_day():
    other_day = date(2026, 4, 1)
    result = matched_effect([(other_day, A)], {D: POOL})
    assert result["unmatched"] == 1 and result["health"]["pairs"] == 0


@pytest.mark.parametrize(
    ("differences", "expected"),
    [
        ([], {"pairs": 0, "difference": None, "ci95": None}),
        ([2.0], {"pairs": 1, "difference": 2.0, "ci95": None}),
        # mean 2; deviations -2, 0, 0, 2 -> s^2 = 8/3, s = 1.63299; s/sqrt(4) = 0.81650;
        # half = 1.96 * 0.81650 = 1.60033
        ([0.0, 2.0, 2.0, 4.0], {"pairs": 4, "difference": 2.0, "ci95": [0.3997, 3.6003]}),
    ],
)
def test_mean_difference(differences, expected):
    assert mean_difference(differences) == expected
