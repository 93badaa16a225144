"""This region's heartbeat (``heartbeat#<app>#<region>``): the other region's data-freshness
signal (``switchyard.decision.heartbeat_signal``) and the RPO gate's evidence of when the old
primary was last alive (``switchyard.steps.gates``).

Two functions write it, each first and regardless of what else they do: the monitor at every
evaluation, and while it sleeps between sub-minute evaluations every ``HEARTBEAT_SECONDS``
(``sleep_beating``), so a live region's heartbeat is at most ``heartbeat_period_seconds`` old
(staleness after ``HEARTBEAT_STALE_AFTER_EVALUATIONS`` intervals keeps its meaning); and the
reconciler once a minute (its failure fails the reconciler, whose error alarm then says the
other region sees this one as stale)."""

from __future__ import annotations

import math
from datetime import timedelta

from botocore.exceptions import BotoCoreError, ClientError

from switchyard.config import Detection
from switchyard.contract import HEARTBEAT_SECONDS, MONITOR_SCHEDULE_SECONDS
from switchyard.deps import RunbookDeps
from switchyard.retry import error_code


def write_heartbeat(deps: RunbookDeps) -> str | None:
    """This region's heartbeat into its own replica; the error (code and message) if it failed."""
    try:
        deps.state.write_heartbeat(deps.region, at=deps.now_iso())
    except (ClientError, BotoCoreError) as exc:
        return f"{error_code(exc) or type(exc).__name__}: {exc}"
    return None


def heartbeat_period_seconds(detection: Detection) -> int:
    """The most a live region's heartbeat lags behind it: ``HEARTBEAT_SECONDS`` when the
    monitor runs a minute of sub-minute evaluations per invocation (it beats while it
    sleeps, and past the minute into the next invocation), else one evaluation interval (one
    evaluation per invocation, nothing to sleep through)."""
    interval = detection.evaluation_interval_seconds
    if interval >= MONITOR_SCHEDULE_SECONDS:
        return interval
    return min(interval, HEARTBEAT_SECONDS)


def sleep_beating(deps: RunbookDeps, seconds: float) -> list[str]:
    """Sleep ``seconds`` (``deps.sleep``, measured on ``deps.clock``), writing this region's
    heartbeat every ``HEARTBEAT_SECONDS`` meanwhile; the errors of the writes that failed
    (the next beat tries again). At most ``ceil(seconds / HEARTBEAT_SECONDS)`` beats, so a
    clock that does not advance cannot keep it looping."""
    until = deps.clock() + timedelta(seconds=seconds)
    errors: list[str] = []
    for _ in range(max(0, math.ceil(seconds / HEARTBEAT_SECONDS))):
        if (until - deps.clock()).total_seconds() <= HEARTBEAT_SECONDS:
            break
        deps.sleep(HEARTBEAT_SECONDS)
        error = write_heartbeat(deps)
        if error is not None:
            errors.append(error)
    left = (until - deps.clock()).total_seconds()
    if left > 0:
        deps.sleep(left)
    return errors
