"""The sliding-window arithmetic: `Retry-After` is the time until the request's cost fits."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from posegen.ratelimit.window import WindowState, header_seconds


def admitted(state: WindowState, after: float, limit: int, cost: int) -> bool:
    """limits' own rule: floor(weighted) + cost ≤ limit."""
    return math.floor(state.weighted_at(after)) + cost <= limit


def state(previous: int, current: int, left: float, window: float = 60.0) -> WindowState:
    return WindowState(previous, left if previous else 0.0, current, left + window, window)


def test_six_of_ten_in_this_window_leaves_room_for_four_now_and_five_when_the_window_ends() -> None:
    now = state(previous=0, current=6, left=40.0)
    assert now.remaining(10) == 4
    assert now.seconds_until_fits(10, 4) == 0.0
    # The 6 weigh fully until the window ends, then fade: at the boundary they count 6 → 5.99…,
    # whose floor (5) leaves room for 5.
    assert now.seconds_until_fits(10, 5) == 40.0
    assert not admitted(now, 39.99, 10, 5) and admitted(now, 40.01, 10, 5)
    # All 10 fit once the 6 have faded below 1, five sixths into the next window.
    assert now.seconds_until_fits(10, 10) == 40.0 + 60.0 - 60.0 / 6
    assert now.seconds_until_empty() == 100.0


def test_the_previous_window_fades_first() -> None:
    # 9 last window, 1 in this one, 30 s of 60 left: weighted 9 × 0.5 + 1 = 5.5.
    now = state(previous=9, current=1, left=30.0)
    assert now.remaining(10) == 5
    assert now.seconds_until_fits(10, 5) == 0.0
    # 6 needs the weighted count below 5: 9 × (30 − t) / 60 < 4 → t > 30 − 240 / 9.
    assert math.isclose(now.seconds_until_fits(10, 6), 30.0 - 4 * 60.0 / 9)
    assert now.seconds_until_fits(10, 11) == math.inf


def test_header_seconds_lands_strictly_after() -> None:
    assert header_seconds(0.0) == 0
    assert header_seconds(0.2) == 1
    assert header_seconds(40.0) == 41
    assert header_seconds(40.5) == 41


@given(
    previous=st.integers(0, 50),
    current=st.integers(0, 50),
    left=st.floats(0.01, 59.99),
    limit=st.integers(1, 50),
    cost=st.integers(1, 50),
)
def test_the_wait_is_exactly_when_the_cost_fits(
    previous: int, current: int, left: float, limit: int, cost: int
) -> None:
    now = state(previous, current, left)
    wait = now.seconds_until_fits(limit, cost)
    if cost > limit:
        assert wait == math.inf
        return
    assert wait >= 0
    assert admitted(now, wait + 1e-6, limit, cost)
    if wait > 1e-6:
        assert not admitted(now, wait - 1e-6, limit, cost)
    # Waiting the header's whole seconds is always enough.
    assert admitted(now, header_seconds(wait), limit, cost)
