"""The drill clock moves with real time and jumps forward over skipped waits."""

from __future__ import annotations

import pytest

from drill.clock import DrillClock


def test_advance_moves_the_clock_forward_by_at_least_the_skip() -> None:
    clock = DrillClock()
    before = clock()
    clock.advance(60)
    after = clock()
    assert 60 <= after - before < 61


def test_clock_never_goes_back() -> None:
    clock = DrillClock()
    with pytest.raises(ValueError, match="never goes back"):
        clock.advance(-1)
    assert clock.now().tzinfo is not None
