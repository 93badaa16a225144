"""The drill's clock: real elapsed time plus the waits the drill skips.

Runbook steps run for real (moto answers in milliseconds), so their durations are
measured with the wall clock. Waiting for the next monitor evaluation (60 s in
production) is skipped by advancing the clock instead of sleeping, so detection time is
measured in the same production units the decision logic uses, without the wait.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class DrillClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._origin = (start or datetime.now(UTC)).timestamp()
        self._started = time.monotonic()
        self._skipped = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        """Seconds since the epoch on the drill's timeline."""
        with self._lock:
            return self._origin + (time.monotonic() - self._started) + self._skipped

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)

    def advance(self, seconds: float) -> None:
        """Skip ``seconds`` of waiting (e.g. until the next scheduled evaluation)."""
        if seconds < 0:
            raise ValueError("the drill clock never goes back")
        with self._lock:
            self._skipped += seconds
