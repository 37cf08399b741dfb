"""A budget's sliding window counter read back: remaining points, reset, retry-after."""

from __future__ import annotations

from graph.rate_window import BudgetState, SlidingWindow


def window(
    previous: int = 0, previous_in: float = 0.0, current: int = 0, current_in: float = 0.0
) -> SlidingWindow:
    """100 points per 50 s window."""
    return SlidingWindow(100, 50, previous, previous_in, current, current_in)


def test_an_unused_budget_is_full_now() -> None:
    assert window().state() == BudgetState(limit=100, remaining=100, reset_seconds=0)


def test_points_spent_this_window_count_until_it_ends_and_one_window_more() -> None:
    # The current window ends in 40 s (its counter lives one window longer, 90 s).
    spent = window(current=60, current_in=90.0)
    assert spent.state() == BudgetState(limit=100, remaining=40, reset_seconds=90)


def test_the_previous_window_counts_by_the_share_still_inside_the_trailing_window() -> None:
    # 80 points, half of that window still trailing: 40 (floored) plus this window's 10.
    half_gone = window(previous=80, previous_in=25.0, current=10, current_in=75.0)
    assert (half_gone.spent, half_gone.remaining) == (50, 50)
    assert window(previous=7, previous_in=25.0).spent == 3


def test_what_fits_pays_now() -> None:
    assert window(current=60, current_in=90.0).pays_in(40) == 0


def test_retry_after_waits_for_the_previous_window_to_shrink_enough() -> None:
    half_gone = window(previous=80, previous_in=25.0, current=10, current_in=75.0)
    # After 6 s: floor(80 x 19 / 50) = 30, and 30 + 10 + 60 = 100 fits; after 5 s, 102.
    assert half_gone.pays_in(60) == 6


def test_retry_after_waits_past_the_current_window_when_it_alone_is_too_full() -> None:
    full = window(current=90, current_in=60.0)
    # The window ends in 10 s; 14 s later floor(90 x 36 / 50) = 64, and 64 + 35 = 99.
    assert full.pays_in(35) == 24


def test_retry_after_is_never_zero_for_what_does_not_fit() -> None:
    # floor(100 x 0.6 / 50) = 1 point spent; all 100 fit 0.1 s from now: say 1 s.
    assert window(previous=100, previous_in=0.6).pays_in(100) == 1


def test_after_adds_points_to_the_current_window() -> None:
    assert window(current=10, current_in=90.0).after(25).state() == BudgetState(100, 65, 90)


def test_a_first_hit_starts_a_window_where_there_was_none() -> None:
    # Redis starts a budget's window at its first hit: gone entirely two windows later.
    assert window().after(30).state() == BudgetState(limit=100, remaining=70, reset_seconds=100)


def test_headers_name_limit_remaining_and_reset() -> None:
    assert BudgetState(limit=100, remaining=85, reset_seconds=2).headers() == {
        "x-ratelimit-limit": "100",
        "x-ratelimit-remaining": "85",
        "x-ratelimit-reset": "2",
    }


def test_what_one_hit_can_surely_take_rounds_the_previous_window_up() -> None:
    # 7 points, half trailing: 3.5 weighed; `remaining` says 97 (floored), but the library
    # compares 3.5 + 97 > 100 and refuses such a hit, so only 96 are surely takeable.
    trailing = window(previous=7, previous_in=25.0)
    assert (trailing.remaining, trailing.takeable) == (97, 96)
    assert window(previous=80, previous_in=25.0, current=10, current_in=75.0).takeable == 50


def test_a_cost_above_the_capacity_waits_two_windows_instead_of_failing() -> None:
    # An empty window and 150 points against a capacity of 100: it never fits, and must
    # not divide by the empty window's zero points.
    empty = SlidingWindow(100, 50, 0, 0.0, 0, 0.0)

    assert empty.pays_in(150) == 100
