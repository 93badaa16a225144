"""GIVEN evaluations every 10 s (the default) WHEN the monitor's once-a-minute schedule
invokes the real handler against moto THEN it runs the minute's six evaluations 10 s apart
on the injected clock, writes this region's heartbeat at each (so the other region reads one
at most 10 s old), records each evaluation's trigger under its own id, and every call it
makes is allowed by the monitor's synthesized policy (checked at teardown).

The deps' ``sleep`` advances the test's clock (Lambda's sleep lets wall time pass); the
Lambda context's remaining time runs on the same clock. moto keeps each region's table
apart, so the standby reads the primary's heartbeat only once copied by hand
(``Controller.replicate_heartbeat``), as the global table would."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from switchyard.contract import (
    HEARTBEAT_OVERLAP_SECONDS,
    HEARTBEAT_SECONDS,
    MONITOR_SCHEDULE_SECONDS,
    MONITOR_TIMEOUT_SECONDS,
)
from switchyard.deps import RunbookDeps
from switchyard.handlers import monitor
from switchyard.model import Decision
from tests.controller.conftest import SCHEDULED_EVENT, Controller, StaticProbe
from tests.controller.route53_verdicts import route53_sees
from tests.fakes import LambdaContextOnTheClock


def invoke_minute(ctl: Controller, deps: RunbookDeps) -> dict[str, Any]:
    """One scheduled invocation of the monitor with the deployed timeout."""
    context = LambdaContextOnTheClock(
        deadline=ctl.clock() + timedelta(seconds=MONITOR_TIMEOUT_SECONDS), clock=ctl.clock
    )
    return monitor.handler(SCHEDULED_EVENT, context, deps=deps)


def test_one_scheduled_invocation_runs_the_minutes_evaluations_and_heartbeats(rds: Controller) -> None:
    # GIVEN the shipped sub-minute evaluations and the primary's monitor (it watches nothing while active)
    primary = rds.config.regions.primary
    start = rds.clock()
    interval = rds.config.detection.evaluation_interval_seconds
    assert interval < 60

    # WHEN the schedule invokes it once
    result = invoke_minute(rds, replace(rds.deps(primary), sleep=rds.clock.advance))

    # THEN a minute of evaluations ran `interval` apart, each recording its own trigger
    assert [evaluation["event_id"] for evaluation in result["evaluations"]] == [
        str(SCHEDULED_EVENT["id"]) + (f"+{offset}s" if offset else "") for offset in range(0, 60, interval)
    ]
    # AND the heartbeat was written every second, at the evaluations and between them, until the
    # overlap past the minute (the next invocation has begun): one write per second of it
    names = rds.topology.names
    heartbeat_writes = [call for call in rds.call_log.mutating() if call.keys == (names.heartbeat_key(primary),)]
    beating = MONITOR_SCHEDULE_SECONDS + HEARTBEAT_OVERLAP_SECONDS
    assert len(heartbeat_writes) == beating // HEARTBEAT_SECONDS
    last = rds.aws("dynamodb", primary).get_item(
        TableName=names.state_table, Key={"pk": {"S": names.heartbeat_key(primary)}}
    )["Item"]["at"]["S"]
    assert last == (start + timedelta(seconds=beating - HEARTBEAT_SECONDS)).isoformat()
    assert result["stopped_early"] is None


def test_a_dark_primary_is_seen_stale_within_a_minute_of_its_last_heartbeat(rds: Controller) -> None:
    # GIVEN the primary's last heartbeat replicated to the standby, then the primary goes dark
    primary, standby = rds.config.regions.pair
    rds.replicate_heartbeat(primary, into=standby)
    rds.alarm_everything(primary)
    probe = StaticProbe(healthy=False)

    # WHEN the standby's monitor runs one scheduled minute of evaluations (manual mode: a
    # decision notifies, this world has no state machine to start)
    manual = rds.config.model_copy(update={"mode": "manual"})
    deps = replace(rds.deps(standby, probe=probe), sleep=rds.clock.advance, config=manual)
    deps = route53_sees(deps, probe, {primary: True})
    result = invoke_minute(rds, deps)

    # THEN the heartbeat turns stale after 3 intervals, inside the same minute
    interval = rds.config.detection.evaluation_interval_seconds
    stale = ["data-freshness" in evaluation["failing_sources"] for evaluation in result["evaluations"]]
    fresh_for = 3 * interval // interval + 1  # evaluations at 0, 1, 2, 3 intervals still see it fresh
    assert stale == [False] * fresh_for + [True] * (60 // interval - fresh_for)
    # AND the evaluations with quorum (Route 53 and the alarms) decide once the hysteresis is met
    fail_after = rds.config.detection.fail_after_evaluations
    decisions = [evaluation["decision"] for evaluation in result["evaluations"]]
    assert decisions[: fail_after - 1] == [Decision.DEGRADED.value] * (fail_after - 1)
    assert decisions[fail_after - 1] == Decision.FAIL_OVER.value
