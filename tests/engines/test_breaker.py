"""The circuit breaker's state machine, driven by a fake clock."""

from __future__ import annotations

import pytest

from posegen.engines.breaker import BreakerState, CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """Read the state through a call, so mypy does not narrow it across the clock moving."""
    return breaker.state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_starts_closed_and_allows(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 30, clock=clock)
    assert state_of(breaker) == "closed"
    assert breaker.allow()
    assert breaker.would_allow()
    assert breaker.retry_after() == 0


def test_opens_after_consecutive_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 30, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert state_of(breaker) == "closed"
    breaker.record_failure()
    assert state_of(breaker) == "open"
    assert not breaker.allow()
    assert not breaker.would_allow()
    clock.advance(10)
    assert breaker.retry_after() == pytest.approx(20)


def test_success_resets_the_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 30, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert state_of(breaker) == "closed"


def test_opens_at_once_when_told(clock: FakeClock) -> None:
    breaker = CircuitBreaker(5, 30, clock=clock)
    breaker.record_failure(opens=True)
    assert state_of(breaker) == "open"
    assert not breaker.allow()


def test_half_open_gives_exactly_one_trial(clock: FakeClock) -> None:
    breaker = CircuitBreaker(1, 30, clock=clock)
    breaker.record_failure()
    clock.advance(29.9)
    assert state_of(breaker) == "open"
    clock.advance(0.1)
    assert state_of(breaker) == "half_open"
    # Asking does not take the trial; allowing does.
    assert breaker.would_allow()
    assert breaker.would_allow()
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.would_allow()
    assert breaker.retry_after() == pytest.approx(30)


def test_trial_success_closes(clock: FakeClock) -> None:
    breaker = CircuitBreaker(2, 30, clock=clock)
    breaker.record_failure(opens=True)
    clock.advance(30)
    assert breaker.allow()
    breaker.record_success()
    assert state_of(breaker) == "closed"
    assert breaker.allow()
    assert breaker.allow()
    # The failure count started again from zero.
    breaker.record_failure()
    assert state_of(breaker) == "closed"


def test_trial_failure_reopens_for_the_full_period(clock: FakeClock) -> None:
    breaker = CircuitBreaker(3, 30, clock=clock)
    breaker.record_failure(opens=True)
    clock.advance(45)
    assert breaker.allow()
    breaker.record_failure()  # a single failure is enough in half-open state
    assert state_of(breaker) == "open"
    assert breaker.retry_after() == pytest.approx(30)
    clock.advance(30)
    assert state_of(breaker) == "half_open"


def test_unreported_trial_lapses(clock: FakeClock) -> None:
    breaker = CircuitBreaker(1, 30, clock=clock)
    breaker.record_failure()
    clock.advance(30)
    assert breaker.allow()  # the trial's caller is then cancelled and never reports
    clock.advance(29)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_late_failure_while_open_does_not_extend(clock: FakeClock) -> None:
    breaker = CircuitBreaker(1, 30, clock=clock)
    breaker.record_failure()
    clock.advance(20)
    breaker.record_failure()  # a call started before the breaker opened
    clock.advance(10)
    assert state_of(breaker) == "half_open"


@pytest.mark.parametrize(("failures", "reset"), [(0, 30.0), (1, 0.0)])
def test_rejects_nonsense_settings(failures: int, reset: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        CircuitBreaker(failures, reset)
